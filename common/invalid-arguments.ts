/**
 * The one way a component refuses its arguments, as pulumi-eks does: collect every bad property, then throw one
 * `pulumi.InputPropertiesError` naming each property and its fix (the engine shows them under the resource). Checks
 * on plain values run before any child registers; checks on an Output's value run when it resolves, with the same
 * error.
 */
import * as pulumi from "@pulumi/pulumi";

export type ArgumentProblem = pulumi.InputPropertyErrorDetails;

/** Throws when `errors` is not empty. */
export function refuseInvalidArguments(component: string, errors: readonly ArgumentProblem[]): void {
  if (errors.length > 0) invalidArguments(component, errors);
}

/** Throws for one or more bad properties found where the caller cannot go on. */
export function invalidArguments(component: string, errors: readonly ArgumentProblem[]): never {
  throw new pulumi.InputPropertiesError({ message: `Invalid arguments for ${component}`, errors: [...errors] });
}
