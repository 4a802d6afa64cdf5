/**
 * Where msal-node keeps a user's tokens: in that user's session record, as msal-node's serialized cache (its JSON
 * cache schema). msal-node's own {@link DistributedCachePlugin} loads the record's cache before every cache access and
 * writes it back after one that changed it (a redemption, a refresh); this file only says where the record is.
 *
 * Each token request runs on its own short-lived ConfidentialClientApplication whose in-memory cache only ever holds
 * one session's partition (app/auth/oidc.ts). msal-node 7.2 does not serialize a plugin's before/after pair per
 * cache instance, so one shared application would let two users' concurrent requests load and save each other's
 * tokens; one application per request rules that out by construction.
 *
 * Because the tokens are part of the session record, they go where the session goes: signing out or the session
 * expiring removes them, and the shared store (app/stores/redis.ts), which writes sessions whole, keeps them for every
 * instance: a refresh saved by one is read by the next. Reads and writes are asynchronous, as the stores are.
 */
import { DistributedCachePlugin, type ICacheClient, type IPartitionManager } from "@azure/msal-node";

/** One session's serialized msal-node token cache: read before a token request, written after one that changed it. */
export interface TokenCachePartition {
  /** The serialized cache, or "" when there is none yet. */
  read(): Promise<string>;
  /** Keeps the serialized cache; false when it was not kept (the session ended, or the cache is over its bound). */
  write(serialized: string): Promise<boolean>;
}

/** A partition held in a variable: a sign-in's tokens, before the session they go into exists. */
export function memoryPartition(initial = ""): TokenCachePartition & { readonly value: string } {
  let value = initial;
  return {
    get value() {
      return value;
    },
    read: async () => value,
    async write(serialized) {
      value = serialized;
      return true;
    },
  };
}

/**
 * msal-node's cache plugin over one partition. Its partition manager names the one key there is; msal-node's cache
 * client interface is keyed, so the client checks the key is that one.
 */
export function partitionPlugin(partition: TokenCachePartition): DistributedCachePlugin {
  const KEY = "session";
  const client: ICacheClient = {
    get: async (key) => (key === KEY ? partition.read() : ""),
    set: async (key, value) => {
      if (key === KEY) await partition.write(value);
      return value;
    },
  };
  const partitions: IPartitionManager = {
    getKey: async () => KEY,
    extractKey: async () => KEY,
  };
  return new DistributedCachePlugin(client, partitions);
}
