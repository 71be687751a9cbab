// The φ⁴ block rule with b = 2 (Bachtis et al., the seed): if a block's sum is positive the block
// variable is the mean of its positive φ's, if negative the mean of its negative φ's; a sum of
// exactly 0 takes a random sign (a choice where the paper is silent).

import { type Lattice, blockSites, coarse } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";

/** The block value of the 2^d values in `v` (random sign only for an exactly zero sum). */
export function phi4BlockValue(v: ArrayLike<number>, rng: Rng): number {
  let sum = 0;
  for (let k = 0; k < v.length; k++) sum += v[k]!;
  const positive = sum > 0 || (sum === 0 && (rng.u32() & 1) === 1);
  let acc = 0, n = 0;
  for (let k = 0; k < v.length; k++) {
    const x = v[k]!;
    if (positive ? x > 0 : x < 0) {
      acc += x;
      n++;
    }
  }
  // n = 0 happens only for an all-zero block (sum 0 and nothing of the drawn sign).
  return n > 0 ? acc / n : 0;
}

/** Blocks one configuration (float32 or float64 in, same type out). */
export function phi4Block<T extends Float32Array | Float64Array>(lat: Lattice, phi: T, out: T, rng: Rng): void {
  const c = coarse(lat);
  const sites = blockSites(lat);
  const nb = 1 << lat.dim;
  if (out.length !== c.V) throw new RangeError(`blocked configuration must have ${c.V} sites`);
  const v = new Float64Array(nb);
  for (let X = 0; X < c.V; X++) {
    for (let k = 0; k < nb; k++) v[k] = phi[sites[X * nb + k]!]!;
    out[X] = phi4BlockValue(v, rng);
  }
}
