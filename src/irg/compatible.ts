// Compatible Monte Carlo as an inverse RG map (Ron, Swendsen & Brandt, PRL 89, 275701 (2002)): a coarse
// configuration is refined L → 2L → 4L … by constrained sweeps (src/mc/compatible.ts) at every level,
// optionally followed by unconstrained sweeps; with the relaxation record of every level.

import { type Dim, type Lattice, lattice, neighbours } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { heatbathSweep } from "../mc/heatbath.js";
import { metropolisSweep } from "../mc/metropolis.js";
import { wolffCluster, wolffThreshold } from "../mc/wolff.js";
import { isingEnergyRows } from "../models/ising.js";
import { blockCorrelation, blockSums, compatibleInit, type ConstrainedRule, constrainedSweep, constrainedTable } from "../mc/compatible.js";

export interface InverseLevelsOptions {
  dim: Dim;
  beta: number;
  /** Coarse configuration on L0^d. */
  coarse: Int8Array;
  L0: number;
  /** Number of doublings: configurations of 2L0, 4L0, …, 2^levels·L0 are returned. */
  levels: number;
  /** Constrained sweeps at every level. */
  sweepsPerLevel: number;
  rng: Rng;
  /** Default "heatbath". */
  rule?: ConstrainedRule;
  /**
   * Unconstrained sweeps after the constrained ones at every level, the result feeding the next level.
   * Default 0: the pure inverse transformation.
   */
  unconstrainedSweeps?: number;
  /**
   * "local" (default): plain checkerboard sweeps of `rule`. "wolff": Wolff cluster sweeps, which relax
   * the long-wavelength modes that the compatible step gets wrong in a few sweeps; one calibration sweep
   * (clusters until V spins flipped) fixes the number of clusters of every counted sweep, because a
   * stopping rule that depends on the cluster sizes would bias the distribution. "hybrid": each sweep is
   * a local sweep followed by a Wolff sweep (the local one relaxes the short range, which Wolff alone
   * relaxes slowly).
   */
  unconstrainedAlgorithm?: UnconstrainedAlgorithm;
  /** Record the per-sweep relaxation series (energy per site, block correlation). Default true. */
  record?: boolean;
}

export interface InverseLevel {
  L: number;
  /** The fine configuration after all sweeps of this level. */
  config: Int8Array;
  /** Energy per site H/V after each constrained sweep; index 0 is the compatible start (length sweeps + 1). */
  energy?: Float64Array;
  /** `blockCorrelation` after each constrained sweep, index 0 the compatible start. */
  blockCorrelation?: Float64Array;
  /** Fraction of site visits that changed a spin over the constrained sweeps. */
  changedFraction: number;
}

/** Kinds of unconstrained sweep after the compatible step (see `InverseLevelsOptions`). */
export type UnconstrainedAlgorithm = "local" | "wolff" | "hybrid";

/**
 * Wolff sweeps of a fixed number of clusters: one calibration sweep (clusters until V spins have
 * flipped) runs now and fixes the count; the returned function does one counted sweep.
 */
function calibratedWolff(lat: Lattice, s: Int8Array, beta: number, rng: Rng): () => void {
  const nb = neighbours(lat), z = 2 * lat.dim, stack = new Int32Array(lat.V), threshold = wolffThreshold(beta);
  let clusters = 0;
  for (let flipped = 0; flipped < lat.V; clusters++) flipped += wolffCluster(nb, z, s, threshold, rng, stack);
  return () => {
    for (let k = 0; k < clusters; k++) wolffCluster(nb, z, s, threshold, rng, stack);
  };
}

/**
 * The iterated inverse transformation L0 → 2L0 → 4L0 …: at every level the fine configuration starts
 * compatible (blocks = σ_X) and is relaxed by constrained MC, then (optionally) by unconstrained sweeps,
 * and becomes the coarse configuration of the next level.
 */
export function inverseLevels(opt: InverseLevelsOptions): InverseLevel[] {
  const { dim, beta, rng, sweepsPerLevel, levels } = opt;
  const rule = opt.rule ?? "heatbath";
  const record = opt.record ?? true;
  const extra = opt.unconstrainedSweeps ?? 0;
  if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`levels must be a positive integer, got ${levels}`);
  if (!Number.isInteger(sweepsPerLevel) || sweepsPerLevel < 0) throw new RangeError(`sweepsPerLevel must be an integer >= 0`);
  if (!Number.isInteger(extra) || extra < 0) throw new RangeError(`unconstrainedSweeps must be an integer >= 0`);
  if (opt.coarse.length !== opt.L0 ** dim) throw new RangeError(`coarse configuration must have ${opt.L0 ** dim} sites`);
  const table = constrainedTable(dim, beta, rule);
  const out: InverseLevel[] = [];
  let sigma = opt.coarse;
  let L = opt.L0;
  for (let level = 1; level <= levels; level++) {
    L *= 2;
    const lat = lattice(dim, L);
    const s = compatibleInit(lat, sigma);
    const bsum = blockSums(lat, s);
    const energy = record ? new Float64Array(sweepsPerLevel + 1) : undefined;
    const corr = record ? new Float64Array(sweepsPerLevel + 1) : undefined;
    const note = (t: number): void => {
      if (!energy || !corr) return;
      energy[t] = isingEnergyRows(lat, s) / lat.V;
      corr[t] = blockCorrelation(lat, s, bsum);
    };
    note(0);
    let changed = 0;
    for (let t = 1; t <= sweepsPerLevel; t++) {
      changed += constrainedSweep(lat, s, sigma, beta, rng, { rule, table, blockSum: bsum });
      note(t);
    }
    const alg = opt.unconstrainedAlgorithm ?? "local";
    const wolff = extra > 0 && alg !== "local" ? calibratedWolff(lat, s, beta, rng) : null;
    for (let t = 0; t < extra; t++) {
      if (alg !== "wolff") {
        if (rule === "heatbath") heatbathSweep(lat, s, table, rng);
        else metropolisSweep(lat, s, table, rng);
      }
      wolff?.();
    }
    const level_: InverseLevel = { L, config: s, changedFraction: sweepsPerLevel > 0 ? changed / (sweepsPerLevel * lat.V) : 0 };
    if (energy) level_.energy = energy;
    if (corr) level_.blockCorrelation = corr;
    out.push(level_);
    sigma = s;
  }
  return out;
}

/**
 * Integrated relaxation time of the mean of several relaxation series (e.g. `InverseLevel.energy` of
 * independent coarse configurations): ρ(t) = (x̄(t) − x̄_∞)/(x̄(0) − x̄_∞) with x̄_∞ the mean over the
 * last `tail` fraction of the sweeps, τ = ½ + Σ_{t ≥ 1} ρ(t) summed until ρ first drops to 0 or below
 * (for a pure exponential e^{−t/τ_exp}, τ ≈ τ_exp for τ_exp ≫ 1). NaN if the series do not move.
 */
export function relaxationTime(series: readonly ArrayLike<number>[], tail = 0.5): number {
  if (series.length === 0) throw new RangeError("relaxationTime needs at least one series");
  const n = Math.min(...series.map((x) => x.length));
  if (n < 4) throw new RangeError("relaxation series are too short");
  const mean = new Float64Array(n);
  for (const x of series) for (let t = 0; t < n; t++) mean[t]! += x[t]! / series.length;
  const t0 = Math.min(n - 1, Math.floor(n * (1 - tail)));
  let inf = 0;
  for (let t = t0; t < n; t++) inf += mean[t]!;
  inf /= n - t0;
  const d0 = mean[0]! - inf;
  if (!(Math.abs(d0) > 0)) return NaN;
  let tau = 0.5;
  for (let t = 1; t < t0; t++) {
    const rho = (mean[t]! - inf) / d0;
    if (rho <= 0) break;
    tau += rho;
  }
  return tau;
}
