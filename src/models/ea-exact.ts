// Exact results for one EA disorder sample on a tiny lattice, by complete enumeration of the 2^V states:
// the Boltzmann distribution, P(q) of two independent replicas, and ⟨q²⟩ = V⁻² Σ_ij ⟨s_i s_j⟩² (tests).

import { popcount } from "../lattice/bits.js";
import { type EaBonds, eaEnergy } from "./ea.js";

/** State n ↔ spins: s_i = +1 when bit i of n is set. */
export function eaStateSpins(n: number, V: number, out: Int8Array): void {
  for (let i = 0; i < V; i++) out[i] = (n >>> i) & 1 ? 1 : -1;
}

/** Energy of every state (V ≤ 24). */
export function eaEnumerate(b: EaBonds): Float64Array {
  const V = b.lat.V;
  if (V > 24) throw new RangeError(`complete enumeration needs V <= 24, got ${V}`);
  const E = new Float64Array(2 ** V);
  const s = new Int8Array(V);
  for (let n = 0; n < E.length; n++) {
    eaStateSpins(n, V, s);
    E[n] = eaEnergy(b, s);
  }
  return E;
}

/** Boltzmann probabilities e^{−βE}/Z of every state. */
export function eaBoltzmann(E: Float64Array, beta: number): Float64Array {
  let Emin = Infinity;
  for (const e of E) Emin = Math.min(Emin, e);
  const p = E.map((e) => Math.exp(-beta * (e - Emin)));
  const Z = p.reduce((a, x) => a + x, 0);
  return p.map((x) => x / Z);
}

/** P(Q) of Q = Σ_i s_i t_i for independent s, t ~ p, indexed by (Q + V)/2 (V ≤ 12: 4^V pairs). */
export function exactOverlapDistribution(p: Float64Array, V: number): Float64Array {
  if (V > 12) throw new RangeError(`the pair enumeration needs V <= 12, got ${V}`);
  const out = new Float64Array(V + 1);
  for (let a = 0; a < p.length; a++) {
    const pa = p[a]!;
    for (let b = 0; b < p.length; b++) out[V - popcount(a ^ b)]! += pa * p[b]!;
  }
  return out;
}

/** Exact ⟨q²⟩ and ⟨E⟩ from the correlation matrix ⟨s_i s_j⟩ (V ≤ 24). */
export function exactMoments(E: Float64Array, p: Float64Array, V: number): { q2: number; energy: number } {
  const C = new Float64Array(V * V);
  const s = new Int8Array(V);
  let energy = 0;
  for (let n = 0; n < p.length; n++) {
    const w = p[n]!;
    energy += w * E[n]!;
    eaStateSpins(n, V, s);
    for (let i = 0; i < V; i++) {
      const wi = w * s[i]!;
      for (let j = i; j < V; j++) C[i * V + j]! += wi * s[j]!;
    }
  }
  let q2 = 0;
  for (let i = 0; i < V; i++) for (let j = i; j < V; j++) q2 += (i === j ? 1 : 2) * C[i * V + j]! ** 2;
  return { q2: q2 / (V * V), energy };
}
