/**
 * The adopt guardrails: the project's own stack adopting a registration and a web app (Pulumi.adopt.yaml's keys)
 * passes every rule, and each way of pointing the adopt scripts (or the federated credential) at something that is
 * not the stack's own chain fails with its message.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADOPT_REDIRECT_COMMAND, ADOPT_SITE_COMMAND } from "../../components/adoption";
import { evaluateRecorded } from "../../policy/offline";
import { ADOPT_RULE_NAMES, ADOPT_SCRIPTS } from "../../policy/rules/adopt";
import {
  ADOPTED_APP,
  ADOPTED_SITE,
  type RegisteredResource,
  SUBSCRIPTION_ID,
  T,
  guidFrom,
} from "../../offline/azure-mocks";
import { handMade, planMainStack } from "../support/policy";

let adoptStack: RegisteredResource[];
beforeAll(async () => {
  adoptStack = await planMainStack({
    webAppName: ADOPTED_SITE.name,
    existingAppClientId: ADOPTED_APP.clientId,
    existingWebAppResourceGroup: ADOPTED_SITE.resourceGroup,
    existingWebAppName: ADOPTED_SITE.name,
  });
});

const compliant = (): RegisteredResource[] => structuredClone(adoptStack);
const step = (rs: RegisteredResource[], create: string) =>
  rs.find((r) => r.type === T.command && r.inputs.create === create)!;
const setEnv = (r: RegisteredResource, key: string, value: string) => {
  r.inputs.environment[key] = value;
  r.state.environment[key] = value;
};
const otherIdentity =
  `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-other/providers/Microsoft.ManagedIdentity/` +
  "userAssignedIdentities/someone-elses";

interface Variant {
  rule: string;
  broken: string;
  break(rs: RegisteredResource[]): void;
  message: RegExp;
  alsoTrips?: string[];
}

const variants: Variant[] = [
  {
    rule: "adopt-scripts-own-chain",
    broken: "the site step adding an identity the stack does not create",
    break: (rs) => setEnv(step(rs, ADOPT_SITE_COMMAND), "ADOPT_IDENTITY_ID", otherIdentity),
    message: /adds identity ".*someone-elses", which is not this stack's/,
    // The stack's own identity is then worn by nothing, so the FIC trusting it is refused too.
    alsoTrips: ["fic-trust-allowed"],
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the site step presenting another managed identity than the one it adds",
    break: (rs) => setEnv(step(rs, ADOPT_SITE_COMMAND), "ADOPT_MI_CLIENT_ID", guidFrom("another-client")),
    message: /presents managed identity .* but adds identity .*Fix: set ADOPT_MI_CLIENT_ID/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the site step exchanging tokens for another audience than the FIC accepts",
    break: (rs) => setEnv(step(rs, ADOPT_SITE_COMMAND), "ADOPT_TOKEN_EXCHANGE_URL", "api://AzureADTokenExchangeUSGov"),
    message: /exchanges tokens for "api:\/\/AzureADTokenExchangeUSGov", but the federated credential/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the redirect step changing a registration whose FICs do not trust the stack's identity",
    break: (rs) => {
      // The FIC stays on the adopted registration; a second redirect step targets another one.
      const other = structuredClone(step(rs, ADOPT_REDIRECT_COMMAND));
      other.name = "rogue-redirect";
      setEnv(other, "ADOPT_APP_OBJECT_ID", guidFrom("someone-elses-app"));
      rs.push(other);
    },
    message: /changes registration ".*", whose federated credentials do not trust this stack's identity/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "a redirect URI on another host",
    break: (rs) => setEnv(step(rs, ADOPT_REDIRECT_COMMAND), "ADOPT_REDIRECT_URI", "https://evil.example/signin-oidc"),
    message: /registers redirect URI "https:\/\/evil.example\/signin-oidc", which is not https on this stack's site/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "a redirect URI over http",
    break: (rs) =>
      setEnv(
        step(rs, ADOPT_REDIRECT_COMMAND),
        "ADOPT_REDIRECT_URI",
        `http://${ADOPTED_SITE.defaultHostName}/signin-oidc`,
      ),
    message: /which is not https on this stack's site/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the redirect step sending the operator's Graph token to another host",
    break: (rs) => setEnv(step(rs, ADOPT_REDIRECT_COMMAND), "ADOPT_GRAPH_URL", "https://graph.evil.example/v1.0"),
    message: /has ADOPT_GRAPH_URL "https:\/\/graph.evil.example\/v1.0", which is not a cloud's/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the site step sending the operator's ARM token to another host",
    break: (rs) => setEnv(step(rs, ADOPT_SITE_COMMAND), "ADOPT_ARM_SCOPE", "https://arm.evil.example/.default"),
    message: /has ADOPT_ARM_SCOPE "https:\/\/arm.evil.example\/.default", which is not a cloud's/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "the site step claiming another host, so a redirect URI there passes as the stack's site",
    break: (rs) => {
      setEnv(step(rs, ADOPT_SITE_COMMAND), "ADOPT_SITE_HOST", "evil.example");
      setEnv(step(rs, ADOPT_REDIRECT_COMMAND), "ADOPT_REDIRECT_URI", "https://evil.example/signin-oidc");
    },
    message: /has ADOPT_SITE_HOST "evil\.example", which is not a host App Service gives site "contoso-orders"/,
  },
  {
    rule: "adopt-scripts-own-chain",
    broken: "a second site step putting the app's identity on another site too (its own host, consistently)",
    break: (rs) => {
      const other = structuredClone(step(rs, ADOPT_SITE_COMMAND));
      other.name = "rogue-site";
      setEnv(other, "ADOPT_SITE_ID", String(other.inputs.environment.ADOPT_SITE_ID).replace(/[^/]+$/, "rogue-site"));
      setEnv(other, "ADOPT_SITE_HOST", "rogue-site.azurewebsites.net");
      rs.push(other);
    },
    message:
      /^Command "rogue-site" is a second deploy\/adopt-site\.ts step: a stack adopts one site and one registration/,
  },
  {
    rule: "command-runs-project-script",
    broken: "an adopt step whose destroy runs something else than its own --undo",
    break: (rs) => {
      const s = step(rs, ADOPT_SITE_COMMAND);
      s.inputs.delete = "node --import tsx deploy/one-deploy.ts";
      s.state.delete = s.inputs.delete;
    },
    message: /sets "delete", which a deploy step does not need/,
  },
  {
    rule: "command-runs-project-script",
    broken: "a deploy step with a delete hook (only the adopt scripts undo)",
    break: (rs) =>
      rs.push(
        handMade(T.command, "rogue-delete", {
          create: "node --import tsx deploy/wait-ready.ts",
          delete: "node --import tsx deploy/wait-ready.ts --undo",
        }),
      ),
    message: /sets "delete"/,
  },
  {
    rule: "fic-trust-allowed",
    broken: "the FIC on a registration the stack neither creates nor adopts",
    break: (rs) => {
      const fic = rs.find((r) => r.type === T.fic)!;
      fic.inputs.applicationId = `/applications/${guidFrom("someone-elses-app")}`;
      fic.state.applicationId = fic.inputs.applicationId;
    },
    message: /adds a federated credential to application .*, which this stack does not create/,
    // The redirect step's registration then has no FIC trusting the stack's identity.
    alsoTrips: ["adopt-scripts-own-chain"],
  },
];

describe("the adopt guardrails", () => {
  it("pass on the project's own stack adopting a registration and a web app", () => {
    expect(adoptStack.some((r) => r.inputs?.create === ADOPT_SITE_COMMAND)).toBe(true);
    expect(evaluateRecorded(compliant())).toEqual([]);
  });

  it("know the components' own command lines", () => {
    expect(ADOPT_SCRIPTS).toEqual([ADOPT_SITE_COMMAND, ADOPT_REDIRECT_COMMAND]);
  });

  it.each(variants.map((v) => [v.rule, v.broken, v] as const))("%s fails on %s", (_rule, _broken, v) => {
    const rs = compliant();
    v.break(rs);
    const violations = evaluateRecorded(rs);
    expect(violations.filter((x) => x.policy === v.rule).map((x) => x.message)).toContainEqual(
      expect.stringMatching(v.message),
    );
    expect([...new Set(violations.map((x) => x.policy))].sort()).toEqual([v.rule, ...(v.alsoTrips ?? [])].sort());
  });

  it("break every adopt rule at least once", () => {
    expect(ADOPT_RULE_NAMES.filter((name) => !variants.some((v) => v.rule === name))).toEqual([]);
  });
});
