/**
 * The one configuration reader both Pulumi projects use (the app stack's components/stack-config.ts, the bootstrap's
 * bootstrap/bootstrap-config.ts): it applies the project's Pulumi.yaml defaults to the raw values the engine hands over
 * and
 * collects every problem under its key, so a parser reports them all at once. The rules themselves live in contract/.
 */
import type { ConfigProblem } from "./config-problems";

/** A rule: undefined when the value is valid, otherwise the problem (the value, what is wrong and the fix). */
export type Rule<T = string> = (value: T) => string | undefined;

/** Reads raw values with Pulumi.yaml's defaults applied, collecting every problem under its key. */
export class ConfigReader<K extends string, R extends Partial<Record<K, string>> = Partial<Record<K, string>>> {
  readonly problems: ConfigProblem[] = [];
  /**
   * `defaults` are the ones the project's Pulumi.yaml declares (a test keeps each table in step with its file);
   * `setCommand` is how a user sets a key of this project, e.g. `pulumi -C bootstrap config set`.
   */
  constructor(
    readonly raw: R,
    readonly defaults: Partial<Record<K, string>>,
    readonly setCommand = "pulumi config set",
  ) {}

  report(key: string, message: string | undefined): void {
    if (message) this.problems.push({ key, message });
  }

  /** True when a problem was reported under `key`. */
  failed(key: string): boolean {
    return this.problems.some((p) => p.key === key);
  }

  /** The key's trimmed value, or Pulumi.yaml's default when unset; undefined when that is empty too. */
  value(key: K): string | undefined {
    const v = this.raw[key] ?? this.defaults[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  /** A key without a default: reports `howToSet` when unset, the rule's problem when set. */
  required(key: K, howToSet: string, rule: Rule): string | undefined {
    const v = this.value(key);
    this.report(key, v === undefined ? `is required; ${howToSet}` : rule(v));
    return v;
  }

  /** A key that may stay unset; when set, reports the rule's problem. */
  optional(key: K, rule: Rule): string | undefined {
    const v = this.value(key);
    if (v !== undefined) this.report(key, rule(v));
    return v;
  }

  /** The key's value or `fallback` (Pulumi.yaml's default when not given), reporting the rule's problem. */
  withDefault(key: K, fallback: string | undefined, rule: Rule): string {
    const v = this.value(key) ?? fallback ?? this.defaults[key] ?? "";
    this.report(key, rule(v));
    return v;
  }

  bool(key: K, fallback: boolean): boolean {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (v === "true" || v === "false") return v === "true";
    this.report(key, `"${v}" is not a boolean; set it to true or false (${this.setCommand} --type bool ${key} true).`);
    return fallback;
  }

  /** The key's JSON value (arrays and objects reach a program JSON-encoded); reports `fix` when it does not parse. */
  json(key: K, fix: string): unknown {
    const v = this.value(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      this.report(key, `"${v}" is not ${fix}`);
      return undefined;
    }
  }

  /** A list of strings (`[]` when unset), each checked by `rule`; reports `fix` when the value is not such a list. */
  stringList(key: K, fix: string, rule: Rule): string[] {
    const list = this.json(key, fix) ?? [];
    if (!Array.isArray(list) || list.some((item) => typeof item !== "string")) {
      if (!this.failed(key)) this.report(key, `"${this.value(key)}" is not ${fix}`);
      return [];
    }
    const problems = (list as string[]).map(rule).filter((p): p is string => p !== undefined);
    this.report(key, problems.length > 0 ? problems.join(" ") : undefined);
    return list as string[];
  }

  /**
   * Azure tags: at most 50, names up to 512 characters without < > % & \ ? /, string values up to 256 characters
   * (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
   */
  tags(key: K): Record<string, string> {
    const fix = `a map of tags; set each with ${this.setCommand} --path '${key}.<name>' <value>.`;
    const tags = this.json(key, fix) ?? {};
    if (tags === null || typeof tags !== "object" || Array.isArray(tags)) {
      this.report(key, `"${this.value(key)}" is not ${fix}`);
      return {};
    }
    for (const [k, v] of Object.entries(tags)) {
      if (typeof v !== "string") {
        const fix = `${this.setCommand} --path '${key}.${k}' "<text>"`;
        this.report(key, `tag "${k}" has a ${typeof v} value; tag values must be strings (${fix}).`);
      } else if (k.length > 512 || v.length > 256 || /[<>%&\\?/]/.test(k)) {
        const rules = "name ≤ 512 characters without < > % & \\ ? /, value ≤ 256 characters";
        this.report(key, `tag "${k}" breaks Azure's tag rules (${rules}).`);
      }
    }
    const count = Object.keys(tags).length;
    if (count > 50) this.report(key, `has ${count} tags; Azure allows at most 50 per resource.`);
    return tags as Record<string, string>;
  }
}
