// `npm run bench -- --only ea`: cost of the Edwards–Anderson ±J spin glass in 3D with parallel tempering
// over 16 temperatures (betaLadder(0.4, β_c, 16)), in ns per sample-spin update of a full PT sweep
// (Metropolis sweep of both replicas at every temperature of every disorder sample, then the exchange pass):
// ms per sweep × 1e6 / (samples × 2 × T × V). Engines, all measured in this process:
//   - multi-spin, WebAssembly SIMD kernel (src/mc/ea-multispin-sampler.ts), 128 samples; also its bare
//     kernel time (kernel.sweep of every group, no exchange), so that one sees the PT overhead;
//   - multi-spin, TypeScript kernel (msKernelFactory("typescript", 1)), 32 samples (it is slow);
//   - the baseline: the one-spin engine (src/mc/ea-samplers.ts), one sample.
// Target: ≤ 0.1 ns per sample-spin update. Reference (not measured here): plain vectorised C ≈ 0.02 ns.
// Skips the wasm columns, saying so, where the SIMD kernel does not load.
//
// Options: --quick (L = 8, 16 and shorter timings; else L = 8, 16, 32), --out <file.json>.
// Writes bench/results/ea-<date>.json.

import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { EA_BETA_C_3D } from "../src/models/ea.js";
import { makeEaSampler } from "../src/mc/ea-samplers.js";
import { makeEaMultispinSampler, type MsKernelFactory, msKernelFactory } from "../src/mc/ea-multispin-sampler.js";
import { BLOCK } from "../src/mc/ea-multispin.js";
import { betaLadder, nearestIndex } from "../src/mc/parallel-tempering.js";
import { bestMsPerCall, writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const minMs = quick ? 200 : 1000;

const TEMPS = 16;
const WASM_SAMPLES = 128;
const TS_SAMPLES = 32;
const TARGET_NS = 0.1;
const C_REF_NS = 0.02;
const betas = betaLadder(0.4, EA_BETA_C_3D, TEMPS, EA_BETA_C_3D);
const target = nearestIndex(betas, EA_BETA_C_3D);

/** ns per sample-spin update of `step`, which updates every spin of `samples` × 2 × T copies once (after 10 warm-up calls). */
function nsPerUpdate(step: () => void, samples: number, V: number): number {
  for (let k = 0; k < 10; k++) step();
  return (bestMsPerCall(step, minMs) * 1e6) / (samples * 2 * TEMPS * V);
}

/** The multi-spin sampler with `kernel`: ns per update of a PT sweep, and of the bare kernel sweeps. */
function multispin(lat: Lattice, samples: number, kernel: MsKernelFactory): { pt: number; bare: number } {
  const smp = makeEaMultispinSampler({ lat, betas, target, samples, seed: 3, kernel });
  const groups = Math.ceil(Math.ceil(samples / BLOCK) / smp.kernel.lay.W);
  const pt = nsPerUpdate(() => smp.sweep(), samples, lat.V);
  const bare = nsPerUpdate(() => {
    for (let g = 0; g < groups; g++) smp.kernel.sweep(g);
  }, samples, lat.V);
  return { pt, bare };
}

let wasmWhyNot = "";
try {
  msKernelFactory("wasm")(lattice(3, 4), TEMPS, () => 1);
} catch (e) {
  wasmWhyNot = (e as Error).message;
}
const hasWasm = wasmWhyNot === "";

interface Row {
  L: number; V: number;
  oneSpinNs: number; tsNs: number;
  wasmNs: number | null; wasmKernelNs: number | null; ptOverhead: number | null; speedup: number | null; vsTarget: number | null; vsC: number | null;
}

const rows: Row[] = [];
for (const L of quick ? [8, 16] : [8, 16, 32]) {
  const lat = lattice(3, L);
  const one = makeEaSampler({ lat, betas, target, samples: 1, seed: 3 });
  const oneSpinNs = nsPerUpdate(() => one.sweep(), 1, lat.V);
  const tsNs = multispin(lat, TS_SAMPLES, msKernelFactory("typescript", 1)).pt;
  const w = hasWasm ? multispin(lat, WASM_SAMPLES, msKernelFactory("wasm")) : null;
  rows.push({
    L, V: lat.V, oneSpinNs, tsNs,
    wasmNs: w?.pt ?? null, wasmKernelNs: w?.bare ?? null, ptOverhead: w ? w.pt / w.bare - 1 : null,
    speedup: w ? oneSpinNs / w.pt : null, vsTarget: w ? w.pt / TARGET_NS : null, vsC: w ? w.pt / C_REF_NS : null,
  });
}

const pad = (x: string, n: number): string => x.padEnd(n);
const f = (x: number, d = 3): string => (x >= 100 ? x.toFixed(1) : x.toPrecision(d));
console.log(`EA ±J 3D, parallel tempering, ${TEMPS} temperatures × 2 replicas; ns per sample-spin update of a full PT sweep (exchanges included)`);
console.log(`multi-spin: wasm ${WASM_SAMPLES} samples, TypeScript ${TS_SAMPLES}; baseline: one-spin engine, 1 sample. Target: ≤ ${TARGET_NS} ns (wasm PT).`);
console.log(`Reference, not measured here: plain vectorised C ≈ ${C_REF_NS} ns; "× C" = wasm PT / ${C_REF_NS}.`);
if (!hasWasm) console.log(`wasm kernel unavailable, its columns skipped: ${wasmWhyNot}`);
const head = [pad("L", 5), pad("one-spin", 11), pad("TS PT", 10)];
if (hasWasm) head.push(pad("wasm PT", 12), pad("wasm kernel", 13), pad("PT overhead", 13), pad("speed-up", 10), pad("× target", 10), "× C");
console.log(head.join("").trimEnd());
for (const r of rows) {
  const cells = [pad(String(r.L), 5), pad(f(r.oneSpinNs), 11), pad(f(r.tsNs), 10)];
  if (hasWasm) {
    cells.push(pad(f(r.wasmNs!), 12), pad(f(r.wasmKernelNs!), 13), pad(`${(100 * r.ptOverhead!).toFixed(0)}%`, 13),
      pad(`${r.speedup!.toFixed(0)}×`, 10), pad(`${r.vsTarget!.toFixed(2)}×`, 10), `${r.vsC!.toFixed(1)}×`);
  }
  console.log(cells.join("").trimEnd());
}

const result = {
  benchmark: "ea-parallel-tempering",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  unit: "ns per sample-spin update = ms per PT sweep × 1e6 / (samples × 2 × T × V)",
  settings: { dim: 3, temps: TEMPS, betas: Array.from(betas), wasmSamples: WASM_SAMPLES, typescriptSamples: TS_SAMPLES, quick },
  baseline: { description: "one-spin EA engine (src/mc/ea-samplers.ts, makeEaSampler), 1 sample, same ladder and L, ns per sample-spin update" },
  target: { nsPerUpdate: TARGET_NS, of: "wasm multi-spin PT sweep" },
  reference: { nsPerUpdate: C_REF_NS, description: "plain vectorised C, stated figure, not measured here" },
  wasm: hasWasm ? { available: true } : { available: false, reason: wasmWhyNot },
  rows,
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `ea-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
