/**
 * The migration off a client secret, phase by phase (README "Migrate off a client secret"). Every phase reads first,
 * prints what it found and what it will do, checks the operator's permissions for every change it will make, and only
 * then acts; re-running a phase that is done changes nothing. Until `delete-secret`, each phase ends with the one
 * command that goes back.
 *
 * Output: names, ids, hints (a secret's first three characters, as Graph reports them), expiry dates and source
 * types. Setting values are read (the site's settings are one collection) but stay in memory: they are never printed,
 * and every line passes a guard that masks any value read from a secret-holding setting, should one ever slip in.
 */
import type { TokenCredential } from "@azure/identity";
import { credentialEntries, isSecretCredential, secretSettingNames } from "../contract/credential-list";
import { parseReadinessBody, READINESS_ADVICE } from "../contract/readiness";
import { SIGNED_ASSERTION_FROM_MANAGED_IDENTITY } from "../contract/settings";
import { Arm, ArmRequestError, ArmSite, ArmUserAssignedIdentity, SiteAction } from "../deploy/arm-site";
import { DeployStepError, ExitCode, networkErrorCode, oneLine, sleep } from "../deploy/cli";
import { GraphApplication, GraphRequestError } from "./graph-application";
import { type MigrateOptions, targetFlags } from "./options";
import {
  armActionsFor,
  describeChange,
  describeCredentials,
  isEmpty,
  managedIdentityFirst,
  matchingFic,
  type Observed,
  planAdd,
  planRemoveSecret,
  planRollback,
  roleFor,
  type Target,
  undoChange,
} from "./plan";

export interface MigrateDeps {
  /** The operator's credential (DefaultAzureCredential in the command; a test's otherwise). */
  readonly credential: TokenCredential;
  /** Output lines. */
  readonly log: (line: string) => void;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** The secret for `rollback --secret-stdin`: read by the caller from stdin. */
  readonly readSecret?: () => Promise<string>;
}

/** Runs one phase. Throws a DeployStepError (message + fix + exit code) when it stops. */
export async function runMigration(options: MigrateOptions, deps: MigrateDeps): Promise<void> {
  const secrets = new Set<string>();
  const log = (line: string) => deps.log(mask(line, secrets));
  const m = new Migration(options, { ...deps, log }, secrets);
  try {
    await m.run();
  } catch (error) {
    throw asStepError(error, secrets);
  }
}

class Migration {
  private readonly site: ArmSite;
  private readonly identity: ArmUserAssignedIdentity;
  private readonly arm: Arm;
  private readonly graph: GraphApplication;
  private readonly back: string;
  private readonly log: (line: string) => void;

  constructor(
    private readonly o: MigrateOptions,
    private readonly deps: MigrateDeps,
    private readonly secrets: Set<string>,
  ) {
    const arm = { resourceManagerUrl: o.resourceManagerUrl, credential: deps.credential, fetch: deps.fetch };
    this.site = new ArmSite({ ...arm, siteId: o.siteId });
    this.identity = new ArmUserAssignedIdentity({ ...arm, identityId: o.identityId });
    this.arm = new Arm(arm);
    this.graph = new GraphApplication({
      graphBaseUrl: o.graphBaseUrl,
      graphScope: o.graphScope,
      credential: deps.credential,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    this.back = `npm run migrate -- rollback ${targetFlags(o)}`;
    this.log = deps.log;
  }

  async run(): Promise<void> {
    const observed = await this.observe();
    switch (this.o.phase) {
      case "inspect":
        return this.inspect(observed);
      case "add":
        return this.add(observed);
      case "prove":
        return this.proveOnly(observed);
      case "remove-secret":
        return this.removeSecret(observed);
      case "delete-secret":
        return this.deleteSecret(observed);
      case "rollback":
        return this.rollback(observed);
    }
  }

  /** Reads the registration, its FICs, the site, its settings and identity, and the user-assigned identity. */
  private async observe(): Promise<Observed> {
    const app = await this.graph.byAppId(this.o.clientId);
    if (!app) {
      throw new DeployStepError(
        `no app registration with client id ${this.o.clientId} in your tenant`,
        "Check --client-id (Entra admin center > App registrations > Application (client) ID) and that you are " +
          "signed in to the registration's tenant (az login --tenant <tenant id>).",
        ExitCode.NotFound,
      );
    }
    const [fics, site, siteIdentity, settings, identity] = await Promise.all([
      this.graph.federatedCredentials(app.id),
      this.site.describe(),
      this.site.identity(),
      this.site.settings(),
      this.identity.get(),
    ]);
    // Values of secret-holding settings, for the output guard (Key Vault references are not secrets themselves).
    for (const name of secretSettingNames(settings)) {
      const value = settings[name];
      if (value && value.length >= 6 && !/^\s*@Microsoft\.KeyVault\(/i.test(value)) this.secrets.add(value);
    }
    return { app, fics, site, siteIdentity, settings, identity };
  }

  private target(o: Observed): Target {
    const tenant = o.identity?.tenantId || this.tenantId || "";
    return {
      identityId: this.o.identityId,
      issuer: `${this.o.instance}${tenant}/v2.0`,
      audience: this.o.tokenExchangeAudience,
      ficName: this.o.ficName,
    };
  }

  private tenantId: string | undefined;

  private async inspect(o: Observed): Promise<void> {
    this.tenantId = await this.operatorTenant();
    this.printState(o);
    const plan = planAdd(o, this.target(o));
    this.log("next: add would");
    if (plan.createIdentity) this.log(`  create the user-assigned identity ${this.o.identityId} in ${o.site.location}`);
    if (plan.attachIdentity) this.log("  put the identity on the site (next to the identities it wears)");
    if (plan.createFic) this.log(`  create the federated credential "${this.o.ficName}" on the registration`);
    if (!plan.settings)
      this.log("  write the credential list: the new identity first, the existing credentials after it");
    else if (isEmpty(plan.settings))
      this.log("  change no setting: the credential list already starts with the identity");
    else for (const line of describeChange(plan.settings)) this.log(`  ${line}`);
    for (const p of plan.problems) this.log(`problem: ${p}`);
    // What add would need that the operator lacks, read the same way add checks it (nothing is attempted).
    const missing = await this.missingArm(armActionsFor(plan, this.o.siteId, this.o.identityId));
    const graphProblem = plan.createFic ? await this.graph.writeProblem(o.app.id) : undefined;
    if (missing.length === 0 && !graphProblem) this.log("permissions: you have every permission add needs");
    for (const line of [...missing, ...(graphProblem ? [`Microsoft Graph: ${graphProblem}`] : [])]) {
      this.log(`permission missing for add: ${line}`);
    }
    this.log("nothing was changed (inspect is read-only)");
    const added =
      !plan.createIdentity &&
      !plan.attachIdentity &&
      !plan.createFic &&
      plan.settings !== undefined &&
      isEmpty(plan.settings) &&
      plan.problems.length === 0;
    if (!added) {
      this.log(`next phase: npm run migrate -- add ${targetFlags(this.o)}`);
      return;
    }
    // add is done (re-running it would change nothing): point on to the proof, and back, as add itself does.
    this.log(`next phase: npm run migrate -- prove ${targetFlags(this.o)} --readyz-url https://<host>/readyz`);
    this.log(`way back: ${this.back}`);
  }

  private printState(o: Observed): void {
    this.log(`registration: ${o.app.displayName} (client id ${o.app.appId}, object id ${o.app.id})`);
    if (o.app.passwordCredentials.length === 0) this.log("  client secrets: none");
    for (const p of o.app.passwordCredentials) {
      this.log(`  client secret "${p.displayName}": hint ${p.hint}…, key id ${p.keyId}, ${expiry(p.endDateTime)}`);
    }
    for (const k of o.app.keyCredentials) {
      this.log(`  certificate "${k.displayName}" (${k.type}): key id ${k.keyId}, ${expiry(k.endDateTime)}`);
    }
    if (o.fics.length === 0) this.log("  federated credentials: none");
    for (const f of o.fics) {
      this.log(
        `  federated credential "${f.name}": issuer ${f.issuer}, subject ${f.subject}, ` +
          `audience ${f.audiences.join(",")}`,
      );
    }
    this.log(
      `site: ${this.o.siteId.split("/").pop()} ` +
        `(${o.site.kind}, ${o.site.location}, ${o.site.linuxFxVersion ?? "no runtime"})`,
    );
    this.log(
      `  identity: ${o.siteIdentity.type}${o.siteIdentity.userAssignedIdentityIds.map((id) => `\n    ${id}`).join("")}`,
    );
    this.log("  credential list (tried in this order):");
    for (const line of describeCredentials(o.settings)) this.log(`    ${line}`);
    const secretNames = secretSettingNames(o.settings);
    this.log(
      `  settings holding secrets or Key Vault references: ${secretNames.length ? secretNames.join(", ") : "none"}`,
    );
    this.log(
      o.identity
        ? `user-assigned identity: ${this.o.identityId.split("/").pop()} ` +
            `(client id ${o.identity.clientId}, principal id ${o.identity.principalId})`
        : `user-assigned identity: ${this.o.identityId.split("/").pop()} does not exist yet`,
    );
  }

  private async add(o: Observed): Promise<void> {
    this.tenantId = await this.operatorTenant();
    const plan = planAdd(o, this.target(o));
    if (plan.problems.length) {
      throw new DeployStepError(plan.problems.join("; "), "Nothing was changed.", ExitCode.BadInput);
    }
    // Every permission first: a missing one stops the phase before its first change.
    const missing = await this.missingArm(armActionsFor(plan, this.o.siteId, this.o.identityId));
    const graphProblem = plan.createFic ? await this.graph.writeProblem(o.app.id) : undefined;
    this.stopOnMissing(missing, graphProblem);

    let identity = o.identity;
    if (plan.createIdentity) {
      const made = await this.identity.ensure(o.site.location);
      identity = made;
      this.log(`created the user-assigned identity (client id ${made.clientId}, principal id ${made.principalId})`);
    } else this.log(`the user-assigned identity exists (client id ${identity!.clientId})`);
    if (plan.attachIdentity) {
      await this.site.addUserAssignedIdentity(this.o.identityId);
      this.log("put the identity on the site");
    } else this.log("the site already wears the identity");
    const target = this.target({ ...o, identity });
    if (!matchingFic(await this.graph.federatedCredentials(o.app.id), target, identity!.principalId)) {
      await this.graph.createFederatedCredential(o.app.id, {
        name: this.o.ficName,
        issuer: target.issuer,
        subject: identity!.principalId,
        audience: target.audience,
        description: `The app's managed identity ${this.o.identityId.split("/").pop()} signs in for it (no secret).`,
      });
      this.log(
        `created the federated credential "${this.o.ficName}" ` +
          `(issuer ${target.issuer}, subject ${identity!.principalId}, audience ${target.audience})`,
      );
    } else this.log("the registration already trusts the identity (federated credential in place)");

    const settings = await this.site.settings();
    const change = planAdd({ ...o, identity, settings }, target).settings!;
    if (isEmpty(change)) this.log("the credential list already starts with the managed identity");
    else {
      await this.site.applySettings(change);
      for (const line of describeChange(change)) this.log(`  ${line}`);
      this.log("wrote the credential list: the managed identity first, the existing credentials after it");
    }
    for (const line of describeCredentials(await this.site.settings())) this.log(`    ${line}`);
    this.log("a new federated credential can take a few minutes to work everywhere (AADSTS70021 until then)");
    this.log(`next phase: npm run migrate -- prove ${targetFlags(this.o)} --readyz-url https://<host>/readyz`);
    this.log(`way back: ${this.back}`);
  }

  private async proveOnly(o: Observed): Promise<void> {
    const identity = this.requireMigrated(o);
    await this.prove(identity.clientId);
    this.log(`next phase: npm run migrate -- remove-secret ${targetFlags(this.o)} <the same proof flag>`);
    this.log(`way back: ${this.back}`);
  }

  private requireMigrated(o: Observed): NonNullable<Observed["identity"]> {
    if (!o.identity || !managedIdentityFirst(o.settings, o.identity.clientId)) {
      throw new DeployStepError(
        "the site's credential list does not start with the managed identity",
        `Run the add phase first: npm run migrate -- add ${targetFlags(this.o)}`,
        ExitCode.BadInput,
      );
    }
    return o.identity;
  }

  /**
   * The proof that the app signs in with its managed identity, by the operator's choice of proof. Silence is not
   * proof: a timeout, an error or an answer that names another credential fails.
   */
  private async prove(identityClientId: string): Promise<void> {
    const proof = this.requireProof();
    if (proof.kind === "operator") {
      this.log("proof: the operator confirmed a sign-in to the app after the last change (--confirmed-by-operator)");
      return;
    }
    const deadline = Date.now() + this.o.proofTimeoutMs;
    let last = "no answer yet";
    for (;;) {
      const verdict = await this.probe(proof, identityClientId);
      if (verdict.ok) {
        this.log(`proof: ${verdict.said}`);
        return;
      }
      last = verdict.said;
      if (!verdict.keepWaiting || Date.now() + this.o.proofIntervalMs > deadline) break;
      this.log(`waiting: ${verdict.said}`);
      await sleep(this.o.proofIntervalMs);
    }
    throw new DeployStepError(
      `the app did not prove it signs in with the managed identity: ${last}`,
      "Nothing further was changed by this phase. Check the app's log, the federated credential (inspect), and run " +
        `this phase again. Way back: ${this.back}`,
      ExitCode.Failed,
    );
  }

  /** The proof flag, or the error that says there is none (checked before any change). */
  private requireProof(): NonNullable<MigrateOptions["proof"]> {
    const proof = this.o.proof;
    if (!proof) {
      throw new DeployStepError(
        "no proof given: silence is not proof that the app signs in without its secret",
        "Pass --readyz-url https://<host>/readyz for the sample app, --proof-url <a URL of your app that answers " +
          "200 only after a token redemption with its current credential>, or --confirmed-by-operator after you " +
          "signed in to the app yourself since the last phase.",
        ExitCode.BadInput,
      );
    }
    return proof;
  }

  private async probe(
    proof: { kind: "readyz" | "url"; url: string },
    identityClientId: string,
  ): Promise<{ ok: boolean; said: string; keepWaiting: boolean }> {
    let response: Response;
    try {
      response = await (this.deps.fetch ?? fetch)(proof.url, {
        redirect: "manual",
        signal: AbortSignal.timeout(30_000),
        headers: { "cache-control": "no-cache" },
      });
    } catch (error) {
      return { ok: false, keepWaiting: true, said: `${proof.url} did not answer (${oneLine(String(error), 120)})` };
    }
    if (proof.kind === "url") {
      await response.body?.cancel();
      return response.status === 200
        ? { ok: true, keepWaiting: false, said: `${proof.url} answered 200` }
        : { ok: false, keepWaiting: true, said: `${proof.url} answered ${response.status}, not 200` };
    }
    const body = parseReadinessBody(await response.json().catch(() => undefined));
    if (!body) return { ok: false, keepWaiting: true, said: `${proof.url} did not answer with the readiness contract` };
    if (body.status !== "ready") {
      const advice = READINESS_ADVICE[body.reason];
      return { ok: false, keepWaiting: advice.keepWaiting, said: `not ready: ${advice.summary} [${body.reason}]` };
    }
    if (body.credential) {
      if (body.credential.sourceType === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY) {
        return {
          ok: true,
          keepWaiting: false,
          said:
            `/readyz: the trust chain works with credential ${body.credential.index} ` +
            `(${body.credential.sourceType})`,
        };
      }
      return {
        ok: false,
        keepWaiting: true,
        said:
          `/readyz: the app signs in with credential ${body.credential.index} (${body.credential.sourceType}), ` +
          "not the managed identity: Entra rejects the managed identity's token so far",
      };
    }
    // No credential named: the app has a single credential. It proves the identity only if that is the identity.
    const settings = await this.site.settings();
    const single = credentialEntries(settings).length === 1 && managedIdentityFirst(settings, identityClientId);
    return single
      ? { ok: true, keepWaiting: false, said: "/readyz: ready, and the managed identity is the app's only credential" }
      : { ok: false, keepWaiting: false, said: "/readyz does not say which credential worked (an older app version?)" };
  }

  private async removeSecret(o: Observed): Promise<void> {
    const identity = this.requireMigrated(o);
    const change = planRemoveSecret(o.settings);
    if (isEmpty(change)) {
      this.log("no secret credential is left on the site");
      await this.prove(identity.clientId);
    } else {
      this.requireProof();
      this.stopOnMissing(await this.missingArm([{ scope: this.o.siteId, actions: SETTINGS_ACTIONS }]));
      const before = { ...o.settings }; // in memory only, to put the entries back if the proof fails
      this.log("removing the secret credentials from the site's settings:");
      for (const line of describeChange(change)) this.log(`  ${line}`);
      await this.site.applySettings(change);
      try {
        await this.prove(identity.clientId);
      } catch (error) {
        const undo = undoChange(before, change);
        await this.site.applySettings(undo);
        this.log("the proof failed: put the secret credentials back on the site as they were");
        throw error;
      }
    }
    const left = o.app.passwordCredentials;
    this.log(
      left.length
        ? `the registration still has ${left.length} client secret(s): delete them with ` +
            `npm run migrate -- delete-secret ${targetFlags(this.o)} <the same proof flag> --confirm-delete`
        : "the registration has no client secret",
    );
    this.log(`way back (needs the secret's value on stdin): ${this.back} --secret-stdin < <file holding the secret>`);
  }

  private async deleteSecret(o: Observed): Promise<void> {
    const identity = this.requireMigrated(o);
    const onSite = credentialEntries(o.settings).filter(isSecretCredential);
    if (onSite.length) {
      throw new DeployStepError(
        "the site still lists a secret credential: deleting the registration's secret now could break its sign-in",
        `Run remove-secret first: npm run migrate -- remove-secret ${targetFlags(this.o)} <proof flag>`,
        ExitCode.BadInput,
      );
    }
    const passwords = o.app.passwordCredentials;
    if (passwords.length === 0) {
      this.log("the registration has no client secret: nothing to delete");
      return;
    }
    for (const p of passwords)
      this.log(`would delete client secret "${p.displayName}" (hint ${p.hint}…, key id ${p.keyId})`);
    if (!this.o.confirmDelete) {
      throw new DeployStepError(
        "nothing was deleted: deleting a client secret cannot be undone",
        `Add --confirm-delete to delete them. Until then the way back is: ${this.back}`,
        ExitCode.BadInput,
      );
    }
    this.stopOnMissing([], await this.graph.writeProblem(o.app.id));
    await this.prove(identity.clientId);
    for (const p of passwords) {
      await this.graph.removePassword(o.app.id, p.keyId);
      this.log(`deleted client secret "${p.displayName}" (key id ${p.keyId})`);
    }
    this.log("done: the app signs in with its managed identity only; there is no way back to the deleted secret");
  }

  private async rollback(o: Observed): Promise<void> {
    const hasSecret = credentialEntries(o.settings).some(isSecretCredential);
    let secret: string | undefined;
    if (!hasSecret) {
      if (!this.o.secretFromStdin || !this.deps.readSecret) {
        throw new DeployStepError(
          "the site lists no secret credential any more, and its value cannot be read back from Entra",
          `Pass the secret on stdin: ${this.back} --secret-stdin < <file holding the secret>` +
            (o.app.passwordCredentials.length ? "" : " (the registration has no client secret left either)"),
          ExitCode.BadInput,
        );
      }
      secret = (await this.deps.readSecret()).trim();
      if (!secret) throw new DeployStepError("stdin held no secret", "Pipe the secret's value in.", ExitCode.BadInput);
      this.secrets.add(secret);
    }
    const { change } = planRollback(o.settings, o.identity?.clientId, secret);
    if (isEmpty(change)) {
      this.log("nothing to roll back: the site's credential list does not list the managed identity");
      return;
    }
    this.stopOnMissing(await this.missingArm([{ scope: this.o.siteId, actions: SETTINGS_ACTIONS }]));
    await this.site.applySettings(change);
    for (const line of describeChange(change)) this.log(`  ${line}`);
    this.log(
      "rolled back: the app signs in with its secret again; the identity and federated credential stay (no secret)",
    );
    for (const line of describeCredentials(await this.site.settings())) this.log(`    ${line}`);
  }

  private async operatorTenant(): Promise<string> {
    const token = await this.deps.credential.getToken(this.o.graphScope);
    const tid = token?.token ? (decodeClaims(token.token).tid as string | undefined) : undefined;
    return tid ?? "";
  }

  private async missingArm(needs: { scope: string; actions: string[] }[]): Promise<string[]> {
    const missing: string[] = [];
    for (const { scope, actions } of needs) {
      for (const action of await this.arm.missingActions(scope, actions)) {
        missing.push(
          `Azure: ${action} on ${scope} ` +
            `(role: ${roleFor(action)}; an Owner or User Access Administrator of the scope assigns it)`,
        );
      }
    }
    return missing;
  }

  private stopOnMissing(missing: string[], graphProblem?: string): void {
    const all = [...missing, ...(graphProblem ? [`Microsoft Graph: ${graphProblem}`] : [])];
    if (all.length === 0) return;
    throw new DeployStepError(
      `missing permission, nothing was changed:\n  ${all.join("\n  ")}`,
      "Get the permissions above and run this phase again.",
      ExitCode.Unauthorized,
    );
  }
}

/** The actions a settings-only change needs on the site. */
const SETTINGS_ACTIONS = [SiteAction.ReadSite, SiteAction.ListSettings, SiteAction.WriteSettings];

function decodeClaims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function expiry(end: string | null): string {
  if (!end) return "no expiry recorded";
  const days = Math.floor((Date.parse(end) - Date.now()) / 86_400_000);
  if (Number.isNaN(days)) return `expires ${end}`;
  return days < 0 ? `EXPIRED on ${end.slice(0, 10)}` : `expires ${end.slice(0, 10)} (in ${days} days)`;
}

/** Any secret value read this run, masked: a guard, since no line is built from a value in the first place. */
function mask(line: string, secrets: ReadonlySet<string>): string {
  let out = line;
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join("[redacted]");
  return out;
}

/** ARM's and Graph's refusals as step errors: 403 names the permission; values never reach a message. */
function asStepError(error: unknown, secrets: ReadonlySet<string>): DeployStepError {
  if (error instanceof DeployStepError) {
    return new DeployStepError(mask(error.message, secrets), mask(error.fix, secrets), error.exitCode);
  }
  if (error instanceof ArmRequestError || error instanceof GraphRequestError) {
    const denied = error.status === 401 || error.status === 403;
    return new DeployStepError(
      mask(error.message, secrets),
      denied
        ? "Sign in as someone with the permission named above (az login), or have it granted; this phase stopped " +
            "at that request."
        : "Run inspect to see the current state, then this phase again (each phase is safe to re-run).",
      denied ? ExitCode.Unauthorized : error.status === 404 ? ExitCode.NotFound : ExitCode.Failed,
    );
  }
  const name = (error as { name?: unknown } | undefined)?.name;
  if (
    name === "CredentialUnavailableError" ||
    name === "AggregateAuthenticationError" ||
    name === "AuthenticationError"
  ) {
    return new DeployStepError(
      "could not get a token as you (DefaultAzureCredential found no signed-in account)",
      "Sign in first: az login (add --tenant <tenant id> for the registration's tenant), or set the environment " +
        "variables of another DefaultAzureCredential source.",
      ExitCode.NotLoggedIn,
    );
  }
  const network = networkErrorCode(error);
  if (network) {
    const cause = (error as { cause?: { message?: unknown } }).cause?.message;
    return new DeployStepError(
      mask(
        `a request failed before any answer (${network}${cause ? `: ${oneLine(String(cause), 200)}` : ""})`,
        secrets,
      ),
      "Check this machine's network and proxy, and the --arm-url/--graph-url endpoints; each phase is safe to re-run.",
      ExitCode.Unreachable,
    );
  }
  return new DeployStepError(
    mask(error instanceof Error ? error.message : String(error), secrets),
    "Run inspect to see the current state; each phase is safe to re-run.",
    ExitCode.Unexpected,
  );
}
