// Wolff single-cluster update for the q-state Potts model: grow a cluster of equal states with bond
// probability p = 1 − e^{−β} from a random site and give it a uniformly chosen other state. U. Wolff, PRL 62, 361 (1989).

import { type Rng } from "../../lattice/rng.js";

/**
 * Builds and recolours one cluster; returns its size. `stack` is scratch of length V. Sites take the
 * new state as they join, which marks them visited (the new state differs from the old one).
 * `threshold` is that of `pottsBondThreshold`.
 */
export function pottsWolffCluster(nb: Int32Array, z: number, q: number, s: Int8Array, threshold: number, rng: Rng, stack: Int32Array): number {
  const seed = rng.below(s.length);
  const old = s[seed]!;
  const shift = 1 + rng.below(q - 1);
  const next = (old + shift) % q;
  s[seed] = next;
  stack[0] = seed;
  let sp = 1;
  let size = 1;
  while (sp > 0) {
    const base = stack[--sp]! * z;
    for (let k = 0; k < z; k++) {
      const j = nb[base + k]!;
      if (s[j] !== old) continue;
      if (rng.u31() <= threshold) {
        s[j] = next;
        stack[sp++] = j;
        size++;
      }
    }
  }
  return size;
}
