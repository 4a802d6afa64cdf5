import { expect, it } from "vitest";
import { runThroughLanguageHost } from "../../offline/language-host";

/**
 * A stack with bad configuration fails under the language host before any resource registers, with one message that
 * names every bad key and its fix: the exact text `pulumi up` would print.
 */
it("stops a badly configured stack before any resource registers, naming every bad key", async () => {
  let failure: unknown;
  let run;
  try {
    run = await runThroughLanguageHost({
      "secretless-entra-webapp:location": "West Europe",
      "secretless-entra-webapp:webAppName": "bad_name",
      "secretless-entra-webapp:cloud": "china",
      "azuread:environment": "global",
    });
  } catch (e) {
    failure = e;
  }
  expect(run).toBeUndefined();
  const message = String((failure as Error).message);
  expect(message).toMatch(/Invalid stack configuration \(3 problems\)/);
  expect(message).toMatch(/^ {2}- location: "West Europe" is not an Azure region name/m);
  expect(message).toMatch(/^ {2}- webAppName: "bad_name" may contain only letters, digits and hyphens/m);
  expect(message).toMatch(/^ {2}- cloud: is "china" but azuread:environment is "global"/m);
}, 60_000);
