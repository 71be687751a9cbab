// Wolff single-cluster update for the Ising model: grow one cluster with bond probability
// p = 1 − e^{−2β} from a random seed site and flip it. U. Wolff, Phys. Rev. Lett. 62, 361 (1989).

import { type Rng, u32Threshold } from "../lattice/rng.js";

/** u32 threshold of the bond-activation probability 1 − e^{−2β}. */
export function wolffThreshold(beta: number): number {
  return u32Threshold(-Math.expm1(-2 * beta));
}

/**
 * Builds and flips one cluster; returns its size. `nb` is the neighbour table (z entries per site),
 * `stack` scratch space of length V. Spins are flipped as they join, which marks them visited.
 */
export function wolffCluster(nb: Int32Array, z: number, s: Int8Array, threshold: number, rng: Rng, stack: Int32Array): number {
  const seed = rng.below(s.length);
  const s0 = s[seed]!;
  s[seed] = -s0;
  stack[0] = seed;
  let sp = 1;
  let size = 1;
  while (sp > 0) {
    const i = stack[--sp]!;
    const base = i * z;
    for (let k = 0; k < z; k++) {
      const j = nb[base + k]!;
      if (s[j] === s0 && rng.u32() < threshold) {
        s[j] = -s0;
        stack[sp++] = j;
        size++;
      }
    }
  }
  return size;
}
