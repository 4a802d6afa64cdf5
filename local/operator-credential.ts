/**
 * An operator's `TokenCredential` against the local emulator, in place of `DefaultAzureCredential`: each
 * `getToken(scope)` returns an access token the emulator signs for the scope's resource (Microsoft Graph, or the fake
 * ARM's URL), carrying the operator's object id and the permissions given here. The Graph stand-in and the fake ARM
 * (local/fake-arm.ts) verify it and apply their own permission rules, as Graph and ARM do.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import type { RunningEmulator } from "../emulator";

export interface OperatorIdentity {
  /** The operator's object id. */
  readonly oid: string;
  /** Delegated Graph permissions in the Graph token's `scp`. Default "Application.ReadWrite.All". */
  readonly graphScp?: string;
  /** Directory role template ids (`wids`). Default none. */
  readonly wids?: string[];
}

export function operatorCredential(emu: RunningEmulator, operator: OperatorIdentity): TokenCredential {
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const scope = ([] as string[]).concat(scopes)[0] ?? "";
      const resource = scope.replace(/\/\.default$/, "");
      const graph = /graph\.microsoft\.com/i.test(resource);
      const token = await emu.mintOperatorToken({
        resource,
        oid: operator.oid,
        scp: graph ? (operator.graphScp ?? "Application.ReadWrite.All") : "user_impersonation",
        ...(operator.wids ? { wids: operator.wids } : {}),
      });
      return { token, expiresOnTimestamp: Date.now() + 3_000_000 };
    },
  };
}
