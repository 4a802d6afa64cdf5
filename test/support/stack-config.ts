import { expect } from "vitest";
import { type RawStackConfig, StackConfigError, parseStackConfig } from "../../components/stack-config";

/** The problems parseStackConfig reports for `raw`, or fails the test when it accepts it. */
export function problemsOf(raw: RawStackConfig): { key: string; message: string }[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}
