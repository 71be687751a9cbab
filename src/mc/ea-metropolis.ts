// Checkerboard Metropolis for the EA spin glass: flip s_i with probability min(1, e^{−2β s_i h_i}),
// h_i = Σ_j J_ij s_j. Metropolis et al., J. Chem. Phys. 21, 1087 (1953); for spin glasses with PT: Hukushima & Nemoto (1996).
//
// Why a neighbour table and not the Ising kernels' row arithmetic: every bond carries its own sign, so
// the coupling has to be looked up anyway; the table keeps one kernel for 2D and 3D. Why checkerboard:
// sites of one colour have no bond between them, so a colour can be updated in any order (or at once
// on a GPU) with the same result. With ±J bonds s·h takes the values −2d … 2d, as in the Ising model,
// so the Ising Metropolis acceptance table applies unchanged.

import { colour, type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { type EaBonds } from "../models/ea.js";
import { metropolisTable } from "./metropolis.js";

/** Acceptance table (see u31Entry) indexed by s·h + 2d. */
export function eaMetropolisTable(dim: number, beta: number): Int32Array {
  return metropolisTable(dim, beta);
}

/** The sites of each checkerboard colour (colour 0 first). */
export function colourSites(lat: Lattice): [Int32Array, Int32Array] {
  requireEven(lat, "a checkerboard update");
  const lists: number[][] = [[], []];
  for (let i = 0; i < lat.V; i++) lists[colour(lat, i)]!.push(i);
  return [Int32Array.from(lists[0]!), Int32Array.from(lists[1]!)];
}

/**
 * One sweep: colour 0, then colour 1; one 31-bit random number per site (the stream of `rng.u31()`,
 * with the xoshiro128** state kept in locals as in wolff.ts: the method call cost about half the sweep).
 * Returns the energy change (exact integer sum of 2·s_i·h_i over the flips), so that parallel tempering
 * does not recompute every copy's energy after every sweep.
 */
export function eaMetropolisSweep(b: EaBonds, colours: readonly Int32Array[], s: Int8Array, table: Int32Array, rng: Rng): number {
  const z = 2 * b.lat.dim;
  const { nb, jnb } = b;
  let r0 = rng.s0, r1 = rng.s1, r2 = rng.s2, r3 = rng.s3;
  let dE = 0;
  for (const sites of colours) {
    for (let n = 0; n < sites.length; n++) {
      const i = sites[n]!;
      const o = i * z;
      let h = 0;
      for (let k = 0; k < z; k++) h += jnb[o + k]! * s[nb[o + k]!]!;
      const si = s[i]!;
      const m = Math.imul(r1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 1;
      const t = r1 << 9;
      r2 ^= r0; r3 ^= r1; r1 ^= r2; r0 ^= r3; r2 ^= t; r3 = (r3 << 11) | (r3 >>> 21);
      // Flip when r <= table entry (u31Entry convention).
      if (r <= table[si * h + z]!) {
        s[i] = -si;
        dE += 2 * si * h;
      }
    }
  }
  rng.s0 = r0; rng.s1 = r1; rng.s2 = r2; rng.s3 = r3;
  return dE;
}
