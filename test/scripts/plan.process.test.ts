import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");
/** The stack files these tests write: a folder of their own, never the repository root. */
const scratch = mkdtempSync(join(tmpdir(), "plan-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `Pulumi.<stack>.yaml` in the scratch folder: the stack name and the file's path as plan prints it. */
function stackFile(stack: string, text: string): { stack: string; file: string } {
  const path = join(scratch, `Pulumi.${stack}.yaml`);
  writeFileSync(path, text);
  return { stack, file: relative(REPO, path) };
}

/** `npm run plan -- [<stack>] [--config-file <file>]`: its exit code and both streams. */
function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { cwd: REPO, timeout: 60_000 };
    execFile(process.execPath, [TSX, "scripts/plan.ts", ...args], options, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run plan, for a new user", () => {
  it("names a missing stack file, the stacks that exist and how to create one, without a raw ENOENT", async () => {
    const { code, stdout, stderr } = await plan("no-such-stack");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain('There is no stack file Pulumi.no-such-stack.yaml for the stack "no-such-stack".');
    expect(stderr).toMatch(/Stacks with a file here: .*\bdev\b/);
    expect(stderr).toContain("cp Pulumi.dev.yaml Pulumi.no-such-stack.yaml");
    expect(stderr).not.toMatch(/ENOENT|\n\s+at /);
  });

  it("names the stack file whose YAML does not parse, and where", async () => {
    const { stack, file } = stackFile("yaml", "config:\n  secretless-entra-webapp:location: [westeurope\n");
    const { code, stderr } = await plan(stack, "--config-file", file);
    expect(code).toBe(1);
    expect(stderr.startsWith(`${file} is not valid YAML: `)).toBe(true);
    expect(stderr).toMatch(/is not valid YAML: .*\(\d+:\d+\)/);
  });

  it(
    "prints a bad configuration once, without a stack trace, says which " +
      "file to edit, and warns about a misspelt key",
    async () => {
      const { stack, file } = stackFile(
        "config",
        "config:\n  secretless-entra-webapp:location: westeurope\n  secretless-entra-webapp:webappname: my-app\n",
      );
      const { code, stdout, stderr } = await plan(stack, `--config-file=${file}`);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toContain(
        `warning: ${file}: "secretless-entra-webapp:webappname" is not a setting this program reads; it ` +
          `is ignored. Did you mean "secretless-entra-webapp:webAppName"?`,
      );
      expect(stderr.match(/Invalid stack configuration/g)).toHaveLength(1);
      expect(stderr).toMatch(/^ {2}- webAppName: is required/m);
      expect(stderr).toContain(
        `Fix the keys above in Pulumi.${stack}.yaml (under \`config:\`, as ` +
          `\`secretless-entra-webapp:<key>: <value>\`)`,
      );
      expect(stderr).not.toMatch(/\n\s+at |StackConfigError|problems: \[/);
    },
  );

  it("prints the region, lists the resource group before what it holds, and counts without ambiguity", async () => {
    const { code, stdout } = await plan();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Azure region: westeurope$/m);
    const tree = stdout.split("\n").filter((line) => /^\s*\+ /.test(line));
    const underApp = tree.filter((line) => /^ {8}\+ /.test(line));
    expect(underApp[0]).toMatch(/\+ azure-native:resources:ResourceGroup {2}secretless-rg$/);
    expect(stdout).toMatch(/\+ azure-native:resources:ResourceGroup {2}secretless-rg\n {14}location {5}westeurope\n/);
    const count = new RegExp(
      String.raw`^(\d+) to create: (\d+) cloud resources, (\d+) local steps \(run on this machine\), plus the stack ` +
        String.raw`and (\d+) components that only group them\.$`,
      "m",
    ).exec(stdout);
    expect(count).not.toBeNull();
    const [total, cloud, local, components] = count!.slice(1).map(Number) as [number, number, number, number];
    expect(total).toBe(tree.length);
    expect(cloud + local + 1 + components).toBe(total);
    expect(tree.filter((line) => /\+ command:local:Command /.test(line))).toHaveLength(local);
    expect(tree.filter((line) => /\+ (secretless:index:|pulumi:pulumi:Stack)/.test(line))).toHaveLength(components + 1);
  });
});
