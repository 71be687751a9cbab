// Checkerboard heat bath for the Ising model: each spin is drawn from its conditional distribution
// P(s = +1 | h) = 1 / (1 + e^{−2βh}). Glauber, J. Math. Phys. 4, 294 (1963); Creutz, PRD 21, 2308 (1980).

import { type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng, u32Threshold } from "../lattice/rng.js";

/** Thresholds indexed by h + 2d: the new spin is +1 when a uniform u32 is below the entry. */
export function heatbathTable(dim: number, beta: number): Float64Array {
  const z = 2 * dim;
  const t = new Float64Array(2 * z + 1);
  for (let h = -z; h <= z; h++) t[h + z] = u32Threshold(1 / (1 + Math.exp(-2 * beta * h)));
  return t;
}

/** One checkerboard sweep of a 2D lattice. */
export function heatbathSweep2D(s: Int8Array, L: number, table: Float64Array, rng: Rng): void {
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < L; y++) {
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      for (let x = (y + c) & 1; x < L; x += 2) {
        const i = row + x;
        const h = s[x === 0 ? row + L - 1 : i - 1]! + s[x === L - 1 ? row : i + 1]! + s[up + x]! + s[dn + x]!;
        s[i] = rng.u32() < table[h + 4]! ? 1 : -1;
      }
    }
  }
}

/** One checkerboard sweep of a 3D lattice. */
export function heatbathSweep3D(s: Int8Array, L: number, table: Float64Array, rng: Rng): void {
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
          const h =
            s[x === 0 ? i + L - 1 : i - 1]! + s[x === L - 1 ? i - L + 1 : i + 1]! +
            s[plane + up + x]! + s[plane + dn + x]! + s[front + row + x]! + s[back + row + x]!;
          s[i] = rng.u32() < table[h + 6]! ? 1 : -1;
        }
      }
    }
  }
}

/** One sweep on either dimension; the lattice must have even L. */
export function heatbathSweep(lat: Lattice, s: Int8Array, table: Float64Array, rng: Rng): void {
  requireEven(lat, "the checkerboard heat-bath update");
  if (lat.dim === 2) heatbathSweep2D(s, lat.L, table, rng);
  else heatbathSweep3D(s, lat.L, table, rng);
}
