// Checkerboard heat bath for the Ising model: each spin is drawn from its conditional distribution
// P(s = +1 | h) = 1 / (1 + e^{−2βh}). Glauber, J. Math. Phys. 4, 294 (1963); Creutz, PRD 21, 2308 (1980).

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { checkerboardSweep, Rule, u31Entry } from "./checkerboard.js";

/** Table (see u31Entry) of P(s = +1 | h), indexed by h + 2d. */
export function heatbathTable(dim: number, beta: number): Int32Array {
  const z = 2 * dim;
  const t = new Int32Array(2 * z + 1);
  for (let h = -z; h <= z; h++) t[h + z] = u31Entry(1 / (1 + Math.exp(-2 * beta * h)));
  return t;
}

/** One checkerboard heat-bath sweep. */
export function heatbathSweep(lat: Lattice, s: Int8Array, table: Int32Array, rng: Rng): void {
  checkerboardSweep(lat, s, Rule.HeatBath, table, rng);
}
