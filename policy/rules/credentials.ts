/** App registrations without credentials, and federated identity credentials of the exact shape Entra accepts. */
import { clouds } from "../../contract/clouds";
import { isGuid } from "../../contract/settings";
import { type ResourceRule, resourceRule } from "./model";
import {
  GITHUB_ISSUER,
  GITHUB_SUBJECT,
  KNOWN_AUDIENCES,
  KNOWN_INSTANCES,
  isFic,
  isFlexibleFic,
  named,
  ref,
  show,
} from "./shared";

const CREDENTIAL_TYPES = [
  "ApplicationPassword",
  "ServicePrincipalPassword",
  "ApplicationCertificate",
  "ServicePrincipalCertificate",
  "ServicePrincipalTokenSigningCertificate",
  "SynchronizationSecret",
];
const CREDENTIAL_INPUTS = ["password", "passwords", "passwordCredentials", "keyCredentials"];
const FIX_SECRETLESS =
  "The app proves itself with its managed identity's token through a federated identity credential; it needs no " +
  "secret.";

function issuerCloud(issuer: unknown): string | undefined {
  if (typeof issuer !== "string") return undefined;
  for (const [cloud, { instance }] of Object.entries(clouds)) {
    const m = issuer.startsWith(instance) ? /^([^/]+)\/v2\.0$/.exec(issuer.slice(instance.length)) : null;
    if (m && isGuid(m[1]!)) return cloud;
  }
  return undefined;
}

export const credentialRules: readonly ResourceRule[] = [
  resourceRule(
    "no-app-credential-resources",
    "App registrations and service principals get no client secret, password or certificate resource.",
    named(...CREDENTIAL_TYPES),
    (r) => [
      `${ref(r)} gives an app registration or service principal a secret or certificate credential. Fix: delete it. ` +
        `${FIX_SECRETLESS}`,
    ],
  ),
  resourceRule(
    "no-app-credential-inputs",
    "App registrations and service principals declare no password or key credential inline.",
    named("Application", "ApplicationRegistration", "ServicePrincipal"),
    (r) =>
      CREDENTIAL_INPUTS.filter((k) => {
        const v = r.props[k];
        return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
      }).map((k) => `${ref(r)} sets "${k}", a secret or certificate credential. Fix: remove "${k}". ${FIX_SECRETLESS}`),
  ),
  resourceRule(
    "fic-issuer",
    "A federated identity credential trusts Entra's v2.0 issuer of a known cloud, or GitHub Actions for CI identities.",
    isFic,
    (r) => {
      const issuer = r.props.issuer;
      if (issuer === GITHUB_ISSUER || issuerCloud(issuer)) return [];
      return [
        `${ref(r)} trusts issuer ${show(issuer)}. Fix: for a managed identity use "{instance}{tenant GUID}/v2.0" ` +
          `with instance one of ${KNOWN_INSTANCES.join(", ")}; for a GitHub Actions identity use "${GITHUB_ISSUER}".`,
      ];
    },
  ),
  resourceRule(
    "fic-audience",
    "A federated identity credential accepts exactly one audience: its cloud's token-exchange audience.",
    isFic,
    (r) => {
      const audiences = r.props.audiences;
      const cloud = issuerCloud(r.props.issuer) as keyof typeof clouds | undefined;
      const expected = cloud ? [clouds[cloud].tokenExchangeAudience] : KNOWN_AUDIENCES;
      if (!Array.isArray(audiences) || audiences.length !== 1) {
        return [
          `${ref(r)} has audiences ${show(audiences)}; it must have exactly one. Fix: set audiences to ` +
            `["${expected[0]}"].`,
        ];
      }
      if (!expected.includes(audiences[0])) {
        return [
          `${ref(r)} accepts audience ${show(audiences[0])}, not ` +
            `${cloud ? `the ${cloud} cloud's token-exchange audience` : "a known token-exchange audience"}. Fix: set ` +
            `audiences to [${expected.map((a) => `"${a}"`).join(" or ")}].`,
        ];
      }
      return [];
    },
  ),
  resourceRule(
    "fic-subject",
    "A federated identity credential's subject has the issuer's shape: a managed identity's principal ID (GUID), or " +
      "repo:OWNER/REPO:… / repo:OWNER@ID/REPO@ID:… for GitHub.",
    (type) => isFic(type) && !isFlexibleFic(type),
    (r) => {
      const subject = r.props.subject;
      if (r.props.issuer === GITHUB_ISSUER) {
        return typeof subject === "string" && GITHUB_SUBJECT.test(subject)
          ? []
          : [
              `${ref(r)} trusts GitHub subject ${show(subject)}. Fix: use "repo:OWNER/REPO:environment:NAME", ` +
                `"repo:OWNER/REPO:ref:refs/heads/BRANCH", "repo:OWNER/REPO:ref:refs/tags/TAG" or ` +
                `"repo:OWNER/REPO:pull_request" (no wildcards), with OWNER/REPO in GitHub's classic form or its ` +
                `immutable form OWNER@OWNER_ID/REPO@REPO_ID.`,
            ];
      }
      if (!issuerCloud(r.props.issuer)) return []; // fic-issuer reports it
      return typeof subject === "string" && isGuid(subject)
        ? []
        : [
            `${ref(r)} trusts subject ${show(subject)}, which is not a GUID. Fix: set subject to the managed ` +
              `identity's principal ID (its object ID, not its client ID).`,
          ];
    },
  ),
];
