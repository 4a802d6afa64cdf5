import type { AzureMocks } from "../offline/azure-mocks";

/** `type::name` of the resource a URN names (`urn:pulumi:<stack>::<project>::<parent types$type>::<name>`). */
function keyOf(urn: string): string {
  const parts = urn.split("::");
  const name = parts.pop()!;
  return `${parts.pop()!.split("$").pop()!}::${name}`;
}

/**
 * The longest chain of resource creations that must happen one after another on a fresh `pulumi up`: a resource
 * waits for every resource it depends on (its input Outputs' resources and its `dependsOn`; the parent is not a
 * dependency, and components create nothing). Returns the chain, first creation first; its length is the depth.
 */
export function creationChain(mocks: Pick<AzureMocks, "resources" | "dependencies">): string[] {
  const custom = new Set(mocks.resources.filter((r) => r.custom).map((r) => `${r.type}::${r.name}`));
  const longest = new Map<string, string[]>();
  const chainTo = (key: string, visiting: Set<string>): string[] => {
    const known = longest.get(key);
    if (known) return known;
    if (visiting.has(key)) throw new Error(`dependency cycle through ${key}`);
    visiting.add(key);
    let best: string[] = [];
    for (const urn of mocks.dependencies.get(key) ?? []) {
      const dep = keyOf(urn);
      if (!custom.has(dep)) continue;
      const chain = chainTo(dep, visiting);
      if (chain.length > best.length) best = chain;
    }
    visiting.delete(key);
    const chain = [...best, key];
    longest.set(key, chain);
    return chain;
  };
  let deepest: string[] = [];
  for (const key of custom) {
    const chain = chainTo(key, new Set());
    if (chain.length > deepest.length) deepest = chain;
  }
  return deepest;
}
