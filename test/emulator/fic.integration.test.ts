/**
 * The client assertion checked as a federated identity credential (emulator/fic.ts), on every grant that authenticates
 * the client: one table of cases, run against the authorization-code, refresh-token and client-credentials grants alike
 * (a refresh presents the managed identity's token again, and is checked again).
 */
import { describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator";
import { entraError, FIC_GRANTS, miToken, useEmulator } from "../support/emulator";

const emulator = useEmulator();

interface FicCase {
  name: string;
  /** Changes the registration and/or returns the token-request parameters to change. */
  arrange: (emu: RunningEmulator) => Promise<Record<string, string | undefined>> | Record<string, string | undefined>;
  expected: { status: number; error: string; code: number };
  /** What error_description must contain (string) or match (RegExp). */
  description?: (emu: RunningEmulator) => string | RegExp;
}

const invalidClient = (code: number) => ({ status: 401, error: "invalid_client", code });

const FIC_CASES: FicCase[] = [
  {
    name: "rejects a request without a credential (401 AADSTS7000218)",
    arrange: () => ({ client_assertion: undefined, client_assertion_type: undefined }),
    expected: invalidClient(7000218),
  },
  {
    name: "rejects a client secret: the registration has none (401 AADSTS7000215)",
    arrange: () => ({ client_assertion: undefined, client_secret: "s3cret" }),
    expected: invalidClient(7000215),
  },
  {
    name: "rejects a wrong client_assertion_type (400 AADSTS9002313)",
    arrange: () => ({ client_assertion_type: "urn:example:saml" }),
    expected: { status: 400, error: "invalid_request", code: 9002313 },
  },
  {
    name: "rejects an assertion whose issuer is not the FIC issuer (AADSTS700211)",
    arrange: (emu) => {
      // A FIC written for real Entra while the app talks to the emulator.
      emu.registration.fic.issuer = `https://login.microsoftonline.com/${emu.tenantId}/v2.0`;
      return {};
    },
    expected: invalidClient(700211),
    description: (emu) => `presented assertion issuer '${emu.issuer}'`,
  },
  {
    name: "rejects a FIC whose subject is the UAMI's client id instead of its principal id (AADSTS700213)",
    arrange: (emu) => {
      emu.registration.fic.subject = emu.registration.uami.clientId;
      return {};
    },
    expected: invalidClient(700213),
    description: (emu) => emu.registration.uami.principalId,
  },
  {
    name: "compares the subject case-sensitively (AADSTS7002138 when only the case differs)",
    arrange: (emu) => {
      emu.registration.fic.subject = emu.registration.uami.principalId.toUpperCase();
      return {};
    },
    expected: invalidClient(7002138),
  },
  {
    name: "rejects an MI token requested for another resource (AADSTS700212)",
    arrange: async (emu) => ({ client_assertion: await miToken(emu, "https://management.azure.com/") }),
    expected: invalidClient(700212),
  },
  {
    name: "accepts the GUID aud only through the api://AzureADTokenExchange audience, not on its own (AADSTS700212)",
    arrange: (emu) => {
      emu.registration.fic.audiences = ["api://AzureADTokenExchangeUSGov"];
      return {};
    },
    expected: invalidClient(700212),
  },
  {
    name: "rejects an expired assertion with Entra's time-range message (AADSTS700024)",
    arrange: async (emu) => ({
      client_assertion: await emu.mintManagedIdentityToken({ issuedAtOffsetSeconds: -7200, lifetimeSeconds: 3600 }),
    }),
    expected: invalidClient(700024),
    description: () => /^AADSTS700024: Client assertion is not within its valid time range\. Current time: /,
  },
  {
    name: "rejects an assertion that is not valid yet (AADSTS700024)",
    arrange: async (emu) => ({ client_assertion: await emu.mintManagedIdentityToken({ issuedAtOffsetSeconds: 3600 }) }),
    expected: invalidClient(700024),
  },
  {
    name: "rejects a tampered assertion (AADSTS700027)",
    arrange: async (emu) => {
      const [header, payload, signature] = (await miToken(emu)).split(".");
      const claims = { ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "someone-else" };
      return {
        client_assertion: `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`,
      };
    },
    expected: invalidClient(700027),
  },
  {
    name: "rejects a malformed assertion (AADSTS50027)",
    arrange: () => ({ client_assertion: "not-a-jwt" }),
    expected: invalidClient(50027),
  },
  {
    name: "rejects a token that is not an app-only managed-identity token (AADSTS700229)",
    arrange: async (emu) => ({ client_assertion: await emu.mintManagedIdentityToken({ claims: { idtyp: "user" } }) }),
    expected: invalidClient(700229),
  },
  {
    name: "answers AADSTS70021 while the FIC has not propagated",
    arrange: (emu) => {
      emu.faults.ficNotPropagated = true;
      return {};
    },
    expected: invalidClient(70021),
    description: () => /No matching federated identity record found for presented assertion\. Assertion Issuer: '/,
  },
];

describe.each(Object.keys(FIC_GRANTS) as Array<keyof typeof FIC_GRANTS>)(
  "the %s grant checks the client assertion as a federated identity credential",
  (grant) => {
    it.each(FIC_CASES)("$name", async ({ arrange, expected, description }) => {
      const emu = emulator();
      const send = await FIC_GRANTS[grant](emu);
      const form = await arrange(emu);
      const { status, error, code, body } = await entraError(await send(form));
      expect({ status, error, code }).toEqual(expected);
      const wanted = description?.(emu);
      if (typeof wanted === "string") expect(body.error_description).toContain(wanted);
      else if (wanted) expect(body.error_description).toMatch(wanted);
    });

    it("succeeds once the FIC has propagated", async () => {
      const emu = emulator();
      const send = await FIC_GRANTS[grant](emu);
      emu.faults.ficNotPropagated = true;
      expect((await send()).status).toBe(401);
      emu.faults.ficNotPropagated = false;
      expect((await send()).status).toBe(200);
    });
  },
);
