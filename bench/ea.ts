// `npm run bench -- --only ea`: cost of the Edwards–Anderson spin glass with parallel tempering
// (src/mc/ea-samplers.ts): ns per spin update of a full PT sweep (two replicas × every temperature, then
// the exchange pass), next to the 3D Ising checkerboard Metropolis sweep on the same lattice in the same run.
//
// Options: --quick (fewer sizes, shorter timings), --out <file.json>. Writes bench/results/ea-<date>.json.

import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { randomSpins } from "../src/models/ising.js";
import { EA_BETA_C_3D } from "../src/models/ea.js";
import { checkerboardSweep, Rule } from "../src/mc/checkerboard.js";
import { metropolisTable } from "../src/mc/metropolis.js";
import { makeEaSampler } from "../src/mc/ea-samplers.js";
import { betaLadder, nearestIndex } from "../src/mc/parallel-tempering.js";
import { bestMsPerCall, writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const minMs = quick ? 200 : 1000;

const timeIt = (step: () => void): number => bestMsPerCall(step, minMs);

interface Row { L: number; temps: number; nsPerUpdate: number; baselineNs: number; ratio: number; sweepsPerSecond: number }

const temps = 16;
const rows: Row[] = [];
for (const L of quick ? [8, 16] : [8, 16, 32]) {
  const lat = lattice(3, L);
  // Baseline: one 3D Ising checkerboard Metropolis sweep of one configuration (uniform couplings).
  const s = randomSpins(lat.V, rngFor({ seed: 1 }));
  const table = metropolisTable(3, EA_BETA_C_3D);
  const rng = rngFor({ seed: 2 });
  const baselineNs = (timeIt(() => checkerboardSweep(lat, s, Rule.Metropolis, table, rng)) * 1e6) / lat.V;
  const betas = betaLadder(0.4, EA_BETA_C_3D, temps, EA_BETA_C_3D);
  const smp = makeEaSampler({ lat, betas, target: nearestIndex(betas, EA_BETA_C_3D), samples: 1, seed: 3 });
  for (let k = 0; k < 20; k++) smp.sweep();
  const ms = timeIt(() => smp.sweep());
  const nsPerUpdate = (ms * 1e6) / (2 * temps * lat.V);
  rows.push({ L, temps, nsPerUpdate, baselineNs, ratio: baselineNs / nsPerUpdate, sweepsPerSecond: 1000 / ms });
}

const pad = (x: string, n: number): string => x.padEnd(n);
console.log(`EA ±J 3D, parallel tempering over ${temps} temperatures × 2 replicas, one sample; baseline: 3D Ising checkerboard Metropolis on the same lattice`);
console.log(`${pad("L", 6)}${pad("ns/update (PT)", 16)}${pad("ns/update (Ising)", 19)}${pad("PT sweeps/s", 13)}speed vs baseline`);
for (const r of rows) console.log(`${pad(String(r.L), 6)}${pad(r.nsPerUpdate.toFixed(2), 16)}${pad(r.baselineNs.toFixed(2), 19)}${pad(r.sweepsPerSecond.toFixed(1), 13)}${r.ratio.toFixed(2)}×`);

const result = {
  benchmark: "ea-parallel-tempering",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  baseline: { description: "3D Ising checkerboard Metropolis sweep (src/mc/checkerboard.ts), same L, ns per spin update" },
  rows,
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `ea-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
