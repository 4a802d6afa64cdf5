/**
 * The policy pack the Pulumi CLI runs: `pulumi preview --policy-pack policy` (and `pulumi up --policy-pack policy`).
 * Constructing a PolicyPack starts the analyzer's gRPC server, so nothing but the CLI should import this file; the
 * rules live in ./rules/ and their policy form in ./pack.ts. README.md in this folder lists each policy and why.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, makePolicies } from "./pack";

new PolicyPack(PACK_NAME, {
  description:
    "Keeps every stack secretless and hardened: no app secrets, exact federated credentials, " +
    "hardened App Service and storage, narrow role assignments.",
  enforcementLevel: "mandatory",
  policies: makePolicies(),
});
