// Cost of compatible Monte Carlo (src/irg/compatible.ts): ns per site update of the constrained
// checkerboard sweep (heat bath and Metropolis) in 2D (L = 256) and 3D (L = 64), next to the plain
// checkerboard sweeps of src/mc/checkerboard.ts timed in the same process on the same configuration.
//
// Usage: npx tsc -p . && node dist/bench/compatible.js [--quick] [--physics] [--out file.json]
//   --physics also measures (i) the relaxation time of the energy per level of the iterated inverse
//   transformation and (ii) the discrepancy of an L = 16 ensemble generated from L = 8 configurations of
//   the ORIGINAL Hamiltonian at β_c against exact / direct L = 16 averages (10^5 configurations).
// Writes bench/results/compatible-<date>.json (through a .tmp file and a rename).

import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { type Dim, lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { blockSums, compatibleInit, compatibleSampler, constrainedSweep, constrainedTable } from "../src/mc/compatible.js";
import { inverseLevels, relaxationTime } from "../src/irg/compatible.js";
import { checkerboardSweep, Rule } from "../src/mc/checkerboard.js";
import { heatbathTable } from "../src/mc/heatbath.js";
import { metropolisTable } from "../src/mc/metropolis.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";
import { BETA_C_2D, BETA_C_3D, isingEnergy, magnetization } from "../src/models/ising.js";
import { kaufman } from "../src/models/ising-exact.js";
import { majorityBlock } from "../src/rg/majority.js";
import { uwerr } from "../src/analysis/stats.js";
import { bestMsPerCall, writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const physics = args.includes("--physics");
const outArg = args.indexOf("--out");
const minMs = quick ? 200 : 1000;

const timeIt = (step: () => void): number => bestMsPerCall(step, minMs);

/** An equilibrated coarse configuration of the original model at L/2 (Wolff). */
function equilibratedCoarse(dim: Dim, Lc: number, beta: number, seed: number): Int8Array {
  const lat = lattice(dim, Lc);
  const smp = makeIsingSampler({ algorithm: "wolff", lat, beta, rng: rngFor({ seed }) });
  for (let k = 0; k < 50; k++) smp.sweep();
  const s = new Int8Array(lat.V);
  smp.config(0, s);
  return s;
}

interface Row {
  dim: number;
  L: number;
  kernel: string;
  nsPerSite: number;
  ratioToPlainMetropolis: number;
  changedFraction?: number;
}

const rows: Row[] = [];
for (const [dim, L] of [[2, 256], [3, 64]] as const) {
  const beta = dim === 2 ? BETA_C_2D : BETA_C_3D;
  const lat = lattice(dim, L);
  const sigma = equilibratedCoarse(dim, L / 2, beta, 1);
  const s = compatibleInit(lat, sigma);
  const bsum = blockSums(lat, s);
  const rng = rngFor({ seed: 2 });
  const tables = { heatbath: constrainedTable(dim, beta, "heatbath"), metropolis: constrainedTable(dim, beta, "metropolis") };
  for (let k = 0; k < 20; k++) constrainedSweep(lat, s, sigma, beta, rng, { blockSum: bsum, table: tables.heatbath });
  const plain = s.slice();
  const mt = metropolisTable(dim, beta), ht = heatbathTable(dim, beta);
  const row = (kernel: string, ms: number, changed?: number): Row => ({ dim, L, kernel, nsPerSite: (ms * 1e6) / lat.V, ratioToPlainMetropolis: NaN, ...(changed === undefined ? {} : { changedFraction: changed }) });
  const metroMs = timeIt(() => checkerboardSweep(lat, plain, Rule.Metropolis, mt, rng));
  const local: Row[] = [row("checkerboard Metropolis", metroMs)];
  local.push(row("checkerboard heat bath", timeIt(() => checkerboardSweep(lat, plain, Rule.HeatBath, ht, rng))));
  for (const rule of ["metropolis", "heatbath"] as const) {
    let changed = 0, sweeps = 0;
    const ms = timeIt(() => {
      changed += constrainedSweep(lat, s, sigma, beta, rng, { rule, blockSum: bsum, table: tables[rule] });
      sweeps++;
    });
    local.push(row(`constrained ${rule === "metropolis" ? "Metropolis" : "heat bath"}`, ms, changed / (sweeps * lat.V)));
  }
  // The convenience form without precomputed block sums (recomputes them and checks compatibility).
  local.push(row("constrained heat bath, no blockSum (checks σ)", timeIt(() => constrainedSweep(lat, s, sigma, beta, rng))));
  for (const r of local) r.ratioToPlainMetropolis = r.nsPerSite / local[0]!.nsPerSite;
  rows.push(...local);
}

const pad = (x: string, n: number): string => x.padEnd(n);
console.log(`${pad("dim", 4)}${pad("L", 6)}${pad("kernel", 48)}${pad("ns/site", 10)}${pad("× plain Metropolis", 20)}changed fraction`);
for (const r of rows) {
  console.log(`${pad(String(r.dim), 4)}${pad(String(r.L), 6)}${pad(r.kernel, 48)}${pad(r.nsPerSite.toFixed(2), 10)}${pad(r.ratioToPlainMetropolis.toFixed(2), 20)}${r.changedFraction?.toFixed(3) ?? ""}`);
}

interface PhysicsResult {
  relaxation: { dim: number; beta: number; L0: number; chains: number; levels: { L: number; tauEnergy: number; tauBlockCorrelation: number; changedFraction: number }[] }[];
  discrepancy?: Record<string, { value: number; error: number } | number>;
}

function physicsRuns(): PhysicsResult {
  const relaxation: PhysicsResult["relaxation"] = [];
  for (const [dim, L0, levels, chains] of [[2, 8, 5, 32], [3, 4, 3, 16]] as const) {
    const beta = dim === 2 ? BETA_C_2D : BETA_C_3D;
    const sweeps = 40;
    const e: Float64Array[][] = Array.from({ length: levels }, () => []);
    const g: Float64Array[][] = Array.from({ length: levels }, () => []);
    const ch = new Float64Array(levels);
    for (let c = 0; c < chains; c++) {
      const coarse = equilibratedCoarse(dim, L0, beta, 100 + c);
      const lv = inverseLevels({ dim, beta, coarse, L0, levels, sweepsPerLevel: sweeps, rng: rngFor({ seed: 200, replica: c }) });
      lv.forEach((l, j) => {
        e[j]!.push(l.energy!);
        g[j]!.push(l.blockCorrelation!);
        ch[j]! += l.changedFraction / chains;
      });
    }
    relaxation.push({
      dim, beta, L0, chains,
      levels: e.map((x, j) => ({ L: L0 << (j + 1), tauEnergy: relaxationTime(x), tauBlockCorrelation: relaxationTime(g[j]!), changedFraction: ch[j]! })),
    });
  }
  for (const r of relaxation) {
    console.log(`relaxation ${r.dim}D from L0 = ${r.L0} (${r.chains} chains): ` + r.levels.map((l) => `L=${l.L}: τ_e=${l.tauEnergy.toFixed(2)}, τ_G=${l.tauBlockCorrelation.toFixed(2)}`).join("; "));
  }
  if (quick) return { relaxation };
  // Discrepancy: coarse L = 8 from the original Hamiltonian vs blocked direct L = 16.
  const beta = BETA_C_2D, N = 100000;
  const lat8: Lattice = lattice(2, 8), lat16: Lattice = lattice(2, 16);
  const chain = (lat: Lattice, seed: number) => {
    const smp = makeIsingSampler({ algorithm: "wolff", lat, beta, rng: rngFor({ seed }) });
    for (let k = 0; k < 100; k++) smp.sweep();
    smp.endThermalization();
    return smp;
  };
  const d = chain(lat16, 1), o = chain(lat8, 2);
  const gen = compatibleSampler({ lat: lat16, beta, coarse: new Int8Array(64).fill(1), rng: rngFor({ seed: 3 }) });
  const s = new Int8Array(256), c = new Int8Array(64);
  const eD: number[] = [], mD: number[] = [], eG: number[] = [], mG: number[] = [], ecB: number[] = [], ecO: number[] = [];
  for (let k = 0; k < N; k++) {
    d.sweep();
    d.config(0, s);
    eD.push(isingEnergy(lat16, s) / 256);
    mD.push(Math.abs(magnetization(s)) / 256);
    majorityBlock(lat16, s, c, { tie: "first" });
    ecB.push(isingEnergy(lat8, c) / 64);
    o.sweep();
    o.config(0, c);
    ecO.push(isingEnergy(lat8, c) / 64);
    gen.reset(c);
    for (let j = 0; j < 10; j++) gen.sweep();
    eG.push(isingEnergy(lat16, gen.spins) / 256);
    mG.push(Math.abs(magnetization(gen.spins)) / 256);
  }
  const u = (x: number[]) => { const r = uwerr(x); return { value: r.value, error: r.error }; };
  const discrepancy = {
    configurations: N,
    kaufman16: kaufman(16, beta).e,
    kaufman8: kaufman(8, beta).e,
    eDirect16: u(eD), eGenerated16: u(eG), absMDirect16: u(mD), absMGenerated16: u(mG),
    eCoarseBlocked: u(ecB), eCoarseOriginal: u(ecO),
  };
  console.log(`discrepancy (L = 8 original H → 16, ${N} configurations, 10 heat-bath sweeps):`);
  console.log(`  e:   generated ${discrepancy.eGenerated16.value.toFixed(5)} ± ${discrepancy.eGenerated16.error.toFixed(5)}, direct ${discrepancy.eDirect16.value.toFixed(5)} ± ${discrepancy.eDirect16.error.toFixed(5)}, Kaufman ${discrepancy.kaufman16.toFixed(5)}`);
  console.log(`  |m|: generated ${discrepancy.absMGenerated16.value.toFixed(5)} ± ${discrepancy.absMGenerated16.error.toFixed(5)}, direct ${discrepancy.absMDirect16.value.toFixed(5)} ± ${discrepancy.absMDirect16.error.toFixed(5)}`);
  console.log(`  coarse nn energy: blocked direct 16 → 8 ${discrepancy.eCoarseBlocked.value.toFixed(5)} ± ${discrepancy.eCoarseBlocked.error.toFixed(5)}, original H at 8 ${discrepancy.eCoarseOriginal.value.toFixed(5)} ± ${discrepancy.eCoarseOriginal.error.toFixed(5)} (Kaufman ${discrepancy.kaufman8.toFixed(5)})`);
  return { relaxation, discrepancy };
}

const phys = physics ? physicsRuns() : undefined;

const result = {
  benchmark: "compatible-mc",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  note: "ns per site visit; the constrained sweeps run on a fine configuration relaxed from the compatible start of a Wolff-equilibrated coarse configuration at the critical coupling",
  rows,
  ...(phys ? { physics: phys } : {}),
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `compatible-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
