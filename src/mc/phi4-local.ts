// Local φ⁴ update: propose φ′ ~ N(h/2A, 1/2A) from the exact Gaussian part of the local action
// (h = κ Σ_nn φ, A = (μ² + 2dκ)/2) and accept with min(1, e^{−λ/4 (φ′⁴ − φ⁴)}). Independence
// Metropolis–Hastings (Hastings 1970) as in the authors' φ⁴ code (Bachtis et al.), checkerboard order.

import { type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { type Phi4Couplings } from "../models/phi4.js";

/**
 * One checkerboard sweep; returns the number of accepted proposals. Every site draws exactly one
 * normal and one uniform whether accepted or not, so the random stream does not depend on the
 * configuration's history (which keeps CPU and future GPU paths comparable number by number).
 */
export function phi4LocalSweep(lat: Lattice, phi: Float64Array, c: Phi4Couplings, rng: Rng, normals: Float64Array): number {
  requireEven(lat, "the checkerboard phi^4 update");
  if (lat.dim !== 2) throw new RangeError("the phi^4 samplers are two-dimensional");
  const L = lat.L;
  const A = (c.mu2 + 4 * c.kappa) / 2;
  const sd = Math.sqrt(1 / (2 * A));
  const shift = c.kappa / (2 * A);
  const q = c.lambda / 4;
  let accepted = 0;
  for (let col = 0; col < 2; col++) {
    for (let y = 0; y < L; y++) {
      fillNormals(rng, normals, L >> 1);
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      let k = 0;
      for (let x = (y + col) & 1; x < L; x += 2, k++) {
        const i = row + x;
        const h = phi[x === 0 ? i + L - 1 : i - 1]! + phi[x === L - 1 ? i - L + 1 : i + 1]! + phi[up + x]! + phi[dn + x]!;
        const old = phi[i]!;
        const next = shift * h + sd * normals[k]!;
        const o2 = old * old, n2 = next * next;
        const dS = q * (n2 * n2 - o2 * o2);
        const u = rng.float();
        if (dS <= 0 || u < Math.exp(-dS)) {
          phi[i] = next;
          accepted++;
        }
      }
    }
  }
  return accepted;
}

/** n standard normals by Box–Muller (both of each pair used; 53-bit uniforms, log of 1 − u > 0). */
export function fillNormals(rng: Rng, out: Float64Array, n: number): void {
  for (let k = 0; k < n; k += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.double()));
    const a = 2 * Math.PI * rng.double();
    out[k] = r * Math.cos(a);
    if (k + 1 < n) out[k + 1] = r * Math.sin(a);
  }
}
