// `npm run bench -- --only gpu [--backend auto|gpu|cpu] [--quick] [--L 16384]`: the GPU kernels beside the
// CPU figures of the same process (what is measured: src/jobs/bench-gpu.ts, also `irg bench`).
// --backend auto uses a hardware GPU only; gpu also a software one (lavapipe: a check, not a speed).
// Writes bench/results/gpu-<date>.json.

import { join } from "node:path";
import { benchOptions, gpuBench, gpuBenchLines } from "../src/jobs/bench-gpu.js";
import { writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
let options;
try {
  options = benchOptions({ backend: opt("--backend") ?? "auto", quick: args.includes("--quick"), L: opt("--L") }, (l) => console.log(l));
} catch (e) {
  console.error(`bench gpu: ${(e as Error).message}`);
  process.exit(2);
}
const r = await gpuBench(options);
console.log(gpuBenchLines(r).join("\n"));
writeBenchResult(opt("--out") ?? join("bench", "results", `gpu-${new Date().toISOString().slice(0, 10)}.json`), r);
