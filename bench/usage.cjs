// Preloaded (`node --require bench/usage.cjs …`) into each process the benchmark times: on exit it writes the
// process's peak resident memory and CPU time to the file named by BENCH_USAGE_FILE, so a figure never needs a global
// tool.
"use strict";
const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
    require("node:fs").writeFileSync(file, JSON.stringify({ maxRssKb: usage.maxRSS, cpuMs }));
  });
}
