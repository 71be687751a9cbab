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
// Second table ("allCores" in the JSON): samples per hour on all cores for a 16^3 run of 10^5 sweeps.
// The lock-step threaded sampler (src/cluster/ea-threads.ts, engine "auto"), 512 samples (16 blocks of 32),
// same ladder, with 1 worker thread and with availableParallelism() of them: mean ms per PT sweep over
// ~2 s (1 s with --quick) after 5 warm-up sweeps, ns per sample-spin update as above, samples per hour =
// samples × 3600 / (10^5 × s per sweep), and the speed-up of all cores over one. Sweeps only: the
// measurements of a real run (every 10 sweeps, say) are not included.
//
// Options: --quick (L = 8, 16 and shorter timings; else L = 8, 16, 32), --out <file.json>.
// Writes bench/results/ea-<date>.json.

import { availableParallelism, cpus, hostname } from "node:os";
import { join } from "node:path";
import { startThreadedEaSampler } from "../src/cluster/ea-threads.js";
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

// All cores: the threaded sampler on a 16^3 run of 10^5 sweeps.
const AC_L = 16;
const AC_SAMPLES = 512;
const AC_SWEEPS = 1e5;
const AC_WARMUP = 5;
const AC_START_MS = 60_000;
const acMinMs = quick ? 1000 : 2000;
const acEngine = hasWasm ? "wasm" : "typescript";

interface AllCoresRow {
  requestedWorkers: number; workers: number; sweepsTimed: number;
  msPerSweep: number; nsPerUpdate: number; samplesPerHour: number; hoursPerRun: number;
}

/** Mean ms per sweep of the threaded sampler with `workers` threads (after AC_WARMUP sweeps, over acMinMs). */
async function allCoresRow(workers: number): Promise<AllCoresRow> {
  const lat = lattice(3, AC_L);
  // The start resolves only on each worker's "ready" message: a worker that ends without one would leave it
  // pending and Node would exit silently (code 13) with nothing written, so give it up after AC_START_MS.
  let timer: NodeJS.Timeout | undefined;
  const smp = await Promise.race([
    startThreadedEaSampler({ lat, betas, target, samples: AC_SAMPLES, seed: 3, engine: "auto", workers }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${workers} worker thread(s) did not start within ${AC_START_MS / 1000} s`)), AC_START_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  try {
    for (let k = 0; k < AC_WARMUP; k++) smp.sweep();
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < acMinMs) {
      smp.sweep();
      n++;
      t = performance.now();
    }
    const msPerSweep = (t - t0) / n;
    const s = msPerSweep / 1000;
    return {
      requestedWorkers: workers, workers: smp.workers, sweepsTimed: n, msPerSweep,
      nsPerUpdate: (msPerSweep * 1e6) / (AC_SAMPLES * 2 * TEMPS * lat.V),
      samplesPerHour: (AC_SAMPLES * 3600) / (AC_SWEEPS * s),
      hoursPerRun: (AC_SWEEPS * s) / 3600,
    };
  } finally {
    await smp.dispose();
  }
}

const cores = availableParallelism();
const acRows: AllCoresRow[] = [];
let acWhyNot = "";
try {
  for (const w of cores > 1 ? [1, cores] : [1]) acRows.push(await allCoresRow(w));
} catch (e) {
  acWhyNot = (e as Error).message;
}
const acSpeedup = acRows.length > 1 ? acRows[0]!.msPerSweep / acRows[acRows.length - 1]!.msPerSweep : acRows.length === 1 ? 1 : null;

console.log("");
console.log(`All cores: ${AC_L}^3, ${AC_SAMPLES} samples, ${TEMPS} temperatures × 2 replicas, ${AC_SWEEPS.toExponential(0).replace("e+", "e")} sweeps per run; lock-step threaded sampler (engine auto = ${acEngine}), ${cores} cores available.`);
console.log("Sweeps only: the measurements of a real run (every 10 sweeps, say) are not included.");
if (acWhyNot) {
  console.log(`threaded sampler unavailable, table skipped: ${acWhyNot}`);
} else {
  console.log([pad("workers", 9), pad("ms/sweep", 11), pad("ns/update", 11), pad("samples/h", 12), pad("h/run", 9), "speed-up"].join(""));
  for (const r of acRows) {
    const wk = r.workers === r.requestedWorkers ? String(r.workers) : `${r.workers} (of ${r.requestedWorkers})`;
    console.log([pad(wk, 9), pad(f(r.msPerSweep), 11), pad(f(r.nsPerUpdate), 11), pad(f(r.samplesPerHour), 12), pad(f(r.hoursPerRun), 9),
      `${(acRows[0]!.msPerSweep / r.msPerSweep).toFixed(2)}×`].join(""));
  }
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
  allCores: acWhyNot
    ? { available: false, reason: acWhyNot }
    : {
      available: true,
      description: "samples per hour on all cores for a 16^3 run of 10^5 sweeps: threaded lock-step sampler (src/cluster/ea-threads.ts), mean ms per PT sweep; sweeps only, measurements (e.g. every 10 sweeps) not included",
      dim: 3, L: AC_L, V: AC_L ** 3, samples: AC_SAMPLES, sweepsPerRun: AC_SWEEPS, engine: acEngine, cores,
      warmupSweeps: AC_WARMUP, timingMs: acMinMs,
      samplesPerHour: "samples × 3600 / (1e5 × s per sweep)",
      rows: acRows,
      speedup: acSpeedup,
    },
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `ea-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
