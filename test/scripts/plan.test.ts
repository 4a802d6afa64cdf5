import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appProject } from "../../offline/language-host";
import { StackFileError, readStackFile, stackNameOf, unknownKey } from "../../offline/stack-file";

describe("the keys of a stack file nothing reads", () => {
  const schema = appProject.schema;
  it.each([
    ["secretless-entra-webapp:webappname", 'Did you mean "secretless-entra-webapp:webAppName"?'],
    ["secretless-entra-webapp:planSkew", 'Did you mean "secretless-entra-webapp:planSku"?'],
    ["azure-native:locaton", 'Did you mean "azure-native:location"?'],
    ["azuread:enviroment", 'Did you mean "azuread:environment"?'],
    [
      "secretless-entra-webap:location",
      'namespace "secretless-entra-webap", which this program does not read; it is ' +
        'ignored. Did you mean "secretless-entra-webapp:location"?',
    ],
    ["secretless-entra-webapp:favouriteColour", "is not a setting this program reads; it is ignored."],
  ])("%s is ignored, with the close match named", (key, says) => {
    expect(unknownKey(key, schema)).toContain(says);
  });

  it.each([
    "secretless-entra-webapp:webAppName",
    "secretless-entra-webapp:tags",
    "azure-native:environment",
    "azuread:environment",
    "pulumi:tags",
  ])("%s is read, so no warning", (key) => expect(unknownKey(key, schema)).toBeUndefined());

  it("suggests nothing for a key unlike any setting", () => {
    expect(unknownKey("secretless-entra-webapp:favouriteColour", schema)).not.toMatch(/Did you mean/);
  });
});

describe("the stack argument and a missing stack file", () => {
  const schema = appProject.schema;
  it.each([
    ["dev", "dev"],
    ["Pulumi.dev.yaml", "dev"],
    ["./Pulumi.prod.yml", "prod"],
    ["/abs/path/Pulumi.ci.yaml", "ci"],
  ])("reads %s as the stack %s", (arg, name) => {
    expect(stackNameOf(arg)).toBe(name);
  });

  it(
    "never suggests copying the missing file onto itself, and shows " + "the file to write when no stack file exists",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "stackfile-"));
      try {
        expect(() => readStackFile(dir, "dev", schema)).toThrow(StackFileError);
        let message = "";
        try {
          readStackFile(dir, "Pulumi.dev.yaml", schema);
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toContain("There is no stack file");
        expect(message).toContain('for the stack "dev"');
        expect(message).not.toMatch(/cp \S*Pulumi\.dev\.yaml \S*Pulumi\.dev\.yaml/);
        expect(message).not.toContain("Pulumi.Pulumi");
        expect(message).toContain("secretless-entra-webapp:location: westeurope");
        expect(message).toContain("secretless-entra-webapp:webAppName:");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
