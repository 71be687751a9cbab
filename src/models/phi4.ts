// Lattice φ⁴ theory: S[φ] = Σ_x [ −κ Σ_μ φ_x φ_{x+μ} + (μ² + 2dκ)/2 φ_x² + λ/4 φ_x⁴ ] (d = 2: the
// seed's form with 4κ). Ising universality class; λ = 0.7, κ = 1 has μ_c² ≈ −0.95 (Bachtis et al.).

import { type Lattice, neighbours } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";

export interface Phi4Couplings {
  mu2: number;
  lambda: number;
  kappa: number;
}

/** The seed's couplings. */
export const PHI4_DEFAULTS = { lambda: 0.7, kappa: 1 } as const;

/** Throws unless the couplings define a normalisable theory the samplers handle. */
export function checkPhi4(c: Phi4Couplings, dim: number): void {
  for (const [k, v] of Object.entries(c)) if (!Number.isFinite(v)) throw new RangeError(`${k} must be a finite number, got ${v}`);
  if (c.lambda < 0) throw new RangeError(`lambda must be >= 0, got ${c.lambda}`);
  if (c.kappa < 0) throw new RangeError(`kappa must be >= 0, got ${c.kappa}`);
  if (!(c.mu2 + 2 * dim * c.kappa > 0)) {
    throw new RangeError(`mu2 + ${2 * dim}·kappa must be > 0 for the Gaussian local proposal (mu2 = ${c.mu2}, kappa = ${c.kappa})`);
  }
  if (c.lambda === 0 && !(c.mu2 > 0)) throw new RangeError(`with lambda = 0 the theory needs mu2 > 0, got ${c.mu2}`);
}

/** Per-configuration sums from which every φ⁴ observable and reweighting factor follows. */
export interface Phi4Sums {
  /** The action S. */
  action: number;
  /** M = Σ φ. */
  magnetization: number;
  /** Σ φ² (conjugate to μ²/2: reweighting in μ² uses exp(−Δμ²/2 · Σφ²)). */
  phi2: number;
  /** Σ φ⁴. */
  phi4: number;
  /** Σ_{x,μ} φ_x φ_{x+μ} (conjugate to κ). */
  hopping: number;
}

export function phi4Sums(lat: Lattice, nb: Int32Array, phi: ArrayLike<number>, c: Phi4Couplings): Phi4Sums {
  const z = 2 * lat.dim;
  let m = 0, p2 = 0, p4 = 0, hop = 0;
  for (let i = 0; i < lat.V; i++) {
    const f = phi[i]!;
    m += f;
    const f2 = f * f;
    p2 += f2;
    p4 += f2 * f2;
    let h = 0;
    for (let d = 0; d < lat.dim; d++) h += phi[nb[i * z + 2 * d]!]!;
    hop += f * h;
  }
  const action = -c.kappa * hop + ((c.mu2 + 2 * lat.dim * c.kappa) / 2) * p2 + (c.lambda / 4) * p4;
  return { action, magnetization: m, phi2: p2, phi4: p4, hopping: hop };
}

/** The action of a configuration. */
export function phi4Action(lat: Lattice, phi: ArrayLike<number>, c: Phi4Couplings): number {
  return phi4Sums(lat, neighbours(lat), phi, c).action;
}

/** A hot start: independent N(0, 1) values. */
export function randomField(V: number, rng: Rng): Float64Array {
  const f = new Float64Array(V);
  for (let i = 0; i < V; i++) f[i] = rng.normal();
  return f;
}
