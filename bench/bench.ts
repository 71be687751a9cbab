// `npm run bench`: cost per spin update of every Ising sampler (ns per flipped spin for Wolff) at
// several sizes, each stated as a ratio to a plain one-spin-per-byte Metropolis loop timed in the same run.
//
// Options: --quick (fewer sizes, shorter timings), --out <file.json>. Writes bench/results/<name>.json.

import { mkdtempSync, rmSync } from "node:fs";
import { cpus, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { lattice } from "../src/lattice/geometry.js";
import { Rng, rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, BETA_C_3D, randomSpins } from "../src/models/ising.js";
import { ISING_ALGORITHMS, makeIsingSampler } from "../src/mc/ising-samplers.js";
import { runPool, type Job } from "../src/cluster/pool.js";
import { h5Ready } from "../src/io/h5.js";
import { runJob, WORKER_URL, type SimulateJobParams } from "../src/jobs/registry.js";
import { simulateOptions } from "../src/jobs/simulation.js";
import { writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const minMs = quick ? 150 : 600;

/** The baseline: the straightforward loop a newcomer writes (branchy, generator object, 2D). */
function plainMetropolis(s: Int8Array, L: number, beta: number, rng: Rng): void {
  for (let y = 0; y < L; y++) {
    for (let x = 0; x < L; x++) {
      const i = y * L + x;
      const h = s[y * L + ((x + 1) % L)]! + s[y * L + ((x + L - 1) % L)]! + s[((y + 1) % L) * L + x]! + s[((y + L - 1) % L) * L + x]!;
      const dE = 2 * s[i]! * h;
      if (dE <= 0 || rng.float() < Math.exp(-beta * dE)) s[i] = -s[i]!;
    }
  }
}

/** Runs `step` until `minMs` elapsed (after one warm-up call); returns ms per call. */
function timeIt(step: () => void): number {
  step();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    step();
    n++;
    t = performance.now();
  }
  return (t - t0) / n;
}

interface Row {
  dim: number;
  L: number;
  algorithm: string;
  unit: string;
  ns: number;
  ratioToBaseline: number;
}

const rows: Row[] = [];
const baselineL = 256;
const bs = randomSpins(baselineL * baselineL, rngFor({ seed: 1 }));
const brng = rngFor({ seed: 2 });
const baselineNs = (timeIt(() => plainMetropolis(bs, baselineL, BETA_C_2D, brng)) * 1e6) / (baselineL * baselineL);

const sizes: Record<number, number[]> = quick ? { 2: [64, 256], 3: [16, 32] } : { 2: [64, 128, 256, 512, 1024], 3: [16, 32, 64, 128] };
for (const dim of [2, 3] as const) {
  for (const L of sizes[dim]!) {
    for (const algorithm of ISING_ALGORITHMS) {
      const lat = lattice(dim, L);
      const smp = makeIsingSampler({ algorithm, lat, beta: dim === 2 ? BETA_C_2D : BETA_C_3D, rng: rngFor({ seed: 3 }) });
      for (let k = 0; k < 5; k++) smp.sweep();
      smp.endThermalization();
      const c = smp.counters;
      const u0 = algorithm === "wolff" ? c.flipped : c.updates;
      let calls = 0;
      const ms = timeIt(() => {
        smp.sweep();
        calls++;
      });
      const work = ((algorithm === "wolff" ? c.flipped : c.updates) - u0) / calls;
      const ns = (ms * 1e6) / work;
      rows.push({ dim, L, algorithm, unit: algorithm === "wolff" ? "ns/flipped spin" : "ns/spin update", ns, ratioToBaseline: baselineNs / ns });
    }
  }
}

/** Wall time of the same batch of independent simulation jobs on 1 and on 2 worker threads. */
async function workerScaling(): Promise<{ jobs: number; seconds1: number; seconds2: number; speedup: number }> {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-bench-"));
  const jobs = (tag: string): Job<SimulateJobParams>[] =>
    [0, 1, 2, 3].map((k) => ({
      id: k,
      kind: "simulate",
      params: {
        model: "ising", force: true, resume: false,
        options: simulateOptions("ising", { L: 128, beta: BETA_C_2D, algorithm: "metropolis", sweeps: quick ? 300 : 1500, therm: 10, saveEvery: 0, seed: 1, task: k, out: join(dir, `${tag}${k}.h5`) }),
      },
    }));
  const time = async (workers: number): Promise<number> => {
    const t0 = performance.now();
    await runPool(jobs(`w${workers}-`), { workers, workerUrl: WORKER_URL }, runJob);
    return (performance.now() - t0) / 1000;
  };
  const seconds1 = await time(1);
  const seconds2 = await time(2);
  rmSync(dir, { recursive: true, force: true });
  return { jobs: 4, seconds1, seconds2, speedup: seconds1 / seconds2 };
}

const scaling = await workerScaling();
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`baseline: plain 2D Metropolis, one spin per byte, L = ${baselineL}: ${baselineNs.toFixed(2)} ns/spin update`);
console.log(`${pad("dim", 4)}${pad("L", 6)}${pad("algorithm", 12)}${pad("cost", 10)}${pad("unit", 18)}speed-up vs baseline`);
for (const r of rows) {
  console.log(`${pad(String(r.dim), 4)}${pad(String(r.L), 6)}${pad(r.algorithm, 12)}${pad(r.ns.toFixed(3), 10)}${pad(r.unit, 18)}${r.ratioToBaseline.toFixed(2)}×`);
}

console.log(`worker threads: 4 independent L=128 Metropolis runs take ${scaling.seconds1.toFixed(2)} s on 1 worker, ${scaling.seconds2.toFixed(2)} s on 2: speed-up ${scaling.speedup.toFixed(2)}×`);

const result = {
  benchmark: "ising-samplers",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  baseline: { description: "plain 2D Metropolis, one spin per byte, Math.exp per update", L: baselineL, nsPerUpdate: baselineNs },
  rows,
  workerScaling: scaling,
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `ising-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
