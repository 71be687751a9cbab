// The interface of an inverse RG map: a stochastic generator of fine configurations (2L)^d given a
// coarse one L^d, with the exact log-probability of every draw (needed to make generation exact by
// Metropolis–Hastings). Networks, compatible MC and simple baselines implement it.

import { type Rng } from "../lattice/rng.js";

/**
 * What a map generates, by the name its model's descriptor gives networks (models/model.ts,
 * NetworkSupport): "phi4" fields, "ising" spins, "potts" states, "overlap" fields of "ea" ensembles.
 */
export type NetworkModel = string;

export interface InverseMap {
  readonly model: NetworkModel;
  readonly dim: 2 | 3;
  /**
   * Draws a fine configuration of linear size 2L given the coarse one of size L into `out`
   * (length (2L)^d) and returns ln q(fine | coarse).
   */
  sample(coarse: ArrayLike<number>, L: number, rng: Rng, out: Float32Array | Int8Array): number;
  /** The same draw with the network's forward passes on a device (a GPU), where the map has one. */
  sampleAsync?(coarse: ArrayLike<number>, L: number, rng: Rng, out: Float32Array | Int8Array): Promise<number>;
  /** Provenance stored with generated ensembles. */
  describe(): Record<string, string | number>;
}

/**
 * The trivial inverse of block averaging for fields, as a baseline and for plumbing tests: every fine
 * site is its block's coarse value plus independent N(0, σ²) noise. ln q is exact.
 */
export function noisyCopy(dim: 2 | 3, sigma: number): InverseMap {
  if (!(sigma > 0)) throw new RangeError("sigma must be > 0");
  const lnNorm = -0.5 * Math.log(2 * Math.PI * sigma * sigma);
  return {
    model: "phi4",
    dim,
    sample(coarse, L, rng, out) {
      const Lf = 2 * L;
      let lq = 0;
      const V = Lf ** dim;
      for (let i = 0; i < V; i++) {
        const x = i % Lf, y = Math.floor(i / Lf) % Lf, z = dim === 3 ? Math.floor(i / (Lf * Lf)) : 0;
        const c = (x >> 1) + L * (y >> 1) + L * L * (z >> 1);
        const eps = sigma * rng.normal();
        out[i] = coarse[c]! + eps;
        lq += lnNorm - (eps * eps) / (2 * sigma * sigma);
      }
      return lq;
    },
    describe: () => ({ generator: "noisy-copy", sigma }),
  };
}
