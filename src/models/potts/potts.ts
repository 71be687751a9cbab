// The q-state Potts model H = −Σ⟨ij⟩ δ(σ_i, σ_j), σ ∈ {0, …, q−1}, periodic L^d, weight e^{−βH}.
// 2D critical point β_c = ln(1 + √q), continuous for q ≤ 4 (Baxter 1973; Wu, Rev. Mod. Phys. 54, 235 (1982)).

import { type Rng } from "../../lattice/rng.js";

/** States supported: q = 2 … 8 (first order above 4 in 2D; the tools do not assume continuity). */
export const POTTS_Q_MAX = 8;

/** The exact 2D critical coupling (self-duality). */
export function pottsBetaC2D(q: number): number {
  return Math.log(1 + Math.sqrt(q));
}

/**
 * Exact 2D values (den Nijs 1979, Nienhuis 1982; Wu 1982): β_c = ln(1 + √q); ν = 1, 5/6, 2/3 and
 * η = 1/4, 4/15, 1/4 for q = 2, 3, 4 (γ/ν = 2 − η, β/ν = η/2). Above q = 4 the transition is first order.
 */
export function pottsReference2D(q: number): { coupling: number; nu: number; gammaOverNu: number; betaOverNu: number; source: string } | undefined {
  const eta = { 2: 1 / 4, 3: 4 / 15, 4: 1 / 4 }[q];
  const nu = { 2: 1, 3: 5 / 6, 4: 2 / 3 }[q];
  if (eta === undefined || nu === undefined) return undefined;
  return { coupling: pottsBetaC2D(q), nu, gammaOverNu: 2 - eta, betaOverNu: eta / 2, source: `2D ${q}-state Potts (exact)` };
}

/** Energy H = −(number of satisfied bonds), each bond counted once along +μ. */
export function pottsEnergyWith(nb: Int32Array, dim: number, s: Int8Array): number {
  const z = 2 * dim;
  let same = 0;
  for (let i = 0; i < s.length; i++) {
    const si = s[i]!;
    for (let d = 0; d < dim; d++) if (s[nb[i * z + 2 * d]!] === si) same++;
  }
  return -same;
}

/**
 * Magnitude of the order-parameter vector M = Σ_i e_{σ_i}, the e_s being the q unit vectors of a
 * regular simplex in q − 1 dimensions: |M|² = q/(q−1) Σ_s (n_s − V/q)². For q = 2 this is |Σ s_i| of the
 * Ising spins s = 1 − 2σ, so Potts and Ising estimates agree term by term.
 */
export function pottsOrder(s: Int8Array, q: number, counts = new Float64Array(q)): number {
  counts.fill(0);
  for (let i = 0; i < s.length; i++) counts[s[i]!]!++;
  const mean = s.length / q;
  let sum = 0;
  for (let k = 0; k < q; k++) sum += (counts[k]! - mean) ** 2;
  return Math.sqrt((q / (q - 1)) * sum);
}

/** A hot start: independent uniform states. */
export function randomPotts(V: number, q: number, rng: Rng): Int8Array {
  const s = new Int8Array(V);
  for (let i = 0; i < V; i++) s[i] = rng.below(q);
  return s;
}

/** Checks that a configuration holds only the states 0 … q−1. */
export function isPottsConfig(s: ArrayLike<number>, q: number): boolean {
  for (let i = 0; i < s.length; i++) if (!(Number.isInteger(s[i]) && s[i]! >= 0 && s[i]! < q)) return false;
  return true;
}
