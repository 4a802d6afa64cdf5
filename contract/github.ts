/**
 * GitHub repositories, environments and the OIDC subjects GitHub Actions puts in its tokens, written once for the
 * bootstrap (which builds its federated credentials from them) and anything else that checks them.
 *
 * A repository comes in one of two forms, and the federated credential must match the form GitHub issues for it,
 * character for character:
 * - `OWNER/REPO`, the name-based subject `repo:OWNER/REPO:…` of repositories created before 18 June 2026 that
 *   have not opted in;
 * - `OWNER@OWNER_ID/REPO@REPO_ID`, the immutable subject `repo:<owner>@<owner_id>/<repo>@<repo_id>:…` that GitHub
 *   issues for repositories created, renamed or transferred since, and for those that opted in. Microsoft Entra:
 *   "The immutable format keeps the names but appends the immutable owner ID and repository ID, separated by an @
 *   symbol: repo:<owner>@<owner_id>/<repo>@<repo_id>:ref:refs/heads/main"
 *   (https://learn.microsoft.com/entra/workload-id/workload-identities-github-immutable-subjects); GitHub changelog
 *   2026-04-23, "Immutable subject claims for GitHub Actions OIDC tokens"
 *   (https://github.blog/changelog/2026-04-23-immutable-subject-claims-for-github-actions-oidc-tokens).
 */

/** A repository as the bootstrap was given it. */
export interface GitHubRepository {
  readonly owner: string;
  readonly name: string;
  /** The owner's numeric ID, present in the immutable form only. */
  readonly ownerId?: string;
  /** The repository's numeric ID, present in the immutable form only. */
  readonly repositoryId?: string;
}

// Owners: 1-39 letters, digits or single hyphens, not at either end. Repositories: 1-100 of letters, digits, ".", "_"
// or "-", never "." or "..". IDs: GitHub's numeric database IDs, without leading zeros.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const ID = /^[1-9][0-9]{0,19}$/;
// `repo:OWNER/REPO:environment:NAME`: a ":" or a space in NAME would change the subject's shape, and the federated
// credential matches it character for character. A conservative, URL-safe set.
const ENVIRONMENT = /^[A-Za-z0-9._-]{1,255}$/;

/** How to read a repository's two forms with the GitHub CLI. */
export const REPOSITORY_FORMS_HINT =
  "gh api repos/OWNER/REPO --jq '\"\\(.owner.login)/\\(.name)  or  \\(.owner.login)@\\(.owner.id)/\\(.name)@\\(.id)\"'";

/** Parses `OWNER/REPO` or `OWNER@OWNER_ID/REPO@REPO_ID`; undefined when it is neither. */
export function parseRepository(value: string): GitHubRepository | undefined {
  const parts = value.split("/");
  if (parts.length !== 2) return undefined;
  const [ownerPart = "", repoPart = ""] = parts;
  const [owner = "", ownerId, ...ownerRest] = ownerPart.split("@");
  const [name = "", repositoryId, ...repoRest] = repoPart.split("@");
  if (ownerRest.length > 0 || repoRest.length > 0) return undefined;
  if (!OWNER.test(owner) || !REPO.test(name) || name === "." || name === "..") return undefined;
  // Both IDs or neither: GitHub's immutable subject carries both.
  if ((ownerId === undefined) !== (repositoryId === undefined)) return undefined;
  if (ownerId !== undefined && (!ID.test(ownerId) || !ID.test(repositoryId!))) return undefined;
  return ownerId === undefined ? { owner, name } : { owner, name, ownerId, repositoryId };
}

/** The repository part of a subject, in the form the repository was given. */
export function subjectRepository(repo: GitHubRepository): string {
  return repo.ownerId === undefined
    ? `${repo.owner}/${repo.name}`
    : `${repo.owner}@${repo.ownerId}/${repo.name}@${repo.repositoryId}`;
}

/** True for the immutable form. */
export function isImmutable(repo: GitHubRepository): boolean {
  return repo.ownerId !== undefined;
}

/** `OWNER/REPO` or `OWNER@OWNER_ID/REPO@REPO_ID`, exactly as GitHub spells the names (the subject is case-exact). */
export function repositoryProblem(value: string): string | undefined {
  return parseRepository(value)
    ? undefined
    : `"${value}" is neither OWNER/REPO nor GitHub's immutable OWNER@OWNER_ID/REPO@REPO_ID; set the form your ` +
        `repository's OIDC tokens use, names exactly as GitHub spells them (${REPOSITORY_FORMS_HINT}), ` +
        "e.g. contoso/secretless-signin or contoso@1234567/secretless-signin@890123456.";
}

/** A GitHub environment name this project can put in a subject. */
export function environmentProblem(name: string): string | undefined {
  return ENVIRONMENT.test(name)
    ? undefined
    : `"${name}" is not a usable GitHub environment name here; use 1-255 letters, digits, ".", "_" or "-" ` +
        '(no spaces or ":", which would change the token subject), e.g. production — and use the same name in ' +
        "deploy.yml.";
}

/** The subject of a pull-request job's token (any pull request into the repository; forks get no token). */
export function pullRequestSubject(repo: GitHubRepository): string {
  return `repo:${subjectRepository(repo)}:pull_request`;
}

/** The subject of a job in a GitHub environment: issued only to jobs that passed the environment's protection rules. */
export function environmentSubject(repo: GitHubRepository, environment: string): string {
  return `repo:${subjectRepository(repo)}:environment:${environment}`;
}
