// `node dist/bench/phi4.js`: cost of the φ⁴ kernels — ns per site update of the local sweep and ns per
// flipped site of the embedded Wolff cluster — at L = 32…2048 near criticality (μ² = −0.9515, λ = 0.7,
// κ = 1), each stated as a speed-up over (a) the straightforward φ⁴ local loop (Box–Muller per pair,
// Math.exp per site, Rng methods: the implementation before the fast kernels) and (b) the plain 2D
// Ising Metropolis loop of bench/bench.ts, both timed in the same process. The straightforward cluster
// (Rng methods, Math.expm1 per bond test) is timed too, for the cluster's own before/after.
//
// Options: --quick (short timings and thermalisation), --out <file.json>. Writes bench/results/phi4-<date>.json.
// Times are wall clock (as in bench.ts); CPU time of the process is recorded next to them, since on a
// shared machine the two differ when another process takes the core.

import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { lattice, neighbours, type Lattice } from "../src/lattice/geometry.js";
import { Rng, rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, randomSpins } from "../src/models/ising.js";
import { type Phi4Couplings, randomField } from "../src/models/phi4.js";
import { phi4LocalSweep } from "../src/mc/phi4-local.js";
import { phi4WolffClusterPow2 } from "../src/mc/phi4-cluster.js";
import { writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const minMs = quick ? 150 : 600;
const couplings: Phi4Couplings = { mu2: -0.9515, lambda: 0.7, kappa: 1 };
const sizes = [32, 128, 512, 2048];

/** The Ising baseline, as in bench/bench.ts: the straightforward loop a newcomer writes (branchy, generator object, 2D). */
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

/** The straightforward φ⁴ local sweep (the previous implementation): Box–Muller per row, Math.exp per site, Rng methods. */
function referenceSweep(lat: Lattice, phi: Float64Array, c: Phi4Couplings, rng: Rng, normals: Float64Array): number {
  const L = lat.L;
  const A = (c.mu2 + 4 * c.kappa) / 2, sd = Math.sqrt(1 / (2 * A)), shift = c.kappa / (2 * A), q = c.lambda / 4;
  let accepted = 0;
  for (let col = 0; col < 2; col++) {
    for (let y = 0; y < L; y++) {
      const n = L >> 1;
      for (let k = 0; k < n; k += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - rng.double()));
        const a = 2 * Math.PI * rng.double();
        normals[k] = r * Math.cos(a);
        if (k + 1 < n) normals[k + 1] = r * Math.sin(a);
      }
      const row = y * L, up = (y === L - 1 ? 0 : y + 1) * L, dn = (y === 0 ? L - 1 : y - 1) * L;
      let k = 0;
      for (let x = (y + col) & 1; x < L; x += 2, k++) {
        const i = row + x;
        const h = phi[x === 0 ? i + L - 1 : i - 1]! + phi[x === L - 1 ? i - L + 1 : i + 1]! + phi[up + x]! + phi[dn + x]!;
        const old = phi[i]!, next = shift * h + sd * normals[k]!;
        const o2 = old * old, n2 = next * next;
        const dS = q * (n2 * n2 - o2 * o2);
        const u = rng.float();
        if (dS <= 0 || u < Math.exp(-dS)) {
          phi[i] = next;
          accepted++;
        }
      }
    }
  }
  return accepted;
}

/** The straightforward embedded cluster (the previous implementation): Rng methods, Math.expm1 per bond test. */
function referenceCluster(nb: Int32Array, z: number, phi: Float64Array, kappa: number, rng: Rng, stack: Int32Array): number {
  const seed = rng.below(phi.length);
  const positive = phi[seed]! > 0;
  phi[seed] = -phi[seed]!;
  stack[0] = seed;
  let sp = 1, size = 1;
  const k2 = -2 * kappa;
  while (sp > 0) {
    const i = stack[--sp]!;
    const fi = -phi[i]!;
    const base = i * z;
    for (let k = 0; k < z; k++) {
      const j = nb[base + k]!;
      const fj = phi[j]!;
      if (fj > 0 !== positive || fj === 0) continue;
      if (rng.float() < -Math.expm1(k2 * fi * fj)) {
        phi[j] = -fj;
        stack[sp++] = j;
        size++;
      }
    }
  }
  return size;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs `step` until `minMs` elapsed (after one warm-up call); returns wall and CPU ms in total and the work summed over the timed calls. */
function timeIt(step: () => number): { ms: number; cpu: number; work: number } {
  step();
  let work = 0;
  const t0 = performance.now(), c0 = cpuMs();
  let t = t0;
  while (t - t0 < minMs) {
    work += step();
    t = performance.now();
  }
  return { ms: t - t0, cpu: cpuMs() - c0, work };
}

interface Row {
  L: number;
  kernel: "local" | "cluster";
  unit: string;
  /** Wall-clock ns per unit (site update, or flipped site). */
  ns: number;
  /** CPU ns per unit. */
  nsCpu: number;
  /** The straightforward implementation of the same kernel, ns per unit in the same run. */
  referenceNs: number;
  /** Speed-up over the straightforward φ⁴ local loop at this L: its ns per site update / ns. */
  ratioToReferenceLocal: number;
  /** Speed-up over the straightforward implementation of this kernel: referenceNs / ns. */
  ratioToReference: number;
  /** Speed-up over the plain Ising Metropolis baseline: its ns per spin update / ns. */
  ratioToIsing: number;
  /** Local: acceptance rate; cluster: mean cluster size / V. */
  stat: number;
}

// The Ising baseline (same lattice size and β as bench.ts).
const baselineL = 256;
const bs = randomSpins(baselineL * baselineL, rngFor({ seed: 1 }));
const brng = rngFor({ seed: 2 });
const isingT = timeIt(() => {
  plainMetropolis(bs, baselineL, BETA_C_2D, brng);
  return baselineL * baselineL;
});
const isingNs = (isingT.ms * 1e6) / isingT.work;

const rows: Row[] = [];
for (const L of sizes) {
  const lat = lattice(2, L), V = lat.V;
  const nb = neighbours(lat);
  const stack = new Int32Array(V);
  const normals = new Float64Array(L);
  // Brief thermalisation from a hot start: local sweeps, each followed by clusters flipping ≥ V sites
  // (the clusters undo the hot start's small domains quickly; how far they got shows in <size>/V).
  const rng = rngFor({ seed: 7, task: L });
  const phi = randomField(V, rng);
  const therm = quick ? (L >= 2048 ? 10 : 15) : L >= 2048 ? 30 : 60;
  for (let k = 0; k < therm; k++) {
    phi4LocalSweep(lat, phi, couplings, rng);
    for (let f = 0; f < V;) f += phi4WolffClusterPow2(L, phi, couplings.kappa, rng, stack);
  }
  // Each kernel starts from a copy of the thermalised field with its own stream.
  const local = (sweep: (f: Float64Array, r: Rng) => number, seed: number): { ms: number; cpu: number; work: number; acc: number } => {
    const f = phi.slice(), r = rngFor({ seed, task: L });
    let acc = 0;
    const t = timeIt(() => {
      acc += sweep(f, r);
      return V;
    });
    return { ...t, acc: acc / (t.work + V) };
  };
  const cluster = (grow: (f: Float64Array, r: Rng) => number, seed: number): { ms: number; cpu: number; work: number; mean: number } => {
    const f = phi.slice(), r = rngFor({ seed, task: L });
    let clusters = 0, all = 0;
    const t = timeIt(() => {
      let flipped = 0;
      while (flipped < V / 2) {
        flipped += grow(f, r);
        clusters++;
      }
      all += flipped;
      return flipped;
    });
    return { ...t, mean: all / clusters / V };
  };
  const fastLocal = local((f, r) => phi4LocalSweep(lat, f, couplings, r), 11);
  const refLocal = local((f, r) => referenceSweep(lat, f, couplings, r, normals), 12);
  const fastCluster = cluster((f, r) => phi4WolffClusterPow2(L, f, couplings.kappa, r, stack), 13);
  const refCluster = cluster((f, r) => referenceCluster(nb, 4, f, couplings.kappa, r, stack), 14);
  const refLocalNs = (refLocal.ms * 1e6) / refLocal.work;
  const row = (kernel: "local" | "cluster", t: { ms: number; cpu: number; work: number }, ref: { ms: number; work: number }, stat: number): Row => {
    const ns = (t.ms * 1e6) / t.work, referenceNs = (ref.ms * 1e6) / ref.work;
    return {
      L, kernel, unit: kernel === "local" ? "ns/site update" : "ns/flipped site", ns, nsCpu: (t.cpu * 1e6) / t.work, referenceNs,
      ratioToReferenceLocal: refLocalNs / ns, ratioToReference: referenceNs / ns, ratioToIsing: isingNs / ns, stat,
    };
  };
  rows.push(row("local", fastLocal, refLocal, fastLocal.acc));
  rows.push(row("cluster", fastCluster, refCluster, fastCluster.mean));
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`phi^4 2D, mu2 = ${couplings.mu2}, lambda = ${couplings.lambda}, kappa = ${couplings.kappa}${quick ? " (quick)" : ""}`);
console.log(`Ising baseline: plain 2D Metropolis, one spin per byte, L = ${baselineL}: ${isingNs.toFixed(2)} ns/spin update`);
console.log("speed-ups: vs ref local = straightforward phi^4 local loop at this L; vs ref = straightforward version of the same kernel; vs Ising = the baseline");
console.log(`${pad("L", 6)}${pad("kernel", 9)}${pad("ns", 8)}${pad("cpu ns", 8)}${pad("unit", 17)}${pad("ref ns", 9)}${pad("vs ref local", 14)}${pad("vs ref", 8)}${pad("vs Ising", 10)}stat`);
for (const r of rows) {
  const stat = r.kernel === "local" ? `acceptance ${r.stat.toFixed(3)}` : `<size>/V ${r.stat.toFixed(4)}`;
  console.log(
    `${pad(String(r.L), 6)}${pad(r.kernel, 9)}${pad(r.ns.toFixed(2), 8)}${pad(r.nsCpu.toFixed(2), 8)}${pad(r.unit, 17)}${pad(r.referenceNs.toFixed(2), 9)}` +
      `${pad(r.ratioToReferenceLocal.toFixed(2) + "×", 14)}${pad(r.ratioToReference.toFixed(2) + "×", 8)}${pad(r.ratioToIsing.toFixed(2) + "×", 10)}${stat}`,
  );
}

const result = {
  benchmark: "phi4-kernels",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  quick,
  couplings,
  baseline: {
    ising: { description: "plain 2D Metropolis, one spin per byte, Math.exp per update", L: baselineL, nsPerUpdate: isingNs },
    referenceLocal: "straightforward phi^4 local loop: Box-Muller per pair, Math.exp per site, Rng methods (rows' referenceNs for kernel 'local')",
    referenceCluster: "straightforward embedded cluster: Rng methods, Math.expm1 per bond test (rows' referenceNs for kernel 'cluster')",
  },
  rows,
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `phi4-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
