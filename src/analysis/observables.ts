// Standard observables with errors from per-measurement series: ⟨e⟩, ⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩, Binder
// U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²), χ = V(⟨m²⟩ − ⟨|m|⟩²) (finite-size convention), C = β²V(⟨e²⟩ − ⟨e⟩²).

import { type Estimate, jackknife, type JackknifeOptions, type MultiSeries, type Replicas, uwerr } from "./stats.js";

/** Binder's U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) from the m² and m⁴ series, with its jackknife error (binSize 1 for independent values). */
export function binderEstimate(m2: MultiSeries[number], m4: MultiSeries[number], opts: JackknifeOptions = {}): Estimate {
  return jackknife([m2, m4], ([a, b]) => 1 - b! / (3 * a! * a!), opts);
}

/** Splits a row-interleaved series (row = t·chains + c) into one series per chain. */
export function splitChains(x: ArrayLike<number>, chains: number): Float64Array[] {
  const n = Math.floor(x.length / chains);
  return Array.from({ length: chains }, (_, c) => Float64Array.from({ length: n }, (_, t) => x[t * chains + c]!));
}

function map(reps: Replicas, f: (v: number) => number): Float64Array[] {
  return reps.map((r) => Float64Array.from(r as ArrayLike<number>, f));
}

/** Magnetic observables from the magnetisation per site m (per chain). */
export function magneticEstimates(m: Replicas, V: number): Record<string, Estimate> {
  const am = map(m, Math.abs), m2 = map(m, (v) => v * v), m4 = map(m, (v) => v ** 4);
  return {
    abs_m: uwerr(am),
    m2: uwerr(m2),
    m4: uwerr(m4),
    binder: binderEstimate(m2, m4),
    chi: jackknife([am, m2], ([a, b]) => V * (b! - a! * a!)),
  };
}

/** Ising estimates from the energy H and magnetisation M series of an ensemble. */
export function isingEstimates(E: ArrayLike<number>, M: ArrayLike<number>, opts: { V: number; beta: number; chains: number }): Record<string, Estimate> {
  const { V, beta, chains } = opts;
  const e = map(splitChains(E, chains), (v) => v / V);
  const m = map(splitChains(M, chains), (v) => v / V);
  const e2 = map(e, (v) => v * v);
  return {
    e: uwerr(e),
    ...magneticEstimates(m, V),
    c: jackknife([e, e2], ([a, b]) => beta * beta * V * (b! - a! * a!)),
  };
}

/** φ⁴ estimates from the action, magnetisation and Σφ² series. */
export function phi4Estimates(S: ArrayLike<number> | null, M: ArrayLike<number>, P2: ArrayLike<number>, opts: { V: number; chains: number }): Record<string, Estimate> {
  const { V, chains } = opts;
  const m = map(splitChains(M, chains), (v) => v / V);
  return {
    // A blocked ensemble has no action (the renormalised action is unknown).
    ...(S ? { action: uwerr(map(splitChains(S, chains), (v) => v / V)) } : {}),
    phi2: uwerr(map(splitChains(P2, chains), (v) => v / V)),
    ...magneticEstimates(m, V),
  };
}
