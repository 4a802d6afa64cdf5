import { describe, expect, it } from "vitest";
import { managedIdentityCredential } from "../../app/telemetry/start-telemetry";

describe("telemetry's credential", () => {
  const asked: string[] = [];
  const credential = managedIdentityCredential(() => ({
    async getToken(resource) {
      asked.push(resource);
      return { token: `token-for-${resource}`, expiresOn: new Date(Date.UTC(2030, 0, 1)) };
    },
  }));

  it("gives the managed identity's token for Azure Monitor, however the exporter spells the scope", async () => {
    for (const scope of [
      "https://monitor.azure.com/.default",
      "https://monitor.azure.com/",
      ["https://monitor.azure.com"],
    ]) {
      expect(await credential.getToken(scope)).toEqual({
        token: "token-for-https://monitor.azure.com",
        expiresOnTimestamp: Date.UTC(2030, 0, 1),
      });
    }
  });

  it("refuses any other audience: no other token (the FIC assertion) can reach ingestion", async () => {
    asked.length = 0;
    for (const scope of [
      "api://AzureADTokenExchange/.default",
      "https://graph.microsoft.com/.default",
      "https://x.example/",
    ]) {
      await expect(credential.getToken(scope)).rejects.toThrow(/only Azure Monitor's audience is allowed/);
    }
    expect(asked).toEqual([]);
  });
});
