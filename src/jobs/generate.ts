// Iterated inverse RG: every stored configuration of a small ensemble is mapped L → 2L → 4L … by an
// inverse map, streaming, into one ensemble per size. Each generated configuration keeps the row and
// the reweighting variable of the original it descends from, and the log-probability of its draw.

import { lattice, neighbours } from "../lattice/geometry.js";
import { type Rng, rngFor } from "../lattice/rng.js";
import { isingEnergyWith } from "../models/ising.js";
import { checkerboardSweep, Rule } from "../mc/checkerboard.js";
import { metropolisTable } from "../mc/metropolis.js";
import { phi4LocalSweep } from "../mc/phi4-local.js";
import { type InverseMap, networkModelOf } from "../irg/generator.js";
import { minWaves, type MinWaves, overlapQ, overlapQk2 } from "../models/ea.js";
import { sampleSeries } from "./spin-glass.js";
import { createEnsemble, type EnsembleWriter, openEnsemble } from "../io/ensemble.js";
import { conjugateSeries } from "./block.js";
import { UsageError } from "../models/params.js";
import { SOFTWARE } from "../version.js";

export interface GenerateOptions {
  from: string;
  /** Output file of size L is `${prefix}_L${L}.h5`. */
  prefix: string;
  steps: number;
  seed: number;
  force?: boolean;
  /** Use at most this many configurations of the input (default: all). */
  limit?: number;
  /**
   * Monte Carlo refinement: local sweeps of the original action (at `refineAt`) applied to
   * every generated configuration at every level (0: none). Local updates relax the short-range
   * structure in a few sweeps while the long-wavelength modes drawn by the network stay.
   */
  refine?: number;
  /**
   * Coupling of the refinement sweeps (β or μ²; default: the input ensemble's). Ensembles generated
   * from parents at several couplings are combined by reweighting with the parents' weights, which is
   * exact only if the map parent → child is the same for all of them: give them all one coupling.
   */
  refineAt?: number;
  progress?: (done: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface GenerateResult {
  files: { L: number; path: string }[];
  configurations: number;
  seconds: number;
}

export function generatedPath(prefix: string, L: number): string {
  return `${prefix}_L${L}.h5`;
}

/** Observables of a generated configuration: φ⁴ sums, or Ising E and M. */
const PHI4_OBS = ["magnetization", "phi2", "phi4", "hopping", "parent_x", "parent_index", "log_q"];
const ISING_OBS = ["magnetization", "energy", "parent_x", "parent_index", "log_q"];
/** Overlap fields: q, |q(k_min)|², the ancestor's disorder sample (the network itself knows no couplings). */
const EA_OBS = ["q", "qk2", "sample", "parent_x", "parent_index", "log_q"];

export async function generate(map: InverseMap, opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const r = openEnsemble(opts.from);
  const writers: EnsembleWriter[] = [];
  try {
    const { meta } = r;
    const x = conjugateSeries(r);
    if (networkModelOf(meta.model) !== map.model) throw new UsageError(`the network generates ${map.model} configurations but ${opts.from} holds ${meta.model}; train a network for ${networkModelOf(meta.model)}`);
    if (meta.dim !== map.dim) throw new UsageError(`the network is ${map.dim}-dimensional but ${opts.from} is ${meta.dim}-dimensional`);
    if (r.configRows === 0) throw new UsageError(`${opts.from} stores no configurations`);
    if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > 8) throw new UsageError(`--steps must be between 1 and 8, got ${opts.steps}`);
    const sizes = Array.from({ length: opts.steps }, (_, k) => meta.L * 2 ** (k + 1));
    const Vmax = sizes[sizes.length - 1]! ** meta.dim;
    if (Vmax > 2 ** 28) throw new UsageError(`${opts.steps} steps from L = ${meta.L} give ${sizes.at(-1)}^${meta.dim} sites, more than this tool generates in memory`);
    const ea = meta.model === "ea";
    // Spins and overlap fields are ±1 (int8); φ⁴ fields are float32.
    const ising = meta.model === "ising" || ea;
    const obs = ea ? EA_OBS : ising ? ISING_OBS : PHI4_OBS;
    const parentSample = ea ? sampleSeries(r, x.length) : null;
    const saveEvery = Number(meta.params.saveEvery ?? 1);
    const n = Math.min(r.configRows, opts.limit ?? Infinity);
    const refine = opts.refine ?? 0;
    if (!Number.isInteger(refine) || refine < 0) throw new UsageError(`--refine must be an integer >= 0, got ${refine}`);
    // The overlap field has no local Hamiltonian of its own (its weight is a disorder average over two
    // replicas, docs/ea.md), so there is no Monte Carlo sweep to refine it with.
    if (ea && (refine > 0 || opts.refineAt !== undefined)) throw new UsageError("--refine is not defined for overlap fields (they have no local Hamiltonian to sweep); generate without --refine");
    if (opts.refineAt !== undefined && !Number.isFinite(opts.refineAt)) throw new UsageError(`--refine-at must be a number, got ${opts.refineAt}`);
    const key = meta.model === "phi4" ? "mu2" : "beta";
    const refineParams = opts.refineAt === undefined ? meta.params : { ...meta.params, [key]: opts.refineAt };
    const refiners = sizes.map((L) => refiner(meta.model, meta.dim as 2 | 3, L, refineParams, refine));
    for (const L of sizes) {
      writers.push(createEnsemble(generatedPath(opts.prefix, L), {
        model: meta.model, dim: meta.dim, L, chains: 1, observables: obs, configDtype: meta.configDtype, software: SOFTWARE,
        params: { ...meta.params, saveEvery: 1, generated_from: opts.from, generated_from_L: meta.L, generation_step: Math.log2(L / meta.L), generation_seed: opts.seed, refine_sweeps: refine, refine_coupling: Number(refineParams[key]), ...map.describe() },
      }, { force: opts.force }));
    }
    const bufs = sizes.map((L) => (ising ? new Int8Array(L ** meta.dim) : new Float32Array(L ** meta.dim)));
    const nbs = sizes.map((L) => neighbours(lattice(meta.dim, L)));
    const waves = ea ? sizes.map((L) => minWaves(lattice(meta.dim, L))) : null;
    const values = obs.map(() => new Float64Array(1));
    const V0 = meta.L ** meta.dim;
    const chunk = Math.max(1, Math.floor((8 << 20) / V0));
    let done = 0;
    for (let start = 0; start < n && !opts.shouldStop?.(); start += chunk) {
      const end = Math.min(n, start + chunk);
      const block = r.configs(start, end);
      for (let row = start; row < end; row++) {
        // One stream per original configuration: results do not depend on how rows are split among workers.
        const rng = rngFor({ seed: opts.seed, task: 7000, replica: row });
        let coarse: ArrayLike<number> = block.subarray((row - start) * V0, (row - start + 1) * V0);
        let Lc = meta.L;
        const chain = row % meta.chains, stored = Math.floor(row / meta.chains);
        const parentX = x[stored * saveEvery * meta.chains + chain]!;
        let lq = 0;
        sizes.forEach((L, k) => {
          const out = bufs[k]!;
          lq += map.sample(coarse, Lc, rng, out);
          refiners[k]!(out, rng);
          if (waves) summariseOverlap(out as Int8Array, waves[k]!, parentSample![stored * saveEvery * meta.chains + chain]!, values);
          else summarise(out, nbs[k]!, meta.dim, ising, values);
          const j = obs.indexOf("parent_x");
          values[j]![0] = parentX;
          values[j + 1]![0] = row;
          values[j + 2]![0] = lq;
          writers[k]!.measurement(values, [out]);
          coarse = out;
          Lc = L;
        });
        done++;
        opts.progress?.(done, n);
      }
      // Let signals and progress through between chunks.
      await new Promise((res) => setImmediate(res));
    }
    writers.forEach((w) => w.close({ completed: done === n }));
    return { files: sizes.map((L) => ({ L, path: generatedPath(opts.prefix, L) })), configurations: done, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    writers.forEach((w) => w.abort());
    throw e;
  } finally {
    r.close();
  }
}

/** `sweeps` local Metropolis sweeps at the coupling in `params`, in place (a no-op for 0). */
function refiner(model: string, dim: 2 | 3, L: number, params: Record<string, unknown>, sweeps: number): (cfg: Int8Array | Float32Array, rng: Rng) => void {
  if (sweeps === 0) return () => {};
  const lat = lattice(dim, L);
  if (model === "ising") {
    const table = metropolisTable(dim, Number(params.beta));
    return (cfg, rng) => {
      for (let k = 0; k < sweeps; k++) checkerboardSweep(lat, cfg as Int8Array, Rule.Metropolis, table, rng);
    };
  }
  const c = { mu2: Number(params.mu2), lambda: Number(params.lambda), kappa: Number(params.kappa) };
  const phi = new Float64Array(lat.V);
  return (cfg, rng) => {
    phi.set(cfg);
    for (let k = 0; k < sweeps; k++) phi4LocalSweep(lat, phi, c, rng);
    (cfg as Float32Array).set(phi);
  };
}

/** Overlap field: q, |q(k_min)|², and the disorder sample of the ancestor. */
function summariseOverlap(rho: Int8Array, w: MinWaves, sample: number, out: Float64Array[]): void {
  out[0]![0] = overlapQ(rho);
  out[1]![0] = overlapQk2(rho, w);
  out[2]![0] = sample;
}

/** Per-configuration sums: Ising M, E; φ⁴ M, Σφ², Σφ⁴, Σ_{x,μ} φ_x φ_{x+μ}. */
function summarise(cfg: Int8Array | Float32Array, nb: Int32Array, dim: number, ising: boolean, out: Float64Array[]): void {
  if (ising) {
    let m = 0;
    for (let i = 0; i < cfg.length; i++) m += cfg[i]!;
    out[0]![0] = m;
    out[1]![0] = isingEnergyWith(nb, dim, cfg as Int8Array);
    return;
  }
  const z = 2 * dim;
  let m = 0, p2 = 0, p4 = 0, hop = 0;
  for (let i = 0; i < cfg.length; i++) {
    const f = cfg[i]!;
    m += f;
    p2 += f * f;
    p4 += f * f * f * f;
    let h = 0;
    for (let d = 0; d < dim; d++) h += cfg[nb[i * z + 2 * d]!]!;
    hop += f * h;
  }
  out[0]![0] = m;
  out[1]![0] = p2;
  out[2]![0] = p4;
  out[3]![0] = hop;
}
