// Multi-spin-coded checkerboard Metropolis: 32 independent Ising systems in the bits of a u32 word.
// Jacobs & Rebbi, J. Comput. Phys. 41, 203 (1981); Bhanot, Duke & Salvador, J. Stat. Phys. 44, 985 (1986).
//
// Why independent random bits per system and not one random number per word: with identical
// couplings, systems that share random numbers couple and coalesce into one. Each lane therefore
// compares its own uniform with the acceptance probability, bit-sliced: random words supply the
// binary digits of 32 uniforms at once, most significant first, and a lane is decided at the first
// digit where its uniform and its threshold differ. About log2(#undecided)+1.3 words settle a site
// word, and the outcome equals the scalar test `u32 < threshold` exactly.

import { type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng, u32Threshold } from "../lattice/rng.js";

export const LANES = 32;

/** Threshold digits, most significant first, as all-ones / all-zero masks. */
function digitMasks(p: number): Int32Array {
  const t = Math.min(u32Threshold(p), 2 ** 32 - 1);
  const out = new Int32Array(32);
  for (let b = 0; b < 32; b++) out[b] = Math.floor(t / 2 ** (31 - b)) & 1 ? -1 : 0;
  return out;
}

/**
 * Digit masks for the acceptance probabilities e^{−4βk}, k = 1 … d (flips that break k more bonds
 * than they make), laid out [k−1][digit].
 */
export function multispinTable(dim: number, beta: number): Int32Array {
  const out = new Int32Array(dim * 32);
  for (let k = 1; k <= dim; k++) out.set(digitMasks(Math.exp(-4 * beta * k)), (k - 1) * 32);
  return out;
}

/** One checkerboard sweep of 32 systems on a 2D lattice. */
export function multispinSweep2D(w: Int32Array, L: number, table: Int32Array, rng: Rng): void {
  let s0 = rng.s0, s1 = rng.s1, s2 = rng.s2, s3 = rng.s3;
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < L; y++) {
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      for (let x = (y + c) & 1; x < L; x += 2) {
        const i = row + x;
        const S = w[i]!;
        // a_k = 1 where the bond to neighbour k is broken.
        const a1 = S ^ w[x === 0 ? row + L - 1 : i - 1]!;
        const a2 = S ^ w[x === L - 1 ? row : i + 1]!;
        const a3 = S ^ w[up + x]!;
        const a4 = S ^ w[dn + x]!;
        const u1 = a1 ^ a2, c1 = a1 & a2, u2 = a3 ^ a4, c2 = a3 & a4;
        const ones = u1 ^ u2;
        // broken ≥ 2 → ΔE ≤ 0, always flip; broken = 1 → e^{−4β}; broken = 0 → e^{−8β}.
        let flip = c1 | c2 | (u1 & u2);
        let und = ~flip;
        if (und !== 0) {
          const eq1 = ones & ~(c1 | c2);
          const eq0 = und & ~eq1;
          for (let b = 0; b < 32; b++) {
            const m = Math.imul(s1, 5);
            const r = Math.imul((m << 7) | (m >>> 25), 9);
            const t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
            const p = (eq1 & table[b]!) | (eq0 & table[32 + b]!);
            flip |= und & p & ~r;
            und &= ~(p ^ r);
            if (und === 0) break;
          }
        }
        w[i] = S ^ flip;
      }
    }
  }
  rng.s0 = s0; rng.s1 = s1; rng.s2 = s2; rng.s3 = s3;
}

/** One checkerboard sweep of 32 systems on a 3D lattice. */
export function multispinSweep3D(w: Int32Array, L: number, table: Int32Array, rng: Rng): void {
  const L2 = L * L;
  let s0 = rng.s0, s1 = rng.s1, s2 = rng.s2, s3 = rng.s3;
  for (let c = 0; c < 2; c++) {
    for (let z = 0; z < L; z++) {
      const plane = z * L2;
      const front = (z === L - 1 ? 0 : z + 1) * L2;
      const back = (z === 0 ? L - 1 : z - 1) * L2;
      for (let y = 0; y < L; y++) {
        const row = y * L;
        const up = (y === L - 1 ? 0 : y + 1) * L;
        const dn = (y === 0 ? L - 1 : y - 1) * L;
        for (let x = (y + z + c) & 1; x < L; x += 2) {
          const i = plane + row + x;
          const S = w[i]!;
          const a1 = S ^ w[x === 0 ? i + L - 1 : i - 1]!, a2 = S ^ w[x === L - 1 ? i - L + 1 : i + 1]!;
          const a3 = S ^ w[plane + up + x]!, a4 = S ^ w[plane + dn + x]!;
          const a5 = S ^ w[front + row + x]!, a6 = S ^ w[back + row + x]!;
          // Two full adders: (a1 + a2 + a3) = u1 + 2 c1, (a4 + a5 + a6) = u2 + 2 c2.
          const x1 = a1 ^ a2, u1 = x1 ^ a3, c1 = (a1 & a2) | (a3 & x1);
          const x2 = a4 ^ a5, u2 = x2 ^ a6, c2 = (a4 & a5) | (a6 & x2);
          // broken = ones + 2·twos with twos = c1 + c2 + k ∈ 0…3.
          const ones = u1 ^ u2, k = u1 & u2;
          const twosOdd = c1 ^ c2 ^ k;
          const twosGe2 = (c1 & c2) | (k & (c1 ^ c2));
          let flip = twosGe2 | (twosOdd & ones); // broken ≥ 3 → ΔE ≤ 0
          let und = ~flip;
          if (und !== 0) {
            const eq2 = twosOdd & ~ones & ~twosGe2; // ΔE = 4
            const eq1 = ones & ~(c1 | c2); // ΔE = 8
            const eq0 = und & ~eq2 & ~eq1; // ΔE = 12
            for (let b = 0; b < 32; b++) {
              const m = Math.imul(s1, 5);
              const r = Math.imul((m << 7) | (m >>> 25), 9);
              const t = s1 << 9;
              s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
              const p = (eq2 & table[b]!) | (eq1 & table[32 + b]!) | (eq0 & table[64 + b]!);
              flip |= und & p & ~r;
              und &= ~(p ^ r);
              if (und === 0) break;
            }
          }
          w[i] = S ^ flip;
        }
      }
    }
  }
  rng.s0 = s0; rng.s1 = s1; rng.s2 = s2; rng.s3 = s3;
}

/** One sweep of 32 systems on either dimension (even L). */
export function multispinSweep(lat: Lattice, w: Int32Array, table: Int32Array, rng: Rng): void {
  requireEven(lat, "the multi-spin checkerboard update");
  if (lat.dim === 2) multispinSweep2D(w, lat.L, table, rng);
  else multispinSweep3D(w, lat.L, table, rng);
}

/** Adds the bits of `x` to bit-sliced counters (one counter per lane). */
function addPlanes(planes: Int32Array, x: number): void {
  for (let j = 0; x !== 0; j++) {
    const carry = planes[j]! & x;
    planes[j]! ^= x;
    x = carry;
  }
}

/** Per-lane values of bit-sliced counters. */
function readPlanes(planes: Int32Array, out: Float64Array): void {
  for (let k = 0; k < LANES; k++) {
    let v = 0;
    for (let j = 0; j < planes.length; j++) v += ((planes[j]! >>> k) & 1) * 2 ** j;
    out[k] = v;
  }
}

/**
 * Energy and magnetisation of all 32 systems (bit 1 ↔ spin +1), each bond counted once.
 * `nb` is the neighbour table of `lattice.neighbours`.
 */
export function multispinMeasure(lat: Lattice, nb: Int32Array, w: Int32Array, E: Float64Array, M: Float64Array): void {
  const z = 2 * lat.dim;
  const up = new Int32Array(40), broken = new Int32Array(40);
  for (let i = 0; i < lat.V; i++) {
    const S = w[i]!;
    addPlanes(up, S);
    for (let d = 0; d < lat.dim; d++) addPlanes(broken, S ^ w[nb[i * z + 2 * d]!]!);
  }
  const nup = new Float64Array(LANES), nbroken = new Float64Array(LANES);
  readPlanes(up, nup);
  readPlanes(broken, nbroken);
  const bonds = lat.dim * lat.V;
  for (let k = 0; k < LANES; k++) {
    M[k] = 2 * nup[k]! - lat.V;
    E[k] = 2 * nbroken[k]! - bonds;
  }
}

/** Spins of lane k as ±1 bytes. */
export function laneSpins(w: Int32Array, k: number, out: Int8Array): void {
  for (let i = 0; i < w.length; i++) out[i] = (w[i]! >>> k) & 1 ? 1 : -1;
}
