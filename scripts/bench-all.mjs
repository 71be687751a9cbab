// `npm run bench [-- --quick] [-- --only ising,gpu,phi4,nn,compatible,ea,exact]`: every benchmark in turn, each in
// its own process (so that one's JIT state and memory do not colour the next), with the same options.
import { spawnSync } from "node:child_process";

const ALL = { ising: "dist/bench/bench.js", gpu: "dist/bench/gpu.js", phi4: "dist/bench/phi4.js", nn: "dist/bench/nn.js", compatible: "dist/bench/compatible.js", ea: "dist/bench/ea.js", exact: "dist/bench/exact.js" };
const args = process.argv.slice(2);
const k = args.indexOf("--only");
const only = k >= 0 ? args[k + 1].split(",") : Object.keys(ALL);
const rest = k >= 0 ? [...args.slice(0, k), ...args.slice(k + 2)] : args;
const unknown = only.filter((n) => !(n in ALL));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(ALL).join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const name of only) {
  console.log(`\n== ${name} ==`);
  const r = spawnSync(process.execPath, [ALL[name], ...rest], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
