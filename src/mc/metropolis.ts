// Checkerboard Metropolis for the Ising model: flip with probability min(1, e^{−βΔE}), ΔE = 2 s h.
// Metropolis, Rosenbluth, Rosenbluth, Teller & Teller, J. Chem. Phys. 21, 1087 (1953).

import { type Lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { checkerboardSweep, Rule, u31Entry } from "./checkerboard.js";

/** Acceptance table (see u31Entry) indexed by s·h + 2d (h = sum of the 2d neighbours). */
export function metropolisTable(dim: number, beta: number): Int32Array {
  const z = 2 * dim;
  const t = new Int32Array(2 * z + 1);
  for (let sh = -z; sh <= z; sh++) t[sh + z] = u31Entry(Math.exp(-2 * beta * sh));
  return t;
}

/** One checkerboard Metropolis sweep (a random number is drawn for every site, accepted or not). */
export function metropolisSweep(lat: Lattice, s: Int8Array, table: Int32Array, rng: Rng): void {
  checkerboardSweep(lat, s, Rule.Metropolis, table, rng);
}
