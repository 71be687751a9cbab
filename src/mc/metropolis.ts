// Checkerboard Metropolis for the Ising model, acceptance min(1, e^{−βΔE}) from integer lookup tables.
// Metropolis, Rosenbluth, Rosenbluth, Teller & Teller, J. Chem. Phys. 21, 1087 (1953).

import { type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng, u32Threshold } from "../lattice/rng.js";

/**
 * Acceptance thresholds indexed by s·h (h = sum of the 2d neighbours): a flip with s·h > 0 costs
 * ΔE = 2 s h and is accepted when a uniform u32 is below the entry. Entries for s·h ≤ 0 are 2^32.
 */
export function metropolisTable(dim: number, beta: number): Float64Array {
  const z = 2 * dim;
  const t = new Float64Array(2 * z + 1);
  for (let sh = -z; sh <= z; sh++) t[sh + z] = sh <= 0 ? 2 ** 32 : u32Threshold(Math.exp(-2 * beta * sh));
  return t;
}

/** One checkerboard sweep (both colours) of a 2D lattice. */
export function metropolisSweep2D(s: Int8Array, L: number, table: Float64Array, rng: Rng): void {
  const t2 = table[6]!, t4 = table[8]!;
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < L; y++) {
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      for (let x = (y + c) & 1; x < L; x += 2) {
        const i = row + x;
        const si = s[i]!;
        const h = s[x === 0 ? row + L - 1 : i - 1]! + s[x === L - 1 ? row : i + 1]! + s[up + x]! + s[dn + x]!;
        const sh = si * h;
        if (sh <= 0 || rng.u32() < (sh === 2 ? t2 : t4)) s[i] = -si;
      }
    }
  }
}

/** One checkerboard sweep of a 3D lattice. */
export function metropolisSweep3D(s: Int8Array, L: number, table: Float64Array, rng: Rng): void {
  const L2 = L * L;
  for (let c = 0; c < 2; c++) {
    for (let z = 0; z < L; z++) {
      const plane = z * L2;
      const front = (z === L - 1 ? 0 : z + 1) * L2;
      const back = (z === 0 ? L - 1 : z - 1) * L2;
      for (let y = 0; y < L; y++) {
        const row = y * L;
        const up = (y === L - 1 ? 0 : y + 1) * L;
        const dn = (y === 0 ? L - 1 : y - 1) * L;
        for (let x = (y + z + c) & 1; x < L; x += 2) {
          const i = plane + row + x;
          const si = s[i]!;
          const h =
            s[x === 0 ? i + L - 1 : i - 1]! + s[x === L - 1 ? i - L + 1 : i + 1]! +
            s[plane + up + x]! + s[plane + dn + x]! + s[front + row + x]! + s[back + row + x]!;
          const sh = si * h;
          if (sh <= 0 || rng.u32() < table[sh + 6]!) s[i] = -si;
        }
      }
    }
  }
}

/** One sweep on either dimension; the lattice must have even L. */
export function metropolisSweep(lat: Lattice, s: Int8Array, table: Float64Array, rng: Rng): void {
  requireEven(lat, "the checkerboard Metropolis update");
  if (lat.dim === 2) metropolisSweep2D(s, lat.L, table, rng);
  else metropolisSweep3D(s, lat.L, table, rng);
}
