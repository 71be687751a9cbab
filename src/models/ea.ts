// The Edwards–Anderson ±J spin glass H = −Σ⟨ij⟩ J_ij s_i s_j, J_ij = ±1 with probability ½, on a periodic
// L^d lattice, and the overlap field ρ_i = s_i t_i of two real replicas. Edwards & Anderson, J. Phys. F 5, 965 (1975).
//
// Why couplings come from their own keyed stream: a disorder sample is named by (seed, sample) alone, so
// sample 17 has the same J in a run of 20 samples and in a run of 1000, on any number of workers, and
// the Monte Carlo streams of its replicas (other `replica` slots of the same key) never touch it.

import { type Lattice, neighbours } from "../lattice/geometry.js";
import { type Rng, rngFor } from "../lattice/rng.js";

/** 3D ±J critical temperature T_c = 1.1019(29) (Janus, PRB 88, 224416 (2013)) and β_c = 1/T_c. */
export const EA_T_C_3D = 1.1019;
export const EA_BETA_C_3D = 1 / EA_T_C_3D;

/**
 * Stream keys of a disorder sample: task = EA_TASK_BASE + sample (far above every other task number of
 * the toolkit), replica 0 = couplings, 1 = replica exchange, 2 + c = Monte Carlo copy c.
 */
export const EA_TASK_BASE = 2 ** 32;
export const COUPLING_STREAM = 0;
export const EXCHANGE_STREAM = 1;
export const FIRST_COPY_STREAM = 2;

/** The random stream (seed, sample, replica) of the spin-glass code. */
export function eaStream(seed: number, sample: number, replica: number): Rng {
  if (!Number.isSafeInteger(sample) || sample < 0 || sample >= 2 ** 52) throw new RangeError(`sample index must be an integer in [0, 2^52), got ${sample}`);
  return rngFor({ seed, task: EA_TASK_BASE + sample, replica });
}

/**
 * ±J couplings of disorder sample `sample`: J[i·d + μ] couples site i with i + e_μ (each bond once,
 * positive directions only). Depends only on (seed, sample).
 */
export function eaCouplings(lat: Lattice, seed: number, sample: number): Int8Array {
  const rng = eaStream(seed, sample, COUPLING_STREAM);
  const J = new Int8Array(lat.V * lat.dim);
  for (let k = 0; k < J.length; k++) J[k] = rng.u32() & 1 ? 1 : -1;
  return J;
}

/** Neighbours with their couplings, 2d entries per site in the order of `neighbours` (+x, −x, +y, −y(, +z, −z)). */
export interface EaBonds {
  lat: Lattice;
  nb: Int32Array;
  /** jnb[i·2d + k] = J between i and its k-th neighbour. */
  jnb: Int8Array;
}

export function eaBonds(lat: Lattice, J: Int8Array): EaBonds {
  const { dim, V } = lat;
  if (J.length !== V * dim) throw new RangeError(`couplings must have V·d = ${V * dim} entries, got ${J.length}`);
  const nb = neighbours(lat);
  const z = 2 * dim;
  const jnb = new Int8Array(V * z);
  for (let i = 0; i < V; i++) {
    for (let d = 0; d < dim; d++) {
      jnb[i * z + 2 * d] = J[i * dim + d]!;
      // The −μ bond of i is the +μ bond of its −μ neighbour.
      jnb[i * z + 2 * d + 1] = J[nb[i * z + 2 * d + 1]! * dim + d]!;
    }
  }
  return { lat, nb, jnb };
}

/** Energy H = −Σ_i Σ_μ J_{i,μ} s_i s_{i+μ} (each bond once). */
export function eaEnergy(b: EaBonds, s: Int8Array): number {
  const z = 2 * b.lat.dim;
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let h = 0;
    for (let k = 0; k < z; k += 2) h += b.jnb[i * z + k]! * s[b.nb[i * z + k]!]!;
    sum += s[i]! * h;
  }
  return -sum;
}

/** Overlap field ρ_i = s_i t_i into `out`. */
export function overlapField(s: Int8Array, t: Int8Array, out: Int8Array): void {
  for (let i = 0; i < s.length; i++) out[i] = s[i]! * t[i]!;
}

/** Overlap q = V⁻¹ Σ_i ρ_i. */
export function overlapQ(rho: ArrayLike<number>): number {
  let q = 0;
  for (let i = 0; i < rho.length; i++) q += rho[i]!;
  return q / rho.length;
}

/** cos and sin of k_min·x along every axis, per site: the plane waves of the second-moment ξ. */
export interface MinWaves {
  dim: number;
  /** cos[μ][i], sin[μ][i] with k = 2π/L along axis μ. */
  cos: Float64Array[];
  sin: Float64Array[];
}

export function minWaves(lat: Lattice): MinWaves {
  const cos: Float64Array[] = [], sin: Float64Array[] = [];
  let stride = 1;
  for (let d = 0; d < lat.dim; d++) {
    const c = new Float64Array(lat.V), s = new Float64Array(lat.V);
    for (let i = 0; i < lat.V; i++) {
      const x = Math.floor(i / stride) % lat.L;
      c[i] = Math.cos((2 * Math.PI * x) / lat.L);
      s[i] = Math.sin((2 * Math.PI * x) / lat.L);
    }
    cos.push(c);
    sin.push(s);
    stride *= lat.L;
  }
  return { dim: lat.dim, cos, sin };
}

/**
 * |q(k_min)|² = |V⁻¹ Σ_i ρ_i e^{i k·x_i}|² averaged over the d axes of k_min = 2π/L e_μ (docs/ea.md:
 * F = V[⟨|q(k_min)|²⟩] and ξ_SG = (χ_SG/F − 1)^{1/2} / (2 sin(π/L))).
 */
export function overlapQk2(rho: ArrayLike<number>, w: MinWaves): number {
  const V = rho.length;
  let sum = 0;
  for (let d = 0; d < w.dim; d++) {
    const c = w.cos[d]!, s = w.sin[d]!;
    let re = 0, im = 0;
    for (let i = 0; i < V; i++) {
      re += rho[i]! * c[i]!;
      im += rho[i]! * s[i]!;
    }
    sum += (re * re + im * im) / (V * V);
  }
  return sum / w.dim;
}
