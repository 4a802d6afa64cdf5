/**
 * The guardrails, as pure functions over plain resource descriptions. Nothing here imports `@pulumi/policy` or talks
 * to an engine, so the same rules back both the policy pack the Pulumi CLI runs (`policy/index.ts`, through
 * `policy/pack.ts`) and the offline check `npm run plan` runs over the mocks' planned resources (`policy/offline.ts`).
 *
 * Every message names the resource and says how to fix it. Rules match resource types by their Pulumi type token;
 * azure-native's versioned modules (`azure-native:web/v20240401:WebApp`) count as the default module.
 *
 * The rules live by domain in this folder; this module keeps their one public API and their order, which is the order
 * the CLI lists the policies and reports violations in.
 */
import { redisRules, storageAndRoleRules } from "./access";
import { adoptScriptsOwnChain } from "./adopt";
import { resourceTypeAllowed } from "./allow-list";
import { containerAppImageOwnRegistry, containerAppOwnEnvironment, containerAppRules } from "./container-apps";
import { credentialRules } from "./credentials";
import { easyAuthIdentitySetting, easyAuthRules } from "./easy-auth";
import { githubDeployEnvironmentProtected } from "./github";
import type { PlannedResource, Rule, RuleContext, Violation } from "./model";
import { monitoringRules, monitoringStackRules } from "./monitoring";
import { secretRules } from "./secrets";
import { slotRules } from "./slots";
import {
  ficCount,
  ficTrustsWebAppIdentity,
  webAppBasicAuthOff,
  webAppIdentityMatchesFic,
  webAppTokenExchangeMatchesFic,
} from "./stack";
import {
  apiAccessDelegatedOnly,
  appRolesOwnApp,
  commandRunsProjectScript,
  commandTargetsOwnResources,
  dataStoresPrivate,
  ficTrustAllowed,
  providerSettingsAllowed,
  redirectUrisOwnHost,
  roleAssignmentAllowed,
} from "./trust";
import { webAppRules } from "./web-app";

export type { PlannedResource, ResourceRule, Rule, RuleContext, StackFinding, StackRule, Violation } from "./model";
export { ALLOWED_TYPES, type AllowedType, REFUSED_TYPES } from "./allow-list";
export { findSecrets, secretName, secretValue } from "./secrets";
export { GITHUB_ISSUER, GITHUB_REPOSITORY, GITHUB_SUBJECT, KNOWN_AUDIENCES, MAX_FICS_PER_PARENT } from "./shared";
export { ALLOWED_PROVIDER_SETTINGS, ALLOWED_ROLES, ROLE } from "./trust";

export const rules: readonly Rule[] = [
  resourceTypeAllowed,
  providerSettingsAllowed,
  ...credentialRules,
  ...webAppRules,
  ...secretRules,
  commandRunsProjectScript,
  commandTargetsOwnResources,
  apiAccessDelegatedOnly,
  ...storageAndRoleRules,
  dataStoresPrivate,
  webAppBasicAuthOff,
  ficCount,
  ficTrustsWebAppIdentity,
  ...redisRules,
  webAppIdentityMatchesFic,
  webAppTokenExchangeMatchesFic,
  ficTrustAllowed,
  roleAssignmentAllowed,
  appRolesOwnApp,
  redirectUrisOwnHost,
  ...easyAuthRules,
  easyAuthIdentitySetting,
  ...slotRules,
  githubDeployEnvironmentProtected,
  ...containerAppRules,
  containerAppImageOwnRegistry,
  containerAppOwnEnvironment,
  ...monitoringRules,
  ...monitoringStackRules,
  adoptScriptsOwnChain,
];

/**
 * Runs every rule: resource rules over each resource's inputs (`inputs`, else `props`), stack rules over the outputs
 * (`props`) with the inputs beside them. Violations come in rule order, then resource order.
 */
export function evaluate(resources: readonly PlannedResource[], context: RuleContext = {}): Violation[] {
  const at = (r: PlannedResource | undefined) =>
    r ? { type: r.type, name: r.name, ...(r.urn ? { urn: r.urn } : {}) } : undefined;
  return rules.flatMap((rule): Violation[] => {
    const found: { message: string; resource?: PlannedResource }[] =
      rule.kind === "resource"
        ? resources.flatMap((r) =>
            rule.check({ ...r, props: r.inputs ?? r.props }, context).map((message) => ({ message, resource: r })),
          )
        : rule.check(resources, context);
    return found.map((f) => ({
      policy: rule.name,
      description: rule.description,
      message: f.message,
      resource: at(f.resource),
    }));
  });
}
