/**
 * What Azure and Entra offer that this project can choose from, and what it chooses by default: the Linux App Service
 * plan SKUs, the Node.js runtimes, the app registration's sign-in audiences and the bounds of the readiness wait. The rules that check a value against
 * these lists are in rules.ts; the clouds are in clouds.ts.
 */

/** Linux App Service plan SKUs this project knows, with the tier ARM expects and whether "Always On" is allowed. */
export const planSkus = {
  F1: { tier: "Free", alwaysOn: false },
  B1: { tier: "Basic", alwaysOn: true },
  B2: { tier: "Basic", alwaysOn: true },
  B3: { tier: "Basic", alwaysOn: true },
  S1: { tier: "Standard", alwaysOn: true },
  S2: { tier: "Standard", alwaysOn: true },
  S3: { tier: "Standard", alwaysOn: true },
  P0v3: { tier: "PremiumV3", alwaysOn: true },
  P1v3: { tier: "PremiumV3", alwaysOn: true },
  P2v3: { tier: "PremiumV3", alwaysOn: true },
  P3v3: { tier: "PremiumV3", alwaysOn: true },
  P1mv3: { tier: "PremiumMV3", alwaysOn: true },
  P2mv3: { tier: "PremiumMV3", alwaysOn: true },
  P3mv3: { tier: "PremiumMV3", alwaysOn: true },
  P4mv3: { tier: "PremiumMV3", alwaysOn: true },
  P5mv3: { tier: "PremiumMV3", alwaysOn: true },
} as const;
export type PlanSku = keyof typeof planSkus;

/** The plan a new stack runs on: the cheapest tier that allows Always On. */
export const DEFAULT_PLAN_SKU: PlanSku = "B1";

/** Node.js majors App Service offers as `NODE|<major>-lts` on Linux. */
export const nodeVersions = [22, 24] as const;
export type NodeVersion = (typeof nodeVersions)[number];

/** The runtime the sample app is built and tested for. */
export const DEFAULT_NODE_VERSION: NodeVersion = 22;

/** Values of the app registration's `signInAudience`. */
export const signInAudiences = [
  "AzureADMyOrg",
  "AzureADMultipleOrgs",
  "AzureADandPersonalMicrosoftAccount",
  "PersonalMicrosoftAccount",
] as const;
export type SignInAudience = (typeof signInAudiences)[number];

/** Single tenant: only the directory the app is registered in may sign in. */
export const DEFAULT_SIGN_IN_AUDIENCE: SignInAudience = "AzureADMyOrg";

/**
 * Whether Always On is on when not set: wherever the plan allows it. The Free tier forbids it; an existing plan's tier
 * is unknown before deployment, so it is assumed to allow it.
 */
export function alwaysOnByDefault(planSku: PlanSku, onExistingPlan: boolean): boolean {
  return onExistingPlan || planSkus[planSku].alwaysOn;
}

/** The app registration's name when none is given. */
export function defaultDisplayName(webAppName: string): string {
  return `Secretless sign-in (${webAppName})`;
}

/**
 * How long `pulumi up` waits for the deployed app's `/readyz` by default, in minutes: long enough for a new federated
 * credential to propagate in Entra (AADSTS70021 clears within minutes) and for a cold container to start.
 */
export const DEFAULT_READINESS_TIMEOUT_MINUTES = 10;

/** The readiness wait's bounds, in whole minutes: at least a minute, at most two hours. */
export const READINESS_TIMEOUT_MINUTES = { min: 1, max: 120 } as const;
