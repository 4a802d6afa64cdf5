/**
 * One evaluation of the real program through the language host's `run()` under the offline mocks, in a fresh process
 * the benchmark starts the way the Node language host would (`node <nodeargs> …`). Bundled by bench/program.ts into
 * .bench/host-child.cjs so that only the mocks' glue is compiled ahead: the program itself is loaded by whatever the
 * runtime options say. argv: [runtime options as JSON, or ""] [program folder, or ""]. Prints one JSON line.
 */
import { readStackConfig, runThroughLanguageHost, type RuntimeOptions } from "../offline/language-host";
import { creationChain } from "./dag";

const runtime = process.argv[2] ? (JSON.parse(process.argv[2]) as RuntimeOptions) : undefined;
const programDir = process.argv[3] || undefined;

runThroughLanguageHost(readStackConfig("dev"), "dev", undefined, {
  ...(runtime ? { runtime } : {}),
  ...(programDir ? { programDir } : {}),
}).then(
  ({ mocks, reported }) => {
    const chain = creationChain(mocks);
    console.log(
      JSON.stringify({ resources: mocks.resources.filter((r) => r.custom).length, reported: reported.length, chain }),
    );
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
