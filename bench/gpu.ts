// `npm run bench -- --only gpu [--backend auto|gpu|cpu] [--quick] [--L 16384]`: the GPU kernels beside the
// CPU figures of the same process (what is measured: src/jobs/bench-gpu.ts, also `irg bench`).
// --backend auto uses a hardware GPU only; gpu also a software one (lavapipe: a check, not a speed).
// Writes bench/results/gpu-<date>.json.

import { join } from "node:path";
import { BACKENDS, type BackendChoice } from "../src/mc/backend.js";
import { gpuBench, gpuBenchLines } from "../src/jobs/bench-gpu.js";
import { writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const backend = opt("--backend") ?? "auto";
if (!(BACKENDS as readonly string[]).includes(backend)) {
  console.error(`bench gpu: --backend must be ${BACKENDS.join(", ")}, got ${backend}`);
  process.exit(2);
}
const r = await gpuBench({ backend: backend as BackendChoice, quick: args.includes("--quick"), L: opt("--L") ? Number(opt("--L")) : undefined, notice: (l) => console.log(l) });
console.log(gpuBenchLines(r).join("\n"));
writeBenchResult(opt("--out") ?? join("bench", "results", `gpu-${new Date().toISOString().slice(0, 10)}.json`), r);
