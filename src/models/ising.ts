// The Ising model H = −J Σ⟨ij⟩ s_i s_j on a periodic hypercubic lattice, J = 1, weight e^{−βH}.
// Critical couplings: 2D β_c = ½ ln(1+√2) (Onsager 1944); 3D K_c = 0.221654626(5) (Ferrenberg, Xu, Landau 2018).

import { type Lattice, neighbours } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";

export const BETA_C_2D = 0.5 * Math.log(1 + Math.SQRT2);
export const BETA_C_3D = 0.221654626;

/** Energy H of a configuration (each bond counted once, along +μ). */
export function isingEnergy(lat: Lattice, s: Int8Array): number {
  const nb = neighbours(lat);
  return isingEnergyWith(nb, lat.dim, s);
}

/** Energy with a precomputed neighbour table (avoids rebuilding it per measurement). */
export function isingEnergyWith(nb: Int32Array, dim: number, s: Int8Array): number {
  const z = 2 * dim;
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let h = 0;
    for (let d = 0; d < dim; d++) h += s[nb[i * z + 2 * d]!]!;
    sum += s[i]! * h;
  }
  return -sum;
}

/**
 * H = −Σ_{i,μ} s_i s_{i+μ} (each bond once, along +μ; equal to `isingEnergy`) by row arithmetic,
 * without a neighbour table: the per-sweep relaxation record of compatible MC would otherwise cost
 * more than the sweep itself (a table of 2d·V entries per level and gathers through it).
 */
export function isingEnergyRows(lat: Lattice, s: Int8Array): number {
  const { L, dim } = lat;
  if (s.length !== lat.V) throw new RangeError(`configuration must have ${lat.V} sites`);
  const L2 = L * L, Lz = dim === 3 ? L : 1;
  let sum = 0;
  for (let z = 0; z < Lz; z++) {
    const plane = z * L2;
    const front = dim === 3 ? (z === L - 1 ? 0 : z + 1) * L2 : -1;
    for (let y = 0; y < L; y++) {
      const row = plane + y * L;
      const up = plane + (y === L - 1 ? 0 : y + 1) * L;
      const fr = front + y * L;
      let acc = 0;
      for (let x = 0; x < L; x++) {
        const h = s[x === L - 1 ? row : row + x + 1]! + s[up + x]! + (front >= 0 ? s[fr + x]! : 0);
        acc += s[row + x]! * h;
      }
      sum += acc;
    }
  }
  return -sum;
}

/** Magnetisation M = Σ s_i. */
export function magnetization(s: Int8Array): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) m += s[i]!;
  return m;
}

/** A hot start: independent ±1 spins. */
export function randomSpins(V: number, rng: Rng): Int8Array {
  const s = new Int8Array(V);
  for (let i = 0; i < V; i++) s[i] = rng.u32() & 1 ? 1 : -1;
  return s;
}

/** Checks that a configuration holds only ±1 values. */
export function isSpinConfig(s: ArrayLike<number>): boolean {
  for (let i = 0; i < s.length; i++) if (s[i] !== 1 && s[i] !== -1) return false;
  return true;
}
