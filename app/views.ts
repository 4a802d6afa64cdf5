import escapeHtml from "escape-html";
import type { FastifyReply } from "fastify";
import type { SignInProblem } from "./auth/aadsts";
import type { GraphOutcome } from "./auth/graph";

/** Sends an HTML page, never cached. */
export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(html);
}

/** Sends the page explaining a sign-in problem, with its status. */
export function sendProblem(reply: FastifyReply, problem: SignInProblem): FastifyReply {
  return sendPage(reply, problem.status, problemPage(problem));
}

/** The chain of trust one sign-in used, as shown on the home page. Identifiers only, never a token. */
export interface TrustChain {
  /** The app's origin, e.g. https://app.azurewebsites.net. */
  readonly appOrigin: string;
  /** Client ID of the user-assigned managed identity. */
  readonly managedIdentityClientId: string;
  /** Principal (object) ID of the user-assigned managed identity: the `oid` of its token. */
  readonly managedIdentityPrincipalId: string;
  /** The managed-identity token's issuer, subject (principal ID) and requested audience: what the FIC must match. */
  readonly ficIssuer: string;
  readonly ficSubject: string;
  readonly ficAudience: string;
  /** The authority that issued the ID token, and the app (client) ID it was issued to. */
  readonly idTokenIssuer: string;
  readonly clientId: string;
}

/** A whole page in the app's layout: header, `main` (HTML), footer. */
export function page(title: string, main: string): string {
  return layout(title, main);
}

function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Secretless Entra sign-in</title>
<link rel="icon" href="/public/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/public/app.css">
</head>
<body>
<header><a class="brand" href="/">Secretless Entra sign-in</a></header>
<main>
${main}
</main>
<footer>This app's only credential is its managed identity's token: no client secret exists.</footer>
</body>
</html>
`;
}

export function signedOutPage(view: { justSignedOut?: boolean } = {}): string {
  return layout(
    "Welcome",
    `${
      view.justSignedOut ? '<p class="notice" id="signed-out-notice" role="status">You are signed out.</p>\n' : ""
    }<h1>Welcome</h1>
<p>This app signs you in with Microsoft Entra ID. Its own credential is not a secret: it is the token of its
user-assigned managed identity, which the app registration trusts through a federated identity credential.</p>
<p><a class="button" id="sign-in" href="/signin">Sign in</a></p>`,
  );
}

interface SignedInView {
  readonly claims: Record<string, unknown>;
  readonly csrfToken: string;
  readonly trust: TrustChain;
  /** The user's Microsoft Graph profile, or why it could not be read. */
  readonly graph: GraphOutcome;
  /** The "Your access" section (app/role-views.ts), HTML; none in Easy Auth mode. */
  readonly access?: string;
}

export function signedInPage(view: SignedInView): string {
  const { claims } = view;
  const text = (name: string): string => (typeof claims[name] === "string" ? (claims[name] as string) : "");
  const rows = Object.entries(claims)
    .map(
      ([name, value]) =>
        `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(formatClaim(name, value))}</td></tr>`,
    )
    .join("\n");
  return layout(
    "Signed in",
    `<h1>Hello, <span id="user-name">${escapeHtml(text("name") || text("preferred_username") || "you")}</span></h1>
<dl class="identity">
<dt>Username</dt><dd id="user-username">${escapeHtml(text("preferred_username"))}</dd>
<dt>Tenant</dt><dd id="user-tenant">${escapeHtml(text("tid"))}</dd>
</dl>
<form method="post" action="/signout">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">
<button type="submit" id="sign-out">Sign out</button>
</form>
${view.access ?? ""}
<h2>How this sign-in was trusted</h2>
${trustChainList(view.trust)}
${graphProfileSection(view.graph)}
<h2>ID token claims</h2>
<table id="claims">
<thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`,
  );
}

/**
 * The user's Microsoft Graph profile (name, mail, job title), read as the user with the delegated permission; or a
 * notice saying why it could not be read and what to do, while the rest of the page still renders.
 */
function graphProfileSection(graph: GraphOutcome): string {
  const heading =
    `<section id="graph-profile">
<h2>Your profile from Microsoft Graph</h2>
<p>Read as you from Microsoft Graph (<code>GET /me</code>, delegated permission <code>User.Read</code>), ` +
    `with an access token that never leaves the server; also at <a href="/me/graph">/me/graph</a>.</p>`;
  if (graph.ok) {
    const value = (v: string | null): string => escapeHtml(v ?? "(not set)");
    return `${heading}
<dl class="identity">
<dt>Name</dt><dd id="graph-name">${value(graph.profile.displayName)}</dd>
<dt>Mail</dt><dd id="graph-mail">${value(graph.profile.mail)}</dd>
<dt>Job title</dt><dd id="graph-job-title">${value(graph.profile.jobTitle)}</dd>
</dl>
</section>`;
  }
  const { problem } = graph;
  return `${heading}
<div class="fix" id="graph-notice" role="status">
<p><strong id="graph-notice-title">${escapeHtml(problem.title)}</strong></p>
<p id="graph-notice-fix">${escapeHtml(problem.fix)}</p>
${problem.code ? `<p>Code: <span id="graph-notice-code">${escapeHtml(problem.code)}</span></p>` : ""}
${problem.adminConsentUrl ? adminConsentLink(problem.adminConsentUrl) : ""}
</div>
</section>`;
}

/** The tenant-wide admin-consent link for this app (only an administrator can complete it). */
function adminConsentLink(url: string): string {
  return (
    `<p><a id="admin-consent-link" href="${escapeHtml(url)}">Grant admin consent for ` +
    `this app</a> (for an administrator of the tenant)</p>`
  );
}

/** A sign-in or request failure: what happened and the fix. */
function problemPage(problem: SignInProblem): string {
  const details = [
    problem.code ? `<dt>Entra code</dt><dd id="problem-code">${escapeHtml(problem.code)}</dd>` : "",
    problem.error ? `<dt>Error</dt><dd>${escapeHtml(problem.error)}</dd>` : "",
    problem.description ? `<dt>Entra said</dt><dd>${escapeHtml(problem.description)}</dd>` : "",
  ].join("");
  return layout(
    "Sign-in problem",
    `<h1 id="problem-title">${escapeHtml(problem.title)}</h1>
<p class="fix" id="problem-fix"><strong>How to fix it:</strong> ${escapeHtml(problem.fix)}</p>
${details ? `<dl class="problem">${details}</dl>` : ""}
${problem.adminConsentUrl ? adminConsentLink(problem.adminConsentUrl) : ""}
${actions({ href: "/signin", label: "Sign in again" })}`,
  );
}

/** A link a page offers as its way on, shown as a button. */
export interface PageAction {
  readonly href: string;
  readonly label: string;
}

/**
 * A plain message page for request errors (400, 403, 404, 500): the title, what to do, and a way on (`action` as a
 * button, then the home page).
 */
export function messagePage(title: string, message: string, action?: PageAction): string {
  return layout(
    title,
    `<h1 id="problem-title">${escapeHtml(title)}</h1>
<p id="problem-fix">${escapeHtml(message)}</p>
${actions(action)}`,
  );
}

/** The buttons under a message: `action` (if any) and Home, spaced apart. */
function actions(action?: PageAction): string {
  const first = action
    ? `<a class="button" id="page-action" href="${escapeHtml(action.href)}">${escapeHtml(action.label)}</a>`
    : "";
  const home = `<a class="${action ? "button secondary" : "button"}" href="/">Home</a>`;
  return `<p class="actions">${first}${home}</p>`;
}

/**
 * The page for a request to a host name the app does not answer at: styled (its stylesheet is served for any host)
 * and naming the URL to open, so a mistyped or loopback address leads on instead of looping to itself.
 */
export function unknownHostPage(origin: string): string {
  const url = `${origin}/`;
  return layout(
    "Unknown host",
    `<h1 id="problem-title">Unknown host</h1>
<p id="problem-fix">This app does not answer at this host name. Open it at
<a id="app-url" href="${escapeHtml(url)}">${escapeHtml(url)}</a>.</p>
<p>Operators: custom domains go in the <code>AllowedHosts</code> setting.</p>
<p class="actions"><a class="button" href="${escapeHtml(url)}">Open ${escapeHtml(url)}</a></p>`,
  );
}

/**
 * The body of the front-channel logout response: Entra loads it in a hidden iframe, but a person may open the URL
 * too, so it says what happened and leads on.
 */
export function frontChannelSignedOutPage(): string {
  return layout(
    "Signed out",
    `<h1>Signed out</h1>
<p>When you sign out of Microsoft Entra elsewhere, Entra tells this app at this address, and your session here
ends too.</p>
${actions({ href: "/signin", label: "Sign in again" })}`,
  );
}

function formatClaim(name: string, value: unknown): string {
  if (["exp", "iat", "nbf", "auth_time"].includes(name) && typeof value === "number") {
    return `${value} (${new Date(value * 1000).toISOString()})`;
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The trust chain as an ordered list of boxes joined by arrows (app.css draws them): browser → app →
 * managed-identity endpoint → Entra's FIC exchange → ID token. HTML rather than an SVG, so the text keeps the
 * page's size and wraps at any width (a scaled SVG shrank it to about 5 px on a phone). No inline styles: the CSP
 * stays strict.
 */
function trustChainList(trust: TrustChain): string {
  const subjectMatches = trust.ficSubject === trust.managedIdentityPrincipalId;
  // A line is prose, or a label and an identifier (set in monospace, wrapping anywhere).
  const steps: Array<{ title: string; lines: Array<string | [label: string, value: string]> }> = [
    { title: "1. Browser", lines: ["signs in with auth code + PKCE (form_post)"] },
    {
      title: "2. This app",
      lines: [["at", trust.appOrigin], "asks its managed identity for a token (no secret stored)"],
    },
    {
      title: "3. Managed identity endpoint (IDENTITY_ENDPOINT)",
      lines: [
        ["user-assigned identity, client ID", trust.managedIdentityClientId],
        ["principal ID", `${trust.managedIdentityPrincipalId} (its token's oid)`],
        ["token for", trust.ficAudience],
      ],
    },
    {
      title: "4. Entra: federated identity credential on the app registration",
      lines: [
        ["issuer", trust.ficIssuer],
        ["audience", trust.ficAudience],
        ["subject", `${trust.ficSubject} ${subjectMatches ? "=" : "≠"} the identity's principal ID`],
      ],
    },
    {
      title: "5. ID token",
      lines: [
        ["issuer", trust.idTokenIssuer],
        ["audience", trust.clientId],
      ],
    },
  ];
  const items = steps.map(
    (step) =>
      `<li class="chain-box"><p class="chain-title">${escapeHtml(step.title)}</p>` +
      step.lines
        .map((line) =>
          typeof line === "string"
            ? `<p class="chain-detail">${escapeHtml(line)}</p>`
            : `<p class="chain-detail">${escapeHtml(line[0])} ` +
              `<span class="chain-value">${escapeHtml(line[1])}</span></p>`,
        )
        .join("") +
      "</li>",
  );
  return `<ol id="trust-chain" class="trust-chain" aria-label="Trust chain of this sign-in">${items.join("\n")}</ol>`;
}
