/**
 * How the app reports a failure to start. On a terminal (someone ran `npm run app:start`): the readable text.
 * Otherwise (App Service's log stream, a log collector): `entry` as one JSON line, like every other log line.
 */
export function startupFailure(
  entry: { level: number; msg: string } & Record<string, unknown>,
  readable: string,
  terminal: boolean,
): string {
  return terminal ? `${readable}\n` : `${JSON.stringify({ ...entry, time: Date.now() })}\n`;
}
