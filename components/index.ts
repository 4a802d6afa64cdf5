// The components' public surface, for this program (index.ts) and for other Pulumi programs.
export type { NodeVersion, PlanSku, RedisSku, SignInAudience } from "../contract/catalogue";
export type { CloudName } from "../contract/clouds";
export type { SlotAfterSwap } from "../contract/slots";
export type { Hosting } from "../contract/container-apps";
export * from "./stack-config";
export * from "./identity";
export * from "./log-workspace";
export * from "./entra-application";
export * from "./linux-web-app";
export * from "./session-redis";
export * from "./app-deployment";
export * from "./staging-slot";
export * from "./secretless-web-app";
export * from "./easy-auth";
export * from "./container-app-host";
