// The components' public surface, for this program (index.ts) and for other Pulumi programs.
export type { NodeVersion, PlanSku, RedisSku, SignInAudience } from "../contract/catalogue";
export type { CloudName } from "../contract/clouds";
export type { SlotAfterSwap } from "../contract/slots";
export * from "./config";
export * from "./identity";
export * from "./entraApplication";
export * from "./linuxWebApp";
export * from "./sessionRedis";
export * from "./appDeployment";
export * from "./staging-slot";
export * from "./secretlessWebApp";
export * from "./easy-auth";
