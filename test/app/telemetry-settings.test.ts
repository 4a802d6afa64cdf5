import { describe, expect, it } from "vitest";
import { readTelemetrySettings } from "../../app/telemetry/telemetry-settings";
import { TelemetrySetting } from "../../contract/telemetry";

const KEY = "0e1e3e5e-7a11-4c1d-9e00-a11ce0f1e1d5";
const UAMI = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";
const CONNECTION =
  `InstrumentationKey=${KEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;` +
  "LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;" +
  "ApplicationId=0c0c0c0c-0000-0000-0000-000000000000";

function read(env: Record<string, string>): { settings: ReturnType<typeof readTelemetrySettings>; problems: string[] } {
  const problems: string[] = [];
  return { settings: readTelemetrySettings(env, problems), problems };
}

describe("the telemetry settings", () => {
  it("leave telemetry off when no connection string is set", () => {
    expect(read({})).toEqual({ settings: undefined, problems: [] });
  });

  it("turn telemetry on with the connection string and the managed identity named by the authentication string", () => {
    const { settings, problems } = read({
      [TelemetrySetting.ConnectionString]: CONNECTION,
      [TelemetrySetting.AuthenticationString]: `Authorization=AAD;ClientId=${UAMI}`,
    });
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      connectionString: CONNECTION,
      ingestionEndpoint: "https://westeurope-5.in.applicationinsights.azure.com",
      identityClientId: UAMI,
    });
  });

  it("refuse a connection string without the Entra authentication string: the app never sends with the key", () => {
    const { settings, problems } = read({ [TelemetrySetting.ConnectionString]: CONNECTION });
    expect(settings).toBeUndefined();
    expect(problems).toEqual([expect.stringContaining(`${TelemetrySetting.AuthenticationString} is missing`)]);
    expect(problems[0]).toContain("Authorization=AAD;ClientId=");
  });

  it("refuse an authentication string that is not Entra's or names no identity client ID GUID", () => {
    for (const value of ["Authorization=Key", "Authorization=AAD", "Authorization=AAD;ClientId=my-identity"]) {
      const { problems } = read({
        [TelemetrySetting.ConnectionString]: CONNECTION,
        [TelemetrySetting.AuthenticationString]: value,
      });
      expect(problems).toEqual([expect.stringContaining(`${TelemetrySetting.AuthenticationString} is "${value}"`)]);
    }
  });

  it("refuse a connection string without an instrumentation key GUID or with a plain-http ingestion endpoint", () => {
    const auth = { [TelemetrySetting.AuthenticationString]: `Authorization=AAD;ClientId=${UAMI}` };
    expect(
      read({ ...auth, [TelemetrySetting.ConnectionString]: "IngestionEndpoint=https://x.example/" }).problems,
    ).toEqual([expect.stringContaining("has no InstrumentationKey GUID")]);
    const plain = `InstrumentationKey=${KEY};IngestionEndpoint=http://ingest.example/`;
    expect(read({ ...auth, [TelemetrySetting.ConnectionString]: plain }).problems).toEqual([
      expect.stringContaining("it must be an https URL"),
    ]);
  });

  it("refuse an authentication string without a connection string, saying how to turn telemetry on or off", () => {
    const { problems } = read({ [TelemetrySetting.AuthenticationString]: `Authorization=AAD;ClientId=${UAMI}` });
    expect(problems).toEqual([expect.stringContaining(`${TelemetrySetting.ConnectionString} is not`)]);
  });
});
