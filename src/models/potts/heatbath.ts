// Heat bath for the q-state Potts model: each site draws its state from P(σ) ∝ e^{β n_σ}, n_σ its
// neighbours in state σ, sublattice by sublattice (checkerboard). Glauber (1963); Creutz, PRD 21, 2308 (1980).

import { type Lattice, colour, requireEven } from "../../lattice/geometry.js";
import { type Rng } from "../../lattice/rng.js";

/** e^{βk} for k = 0 … 2d neighbours in agreement. */
export function pottsHeatbathTable(dim: number, beta: number): Float64Array {
  return Float64Array.from({ length: 2 * dim + 1 }, (_, k) => Math.exp(beta * k));
}

/** The sites of each sublattice, in site order (computed once per lattice). */
export function sublattices(lat: Lattice): [Int32Array, Int32Array] {
  requireEven(lat, "the checkerboard heat bath");
  const out: [number[], number[]] = [[], []];
  for (let i = 0; i < lat.V; i++) out[colour(lat, i)]!.push(i);
  return [Int32Array.from(out[0]), Int32Array.from(out[1])];
}

/**
 * One sweep: both sublattices in turn, one uniform per site. `w` is scratch of length q. The new state
 * is the first σ whose cumulative weight exceeds u·Σw (inversion of the conditional distribution;
 * u has 32 random bits, ample for weights that differ by at most e^{2dβ}).
 */
export function pottsHeatbathSweep(nb: Int32Array, dim: number, q: number, s: Int8Array, subs: readonly Int32Array[], table: Float64Array, rng: Rng, w: Float64Array): void {
  const z = 2 * dim;
  for (const sites of subs) {
    for (let k = 0; k < sites.length; k++) {
      const i = sites[k]!;
      w.fill(0);
      for (let n = 0; n < z; n++) w[s[nb[i * z + n]!]!]!++;
      let total = 0;
      for (let v = 0; v < q; v++) {
        w[v] = table[w[v]!]!;
        total += w[v]!;
      }
      let u = rng.u32() * 2.3283064365386963e-10 * total;
      let v = 0;
      while (v < q - 1 && u >= w[v]!) u -= w[v++]!;
      s[i] = v;
    }
  }
}
