// Embedded Wolff cluster for φ⁴: with s = sign φ and |φ| fixed the signs form an Ising model with
// couplings κ|φ_x||φ_y|; grow a cluster with p = 1 − e^{−2κ φ_x φ_y} and flip φ → −φ on it.
// Brower & Tamayo, Phys. Rev. Lett. 62, 1087 (1989); Wolff, Phys. Rev. Lett. 62, 361 (1989).

import { type Rng } from "../lattice/rng.js";

/**
 * Builds and flips one cluster; returns its size. Sites are marked by the sign flip itself: a site
 * joins only if it still has the seed's sign, and joining flips it. Bond probabilities depend on
 * the field values before the flip, so the neighbour's value is compared with −φ of the flipped site.
 */
export function phi4WolffCluster(nb: Int32Array, z: number, phi: Float64Array, kappa: number, rng: Rng, stack: Int32Array): number {
  const seed = rng.below(phi.length);
  const positive = phi[seed]! > 0;
  phi[seed] = -phi[seed]!;
  stack[0] = seed;
  let sp = 1;
  let size = 1;
  const k2 = -2 * kappa;
  while (sp > 0) {
    const i = stack[--sp]!;
    const fi = -phi[i]!; // value before the flip
    const base = i * z;
    for (let k = 0; k < z; k++) {
      const j = nb[base + k]!;
      const fj = phi[j]!;
      if (fj > 0 !== positive || fj === 0) continue;
      // Same sign: φ_i φ_j > 0. Activate with 1 − e^{−2κ φ_i φ_j}.
      if (rng.float() < -Math.expm1(k2 * fi * fj)) {
        phi[j] = -fj;
        stack[sp++] = j;
        size++;
      }
    }
  }
  return size;
}
