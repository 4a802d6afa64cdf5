/**
 * A client secret as the client's credential (`client_secret` in the token request body), for a registration that
 * still has password credentials: the state an app is in before its migration to the federated credential.
 *
 * Entra's answers, as its error bodies and Microsoft's troubleshooting guides give them
 * (Azure/azure-sdk-for-net sdk/identity/Azure.Identity/TROUBLESHOOTING.md, "ClientSecretCredential": AADSTS7000215
 * invalid secret, AADSTS7000222 expired secret;
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
 * - no password credential matches: 401 `invalid_client` AADSTS7000215;
 * - the matching one has expired: 401 `invalid_client` AADSTS7000222.
 * Secrets are compared in constant time over their SHA-256 digests, so the comparison's time tells nothing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { EntraError } from "../errors";
import type { EntraState } from "./state";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Throws Entra's error unless `secret` is the text of a current password credential of the registration. */
export function checkClientSecret(state: EntraState, secret: string): void {
  const { registration } = state.ctx;
  const presented = digest(secret);
  const match = (registration.passwordCredentials ?? []).find((p) => timingSafeEqual(digest(p.secretText), presented));
  if (!match) {
    throw new EntraError(
      "invalid_client",
      7000215,
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not " +
        `the client secret ID, for a secret added to app '${registration.clientId}'.`,
      401,
    );
  }
  if (match.endDateTime && Date.parse(match.endDateTime) <= Date.now()) {
    throw new EntraError(
      "invalid_client",
      7000222,
      `The provided client secret keys for app '${registration.clientId}' are expired. Visit the Azure portal to ` +
        "create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials " +
        "for added security: https://aka.ms/certCreds.",
      401,
    );
  }
}
