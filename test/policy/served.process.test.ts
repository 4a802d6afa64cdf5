import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rules } from "../../policy/rules";
import { T } from "../../offline/azure-mocks";
import { PACK_CONTEXT, bootstrapLike, planMainStack } from "../support/policy";
import { REPO } from "../support/repo";

/**
 * The pack served exactly as the Pulumi CLI serves a local Node.js policy pack: `@pulumi/pulumi/cmd/run-policy-pack`
 * in the pack's folder (TypeScript through the SDK's ts-node, type-checked), which prints the analyzer's gRPC port.
 * The test then speaks the analyzer protocol the engine speaks, on 127.0.0.1, and stops the pack when done.
 */

// The analyzer protocol's modules, from the SDK the pack itself loads (one @grpc/grpc-js instance).
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdkRequire("@grpc/grpc-js");
const rpc = sdkRequire("./proto/analyzer_grpc_pb");
const pb = sdkRequire("./proto/analyzer_pb");
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb");
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb");

let pack: ChildProcess;
let client: any;

const call = <T>(method: string, request: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  );

const urnOf = (type: string, name: string) => `urn:pulumi:dev::secretless-entra-webapp::${type}::${name}`;
const json = (value: unknown) => Struct.fromJavaScript(JSON.parse(JSON.stringify(value ?? {})));

interface Diagnostic {
  policy: string;
  level: number;
  message: string;
  urn: string;
}
const diagnostics = (res: any): Diagnostic[] =>
  res.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(),
    level: d.getEnforcementlevel(),
    message: d.getMessage(),
    urn: d.getUrn(),
  }));

function analyzeRequest(type: string, name: string, props: Record<string, unknown>) {
  const req = new pb.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(urnOf(type, name));
  req.setProperties(json(props));
  req.setOptions(new pb.AnalyzerResourceOptions());
  return req;
}

beforeAll(async () => {
  pack = spawn(
    process.execPath,
    [join(REPO, "node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js"), "127.0.0.1:0", "."],
    {
      cwd: join(REPO, "policy"),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  pack.stderr!.on("data", (chunk) => (stderr += chunk));
  const [port] = await Promise.race([
    once(pack.stdout!, "data").then(([chunk]) => [String(chunk).trim()]),
    once(pack, "exit").then(([code]) => {
      throw new Error(`the pack exited (${code}) before serving: ${stderr}`);
    }),
  ]);
  expect(port).toMatch(/^\d+$/);
  client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

describe("the pack, served as the CLI serves it", () => {
  it("announces every guardrail as a mandatory policy", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("secretless-guardrails");
    expect(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()])).toEqual(
      rules.map((r) => [r.name, pb.EnforcementLevel.MANDATORY]),
    );
  });

  it("refuses a client secret on an app registration, as a mandatory violation", async () => {
    const res = await call(
      "analyze",
      analyzeRequest("azuread:index/applicationPassword:ApplicationPassword", "app-secret", {
        applicationId: "/applications/x",
        displayName: "ci",
      }),
    );
    expect(diagnostics(res)).toEqual([
      {
        policy: "resource-type-allowed",
        level: pb.EnforcementLevel.MANDATORY,
        message: expect.stringMatching(
          new RegExp(
            String.raw`\nazuread:index\/applicationPassword:ApplicationPassword "app-secret" is not a resource type ` +
              "this pack allows",
          ),
        ),
        urn: "",
      },
      {
        policy: "no-app-credential-resources",
        level: pb.EnforcementLevel.MANDATORY,
        // The SDK sends the policy's description, then the message; the engine adds the resource's URN.
        message: expect.stringMatching(
          new RegExp(
            String.raw`^App registrations and service principals get no client secret.*\nApplicationPassword ` +
              '"app-secret" ' +
              "gives an app registration or service principal a secret",
            "s",
          ),
        ),
        urn: "",
      },
    ]);
  });

  it(
    "passes the main stack's resources and then the stack, and catches " +
      "a FIC subject set to the identity's client ID",
    async () => {
      const resources = await planMainStack();
      const uami = resources.find((r) => r.type === T.uami)!;
      const fic = resources.find((r) => r.type === T.fic)!;
      const brokenFic = { ...fic.inputs, subject: uami.state.clientId };
      for (const r of resources) {
        const res = await call("analyze", analyzeRequest(r.type, r.name, r === fic ? brokenFic : r.inputs));
        expect(diagnostics(res), r.name).toEqual([]);
      }
      const stack = new pb.AnalyzeStackRequest();
      stack.setResourcesList(
        resources.map((r) => {
          const res = new pb.AnalyzerResource();
          res.setType(r.type);
          res.setName(r.name);
          res.setUrn(urnOf(r.type, r.name));
          res.setProperties(json(r === fic ? { ...r.state, subject: uami.state.clientId } : r.state));
          res.setOptions(new pb.AnalyzerResourceOptions());
          return res;
        }),
      );
      const res = await call("analyzeStack", stack);
      expect(diagnostics(res)).toEqual([
        {
          policy: "fic-trusts-webapp-identity",
          level: pb.EnforcementLevel.MANDATORY,
          message: expect.stringMatching(
            /That is the identity's client ID; a FIC's subject is its principal \(object\) ID/,
          ),
          urn: urnOf(fic.type, fic.name),
        },
        {
          policy: "fic-trust-allowed",
          level: pb.EnforcementLevel.MANDATORY,
          message: expect.stringMatching(/which is not the principal ID of an identity a web app of this stack wears/),
          urn: urnOf(fic.type, fic.name),
        },
      ]);
    },
  );

  it(
    "takes the CI repository from --policy-pack-config (the configure " +
      "call), and refuses another repository's subject",
    async () => {
      const resources = [...(await planMainStack()), ...bootstrapLike()];
      const stackOf = (rs: typeof resources) => {
        const req = new pb.AnalyzeStackRequest();
        req.setResourcesList(
          rs.map((r) => {
            const res = new pb.AnalyzerResource();
            res.setType(r.type);
            res.setName(r.name);
            res.setUrn(urnOf(r.type, r.name));
            res.setProperties(json(r.state));
            res.setOptions(new pb.AnalyzerResourceOptions());
            return res;
          }),
        );
        return req;
      };
      const before = diagnostics(await call("analyzeStack", stackOf(resources)));
      expect(before.map((d) => d.policy)).toEqual(["fic-trust-allowed"]);
      expect(before[0]!.message).toMatch(/the pack was not told which repository CI runs in/);

      const configure = new pb.ConfigureAnalyzerRequest();
      const config = new pb.PolicyConfig();
      config.setEnforcementlevel(pb.EnforcementLevel.MANDATORY);
      config.setProperties(json(PACK_CONTEXT));
      configure.getPolicyconfigMap().set("fic-trust-allowed", config);
      await call("configure", configure);
      expect(diagnostics(await call("analyzeStack", stackOf(resources)))).toEqual([]);

      const foreign = resources.map((r) =>
        r.name === "ci-deployer-production"
          ? { ...r, state: { ...r.state, subject: "repo:attacker/secretless-signin:environment:production" } }
          : r,
      );
      expect(diagnostics(await call("analyzeStack", stackOf(foreign)))).toEqual([
        {
          policy: "fic-trust-allowed",
          level: pb.EnforcementLevel.MANDATORY,
          message: expect.stringMatching(
            /trusts GitHub repository "attacker\/secretless-signin" .*not the configured "contoso\/secretless-signin"/,
          ),
          urn: urnOf("azure-native:managedidentity:FederatedIdentityCredential", "ci-deployer-production"),
        },
      ]);
    },
  );
});
