import { describe, expect, it } from "vitest";
import { appProject } from "../../offline/languageHost";
import { unknownKey } from "../../offline/stackFile";

describe("the keys of a stack file nothing reads", () => {
  const schema = appProject.schema;
  it.each([
    ["secretless-entra-webapp:webappname", 'Did you mean "secretless-entra-webapp:webAppName"?'],
    ["secretless-entra-webapp:planSkew", 'Did you mean "secretless-entra-webapp:planSku"?'],
    ["azure-native:locaton", 'Did you mean "azure-native:location"?'],
    ["azuread:enviroment", 'Did you mean "azuread:environment"?'],
    ["secretless-entra-webap:location", 'namespace "secretless-entra-webap", which this program does not read; it is ignored. Did you mean "secretless-entra-webapp:location"?'],
    ["secretless-entra-webapp:favouriteColour", "is not a setting this program reads; it is ignored."],
  ])("%s is ignored, with the close match named", (key, says) => {
    expect(unknownKey(key, schema)).toContain(says);
  });

  it.each(["secretless-entra-webapp:webAppName", "secretless-entra-webapp:tags", "azure-native:environment", "azuread:environment", "pulumi:tags"])(
    "%s is read, so no warning",
    (key) => expect(unknownKey(key, schema)).toBeUndefined(),
  );

  it("suggests nothing for a key unlike any setting", () => {
    expect(unknownKey("secretless-entra-webapp:favouriteColour", schema)).not.toMatch(/Did you mean/);
  });
});
