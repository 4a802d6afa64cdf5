import { readFileSync } from "node:fs";
import { join } from "node:path";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { bootstrapConfigDefaults } from "../../bootstrap/bootstrap-config";
import { REPO } from "../support/repo";
import { type Job, PINNED_USES, lint, workflow, workflowFiles, workflowText } from "../support/workflows";

/**
 * The GitHub Actions workflows, linted by actionlint and read as YAML: what triggers them, what each job may do, how
 * they sign in to Azure, and that nothing they run can change under them.
 */

const files = workflowFiles();
const pr = workflow("pull-request.yml");
const deploy = workflow("deploy.yml");
const allJobs: [string, string, Job][] = files.flatMap((f) =>
  Object.entries(workflow(f).jobs).map(([id, job]) => [f, id, job] as [string, string, Job]),
);
const usesOf = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));

describe("actionlint", () => {
  it("finds the two workflows", () => {
    expect(files).toEqual(["deploy.yml", "pull-request.yml"]);
  });

  it.each(files)("finds nothing wrong in %s", async (file) => {
    expect(await lint(workflowText(file), file)).toEqual([]);
  });

  it("reports a broken workflow, so a clean result means something", async () => {
    const broken = workflowText("deploy.yml")
      .replace("permissions:\n      contents: read", "permissions:\n      content: read")
      .replace("${{ vars.PULUMI_STACK }}", "${{ var.PULUMI_STACK }}");
    const kinds = (await lint(broken, "deploy.yml")).map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(["permissions", "expression"]));
  });

  it.each(files)(
    "knows every input %s passes to an action (checked against the newest major actionlint has metadata for)",
    async (file) => {
      // actionlint checks inputs only for `owner/repo@<tag it knows>`; the pins are commits of newer majors whose
      // inputs
      // are a superset of these (pulumi/actions v7 and azure/login v3 changed the runtime, not the inputs).
      const known: Record<string, string> = {
        "actions/checkout": "v4",
        "actions/setup-node": "v4",
        "azure/login": "v2",
        "pulumi/actions": "v6",
      };
      const retagged = workflowText(file).replace(
        /uses: ([\w.-]+\/[\w.-]+)@[0-9a-f]{40} # v[\d.]+/g,
        (_, action: string) => `uses: ${action}@${known[action]}`,
      );
      expect(retagged).not.toMatch(/@[0-9a-f]{40}/);
      expect(await lint(retagged, file)).toEqual([]);
      const typo = retagged.replace("cloud-url:", "cloud-uri:");
      expect((await lint(typo, file)).map((f) => f.message)).toEqual([
        expect.stringContaining('input "cloud-uri" is not defined in action "pulumi/actions@v6"'),
      ]);
    },
  );
});

describe("triggers", () => {
  it("previews on pull requests into main and nothing else", () => {
    expect(pr.on).toEqual({ pull_request: { branches: ["main"] } });
  });

  it("deploys on pushes to main and nothing else", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
  });

  it.each(files)(
    "%s never runs fork code with the base repository's rights (no pull_request_target or workflow_run)",
    (file) => {
      expect(workflowText(file)).not.toMatch(/pull_request_target|workflow_run/);
    },
  );
});

describe("permissions", () => {
  it.each(files)("%s grants nothing by default", (file) => {
    expect(workflow(file).permissions).toEqual({});
  });

  const expected: Record<string, Record<string, string>> = {
    "pull-request.yml/test": { contents: "read" },
    "pull-request.yml/fork-notice": {},
    "pull-request.yml/preview": { contents: "read", "id-token": "write" },
    "pull-request.yml/comment": { "pull-requests": "write" },
    "deploy.yml/ref-check": {},
    "deploy.yml/deploy": { contents: "read", "id-token": "write" },
  };

  it("lists every job", () => {
    expect(allJobs.map(([f, id]) => `${f}/${id}`).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(allJobs)("%s job %s asks for exactly its own permissions", (file, id, job) => {
    expect(job.permissions).toEqual(expected[`${file}/${id}`]);
  });
});

describe("no expression injection", () => {
  it.each(files)("%s puts no ${{ }} expression inside a run script: values reach scripts through env only", (file) => {
    const scripts = Object.values(workflow(file).jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
    expect(scripts.filter((r) => r.includes("${{"))).toEqual([]);
  });
});

describe("no stored secret", () => {
  it.each(files)("%s reads no secret but GITHUB_TOKEN", (file) => {
    const used = [...workflowText(file).matchAll(/secrets\s*\.\s*([A-Za-z_][\w-]*)|secrets\s*\[/g)].map(
      (m) => m[1] ?? "[dynamic]",
    );
    expect(used.filter((name) => name !== "GITHUB_TOKEN")).toEqual([]);
  });

  it.each(files)("%s sets no Pulumi passphrase or access token and no client secret", (file) => {
    expect(workflowText(file)).not.toMatch(
      /PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN|ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET|client-secret|creds:/,
    );
  });

  it("reads exactly the repository variables the bootstrap outputs, and no others", () => {
    const outputs = [
      ...readFileSync(join(REPO, "bootstrap", "index.ts"), "utf8").matchAll(/^export const ([A-Z_]+) =/gm),
    ].map((m) => m[1]);
    const read = new Set(files.flatMap((f) => [...workflowText(f).matchAll(/vars\.([A-Za-z_]\w*)/g)].map((m) => m[1])));
    expect([...read].sort()).toEqual([...outputs].sort());
  });
});

describe("pinned actions", () => {
  const uses = files.flatMap((f) =>
    workflowText(f)
      .split("\n")
      .map((line) => /^\s*(?:-\s+)?uses:\s*(.+?)\s*$/.exec(line)?.[1])
      .filter((u): u is string => u !== undefined)
      .map((u) => [f, u] as const),
  );

  it("finds the actions", () => {
    expect(uses.length).toBeGreaterThanOrEqual(10);
  });

  it.each(uses)("%s uses %s pinned to a full commit SHA with its version in a comment", (_file, use) => {
    expect(use).toMatch(PINNED_USES);
  });

  it("pins each action to one commit everywhere", () => {
    const shas = new Map<string, Set<string>>();
    for (const [, use] of uses) {
      const m = PINNED_USES.exec(use)!.groups!;
      shas.set(m.action!, (shas.get(m.action!) ?? new Set()).add(`${m.sha} ${m.version}`));
    }
    expect(Object.fromEntries([...shas].map(([a, s]) => [a, [...s]]))).toEqual({
      "actions/checkout": ["3d3c42e5aac5ba805825da76410c181273ba90b1 v7.0.1"],
      "actions/setup-node": ["820762786026740c76f36085b0efc47a31fe5020 v7.0.0"],
      // Tag v3.0.1 of Azure/login (annotated tag 858f4093…, commit f5d393ae…), read from the repository's tags.
      "azure/login": ["f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca v3.0.1"],
      "actions/cache": ["27d5ce7f107fe9357f9df03efb73ab90386fccae v5.0.5"],
      "actions/upload-artifact": ["bbbca2ddaa5d8feaa63e36b76fdaad77386f024f v7.0.0"],
      "actions/download-artifact": ["3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c v8.0.1"],
      "pulumi/actions": ["8e5e406f4007fca908480587cb9893c07090f58d v7.0.0"],
    });
  });

  it.each(allJobs.filter(([, , job]) => usesOf(job, "actions/checkout")))(
    "%s job %s leaves no token in the checkout",
    (_f, _id, job) => {
      expect(usesOf(job, "actions/checkout")!.with).toMatchObject({ "persist-credentials": false });
    },
  );

  it.each(allJobs.filter(([, , job]) => usesOf(job, "actions/setup-node")))(
    "%s job %s runs a Node the project's engines allow",
    (_f, _id, job) => {
      const engines = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).engines.node as string;
      const version = String(usesOf(job, "actions/setup-node")!.with!["node-version"]);
      // A bare major resolves to that line's newest release, which must be within the engines' range for that line.
      expect(version).toMatch(/^\d+$/);
      expect(satisfies(`${version}.999.999`, engines), `the newest Node ${version} against ${engines}`).toBe(true);
    },
  );
});

describe("pull request preview", () => {
  const preview = pr.jobs.preview!;

  it("skips pull requests from forks, which get no OIDC token, and says so in a notice", () => {
    expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const notice = pr.jobs["fork-notice"]!;
    expect(notice.if).toBe("github.event.pull_request.head.repo.full_name != github.repository");
    expect(notice.steps.map((s) => s.run).join("\n")).toMatch(
      /^echo "::notice title=Pulumi preview skipped::.*fork.*no\s+OIDC token/s,
    );
  });

  it("runs only after the tests and both offline plans pass", () => {
    expect(preview.needs).toBe("test");
    expect(pr.jobs.test!.steps.map((s) => s.run).filter(Boolean)).toEqual(
      expect.arrayContaining(["npm ci", "npm run lint", "npm test", "npm run plan", "npm run plan:bootstrap"]),
    );
  });

  it("signs in as the preview identity over OIDC, for both az and the providers", () => {
    expect(preview.env).toEqual({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(usesOf(preview, "azure/login")!.with).toEqual({
      "client-id": "${{ vars.AZURE_PREVIEW_CLIENT_ID }}",
      "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
      "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(preview.environment).toBeUndefined(); // an environment would change the token's subject
  });

  it(
    "previews with the policy pack and posts nothing itself: the job " + "running the pull request's code cannot write",
    () => {
      expect(usesOf(preview, "pulumi/actions")!.with).toEqual({
        command: "preview",
        "stack-name": "${{ vars.PULUMI_STACK }}",
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        "secrets-provider": "${{ vars.PULUMI_SECRETS_PROVIDER }}",
        policyPacks: "policy",
        diff: true,
        "comment-on-pr": false,
      });
      expect(preview.permissions).not.toHaveProperty("pull-requests");
      expect(usesOf(preview, "actions/upload-artifact")!.with).toMatchObject({
        name: "pulumi-preview",
        path: "preview-comment/",
      });
    },
  );

  it("posts the one preview comment from a job that checks out and runs nothing from the pull request", () => {
    const comment = pr.jobs.comment!;
    expect(comment.needs).toBe("preview");
    expect(comment.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(comment.steps.map((s) => s.uses?.split("@")[0]).filter(Boolean)).toEqual(["actions/download-artifact"]);
    expect(usesOf(comment, "actions/download-artifact")!.with).toEqual({
      name: "pulumi-preview",
      path: "preview-comment",
    });
    const script = comment.steps.map((s) => s.run ?? "").join("\n");
    expect(script).not.toMatch(/(^|[\s;&|(])(npm|npx|node|tsx|pulumi|bash|sh|source|\.)\s/m);
    // The text is escaped into <pre>, bounded, and the comment is found by its marker and edited.
    expect(script).toContain("sed -e 's/&/\\&amp;/g' -e 's/</\\&lt;/g' -e 's/>/\\&gt;/g'");
    expect(script).toContain("head -c 60000");
    expect(script).toMatch(/--method PATCH .*-F body=@body\.md/);
  });

  it("cancels a run made obsolete by a newer push to the same pull request", () => {
    expect(pr.concurrency).toEqual({
      group: "pull-request-${{ github.event.pull_request.number }}",
      "cancel-in-progress": true,
    });
  });
});

describe("deploy from main", () => {
  const job = deploy.jobs.deploy!;

  it("refuses any ref but refs/heads/main before entering the environment, with the fix", () => {
    const check = deploy.jobs["ref-check"]!;
    expect(job.needs).toBe("ref-check");
    expect(check.environment).toBeUndefined();
    expect(check.steps[0]!.env).toEqual({ REF: "${{ github.ref }}" });
    expect(check.steps[0]!.run).toContain('if [ "$REF" != "refs/heads/main" ]; then');
    expect(check.steps[0]!.run).toMatch(
      /::error title=Deploy refused::.*Fix: merge the change into main.*branch policy/,
    );
  });

  it.each([
    ["deploy.yml", "deploy"],
    ["pull-request.yml", "preview"],
  ])("%s job %s caches Pulumi's plugins keyed on the lockfile, after npm ci and before Pulumi runs", (file, id) => {
    const steps = workflow(file).jobs[id]!.steps;
    const cache = steps.findIndex((s) => s.uses?.startsWith("actions/cache@"));
    expect(steps[cache]!.with).toEqual({
      path: "~/.pulumi/plugins",
      key: "pulumi-plugins-${{ runner.os }}-${{ hashFiles('package-lock.json') }}",
    });
    expect(cache).toBeGreaterThan(steps.findIndex((s) => s.run === "npm ci"));
    expect(cache).toBeLessThan(steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")));
  });

  it("runs in the environment the deploy identity trusts, whose reviewers can gate it", () => {
    expect(job.environment).toBe(bootstrapConfigDefaults.deployEnvironment);
  });

  it("updates one stack at a time and never cancels an update in progress", () => {
    expect(job.concurrency).toEqual({ group: "pulumi-up-${{ vars.PULUMI_STACK }}", "cancel-in-progress": false });
  });

  it("signs in as the deploy identity over OIDC, for both az and the providers", () => {
    expect(job.env).toEqual({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ vars.AZURE_DEPLOY_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(usesOf(job, "azure/login")!.with!["client-id"]).toBe("${{ vars.AZURE_DEPLOY_CLIENT_ID }}");
  });

  it("runs pulumi up on the team backend with the Key Vault secrets provider and the policy pack", () => {
    expect(usesOf(job, "pulumi/actions")!.with).toMatchObject({
      command: "up",
      "stack-name": "${{ vars.PULUMI_STACK }}",
      "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
      "secrets-provider": "${{ vars.PULUMI_SECRETS_PROVIDER }}",
      policyPacks: "policy",
    });
  });

  it("logs in to Azure before Pulumi runs, since the backend and the deploy command use that login", () => {
    const order = job.steps
      .map((s) => s.uses?.split("@")[0] ?? s.run)
      .filter((s) => s === "azure/login" || s === "pulumi/actions");
    expect(order).toEqual(["azure/login", "pulumi/actions"]);
  });
});
