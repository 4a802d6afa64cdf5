import { createHash } from "node:crypto";

/** The made-up identifiers of the offline directory and subscription the mocks compute IDs in. */

export const SUBSCRIPTION_ID = "8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e";
/** An obviously made-up tenant: no real directory has this ID. */
export const TENANT_ID = "00000000-0000-4000-8000-00000000feed";
export const DEPLOYER_OBJECT_ID = "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b";
/** Microsoft Graph's app (client) ID, the same in every cloud and tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** A stable GUID derived from `seed`, so IDs are realistic, distinct per resource and identical run to run. */
export function guidFrom(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
