import { describe, expect, it } from "vitest";
import { DEFAULT_APPLICATION_OBJECT_ID } from "../../emulator";
import { clientCredentialsRequest, entraError, signIn, tokenRequest, useEmulator } from "../support/emulator";

const SECRET = "Ab1~a-client-secret-for-the-emulator";
const KEY_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const OWNER = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9";
const emulator = useEmulator({
  registration: {
    passwordCredentials: [
      { keyId: KEY_ID, displayName: "legacy", secretText: SECRET, endDateTime: "2999-01-01T00:00:00Z" },
    ],
    owners: [OWNER],
  },
});

const withSecret = (secret: string) => ({
  client_assertion: undefined,
  client_assertion_type: undefined,
  client_secret: secret,
});

async function graph(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${emulator().graphBaseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
}

const operator = (scp = "Application.ReadWrite.All", oid = OWNER) =>
  emulator().mintOperatorToken({ resource: "https://graph.microsoft.com", oid, scp });

describe("a registration with a client secret", () => {
  it("accepts the secret in the client-credentials and code grants", async () => {
    expect((await clientCredentialsRequest(emulator(), withSecret(SECRET))).status).toBe(200);
    const { code, verifier } = await signIn(emulator());
    expect((await tokenRequest(emulator(), { code, code_verifier: verifier, ...withSecret(SECRET) })).status).toBe(200);
  });

  it("answers AADSTS7000215 for a wrong secret and AADSTS7000222 for an expired one, as Entra does", async () => {
    expect(await entraError(await clientCredentialsRequest(emulator(), withSecret("wrong")))).toMatchObject({
      status: 401,
      error: "invalid_client",
      code: 7000215,
    });
    emulator().registration.passwordCredentials![0]!.endDateTime = "2000-01-01T00:00:00Z";
    expect((await entraError(await clientCredentialsRequest(emulator(), withSecret(SECRET)))).code).toBe(7000222);
  });

  it("lists the secret through Graph by hint and key id, never its text, and refuses it once removed", async () => {
    const token = await operator();
    const app = (await (await graph(`/applications(appId='${emulator().registration.clientId}')`, token)).json()) as {
      id: string;
      passwordCredentials: Record<string, unknown>[];
    };
    expect(app.id).toBe(DEFAULT_APPLICATION_OBJECT_ID);
    expect(app.passwordCredentials).toEqual([
      expect.objectContaining({ keyId: KEY_ID, displayName: "legacy", hint: "Ab1", secretText: null }),
    ]);
    expect(JSON.stringify(app)).not.toContain(SECRET);
    const filtered = await graph(`/applications?$filter=appId eq '${emulator().registration.clientId}'`, token);
    expect(((await filtered.json()) as { value: unknown[] }).value).toHaveLength(1);

    const removed = await graph(`/applications/${app.id}/removePassword`, token, {
      method: "POST",
      body: JSON.stringify({ keyId: KEY_ID }),
    });
    expect(removed.status).toBe(204);
    expect((await entraError(await clientCredentialsRequest(emulator(), withSecret(SECRET)))).code).toBe(7000215);
  });

  it("creates a federated credential through Graph that the token endpoint then trusts", async () => {
    const emu = emulator();
    emu.registration.federatedCredentials = [];
    expect((await entraError(await clientCredentialsRequest(emu))).code).toBe(700211);
    const token = await operator();
    const body = {
      name: "app-trusts-mi",
      issuer: emu.issuer,
      subject: emu.registration.uami.principalId,
      audiences: ["api://AzureADTokenExchange"],
    };
    const created = await graph(`/applications/${DEFAULT_APPLICATION_OBJECT_ID}/federatedIdentityCredentials`, token, {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(created.status).toBe(201);
    expect((await clientCredentialsRequest(emu)).status).toBe(200);
    const twoAudiences = await graph(
      `/applications/${DEFAULT_APPLICATION_OBJECT_ID}/federatedIdentityCredentials`,
      token,
      {
        method: "POST",
        body: JSON.stringify({ ...body, name: "other", audiences: ["a", "b"] }),
      },
    );
    expect(twoAudiences.status).toBe(400);
  });

  it("answers 403 Authorization_RequestDenied to an operator without the permission or the ownership", async () => {
    const path = `/applications/${DEFAULT_APPLICATION_OBJECT_ID}/removePassword`;
    const init = { method: "POST", body: JSON.stringify({ keyId: KEY_ID }) };
    for (const token of [
      await operator("Application.Read.All"),
      await operator(undefined, "11111111-2222-4333-8444-555555555555"),
    ]) {
      const res = await graph(path, token, init);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("Authorization_RequestDenied");
    }
    expect(emulator().registration.passwordCredentials).toHaveLength(1);
    expect((await graph(path, "not-a-token", init)).status).toBe(401);
  });
});
