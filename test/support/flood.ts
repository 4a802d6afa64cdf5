/** A bounded flood of requests on loopback: `total` GETs, `concurrency` at a time, statuses counted. */
export async function flood(
  url: string,
  total: number,
  concurrency: number,
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const res = await fetch(url, { redirect: "manual", headers: headers(i) });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}
