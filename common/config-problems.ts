import * as pulumi from "@pulumi/pulumi";

/** One problem with one configuration key: the key and what to do about it. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/**
 * Every problem with a project's configuration, thrown before any resource registers. A `RunError`, so `pulumi up`
 * prints the message alone, without a stack trace.
 */
export class ConfigProblemsError extends pulumi.RunError {
  readonly problems: ConfigProblem[];
  /** `what` names the configuration ("stack configuration"); `fix` says where to fix the keys. */
  constructor(what: string, problems: ConfigProblem[], fix: string) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
    super(
      `Invalid ${what} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n` +
        `Nothing was created. ${fix}, and run again.`,
    );
    this.problems = problems;
  }
}
