// Local φ⁴ update: propose φ′ ~ N(h/2A, 1/2A) from the exact Gaussian part of the local action
// (h = κ Σ_nn φ, A = (μ² + 2dκ)/2) and accept with min(1, e^{−λ/4 (φ′⁴ − φ⁴)}). Independence
// Metropolis–Hastings (Hastings 1970) as in the authors' φ⁴ code (Bachtis et al.), checkerboard order.
//
// Why the kernel looks like this (it is the hot loop of every φ⁴ run; bench/phi4.ts times it):
// - the xoshiro128** state lives in locals (as in checkerboard.ts), not behind Rng method calls;
// - the normal is the ziggurat of lattice/normal.ts, inlined whole, wedge and tail included: even a
//   rarely taken JS call in this loop makes V8 spill registers on every site (≈ 5 ns per site);
// - the acceptance u < e^{−ΔS} is decided without Math.exp and without an unpredictable branch in
//   all but ~1% of the sites: ΔS falls in a bin of width 1/64 whose end values of e^{−ΔS} are
//   tabulated as 31-bit integer thresholds (with a relative safety margin of 2^-40 for the rounding
//   of Math.exp); r ≤ lower entry accepts, r > upper entry rejects (a sign-bit mask, as in
//   checkerboard.ts), and only r between them computes e^{−ΔS}. The result is exactly the decision
//   `r/2^31 < Math.exp(−ΔS)` for a 31-bit uniform r; nothing is approximated. ΔS ≤ 0 is bin 0,
//   which always accepts, so there is no branch on the sign of ΔS either;
// - the new value is stored through a two-slot scratch array indexed by the accept bit: a
//   mispredicted branch per rejected site cost more than this store.

import { type Lattice, requireEven } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { ZIG_F, ZIG_K, ZIG_R, ZIG_W } from "../lattice/normal.js";
import { type Phi4Couplings } from "../models/phi4.js";

const INV31 = 1 / 2147483648;
const INV32 = 1 / 4294967296;
const INV53 = 1 / 9007199254740992;
/** Bins per unit of ΔS, and the ΔS beyond which e^{−ΔS} is always computed (e^{−24} ≈ 4e-11). */
const BINS = 64;
const DS_MAX = 24;
/** Bin j ≥ 1 holds ΔS ∈ [(j−1)/64, j/64); bin 0 is ΔS < 0; the last bin, ΔS ≥ DS_MAX, always computes. */
const NBIN = BINS * DS_MAX + 2;
const LAST = NBIN - 1;

/** Largest 31-bit r with r/2^31 < p (−1 if none), clamped to 2^31 − 1: "r ≤ entry" ⇔ "r/2^31 < p". */
function entry31(p: number): number {
  return Math.min(2147483647, Math.max(-1, Math.ceil(p * 2147483648) - 1));
}

/**
 * Acceptance thresholds, interleaved per bin j (one array keeps V8's register pressure down):
 * ACC[2j] = lo, ACC[2j+1] = hi with r ≤ lo implying r/2^31 < e^{−ΔS} (accept) and r > hi implying
 * r/2^31 ≥ e^{−ΔS} (reject) for every ΔS in bin j; in between, compute. The margins cover the
 * rounding of Math.exp and of the bin index ΔS·64 + 1 (below 1e-14 relative for ΔS < DS_MAX).
 */
const ACC = new Int32Array(2 * NBIN);
{
  const margin = 2 ** -40;
  ACC[0] = ACC[1] = 2147483647;
  for (let j = 1; j < LAST; j++) {
    ACC[2 * j] = entry31(Math.exp(-j / BINS) * (1 - margin));
    ACC[2 * j + 1] = entry31(Math.exp(-(j - 1) / BINS) * (1 + margin));
  }
  ACC[2 * LAST] = -1;
  ACC[2 * LAST + 1] = 2147483647;
}

/** The ziggurat's ZIG_K and ZIG_W interleaved: ZT[2k] = ZIG_K[k], ZT[2k+1] = ZIG_W[k]. */
const ZT = new Float64Array(2 * ZIG_K.length);
for (let k = 0; k < ZIG_K.length; k++) {
  ZT[2 * k] = ZIG_K[k]!;
  ZT[2 * k + 1] = ZIG_W[k]!;
}

/** [old, proposed] value of the site, indexed by the accept bit (module scratch: no allocation per sweep). */
const PICK = new Float64Array(2);

/**
 * One checkerboard sweep; returns the number of accepted proposals. Every site draws one normal
 * (ziggurat: one 32-bit word, occasionally more; the same words and value as `normal` in
 * lattice/normal.ts) and then one 32-bit word for the acceptance (its top 31 bits), whether accepted
 * or not, so the random stream does not depend on the field: the sequence of words consumed is a
 * function of the stream alone. `normals` is no longer used (kept so that callers compile unchanged).
 */
export function phi4LocalSweep(lat: Lattice, phi: Float64Array, c: Phi4Couplings, rng: Rng, _normals?: Float64Array): number {
  requireEven(lat, "the checkerboard phi^4 update");
  if (lat.dim !== 2) throw new RangeError("the phi^4 samplers are two-dimensional");
  if (phi.length !== lat.V) throw new RangeError(`field has ${phi.length} values for ${lat.V} sites`);
  const L = lat.L;
  const A = (c.mu2 + 4 * c.kappa) / 2;
  const sd = Math.sqrt(1 / (2 * A));
  const shift = c.kappa / (2 * A);
  const q = c.lambda / 4;
  const zt = ZT, zf = ZIG_F, R = ZIG_R, acct = ACC;
  const pick = PICK;
  // `| 0`: V8 then keeps the state in int32 registers (without it the loop is 10% slower).
  let s0 = rng.s0 | 0, s1 = rng.s1 | 0, s2 = rng.s2 | 0, s3 = rng.s3 | 0;
  let m = 0, t = 0;
  let accepted = 0;
  for (let col = 0; col < 2; col++) {
    for (let y = 0; y < L; y++) {
      const row = y * L;
      const up = (y === L - 1 ? 0 : y + 1) * L;
      const dn = (y === 0 ? L - 1 : y - 1) * L;
      for (let x = (y + col) & 1; x < L; x += 2) {
        const i = row + x;
        const h = phi[x === 0 ? i + L - 1 : i - 1]! + phi[x === L - 1 ? i - L + 1 : i + 1]! + phi[up + x]! + phi[dn + x]!;
        // ---- Normal deviate z (lattice/normal.ts `normal`, word for word). ----
        m = Math.imul(s1, 5); let w = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        let k = w & 255, a = w >>> 8;
        let z: number;
        if (a < zt[2 * k]!) z = (a + 0.5) * zt[2 * k + 1]!;
        else {
          for (;;) {
            const li = k & 127;
            if (li === 0) {
              // Tail beyond r: x = −ln(U1)/r, y = −ln(U2) until 2y > x², U from two words each, in (0, 1].
              let xt: number, yt: number;
              do {
                m = Math.imul(s1, 5); const w1 = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
                m = Math.imul(s1, 5); const w2 = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
                m = Math.imul(s1, 5); const w3 = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
                m = Math.imul(s1, 5); const w4 = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
                xt = -Math.log(1 - ((w1 >>> 5) * 67108864 + (w2 >>> 6)) * INV53) / R;
                yt = -Math.log(1 - ((w3 >>> 5) * 67108864 + (w4 >>> 6)) * INV53);
              } while (yt + yt < xt * xt);
              z = k & 128 ? -(R + xt) : R + xt;
              break;
            }
            // Wedge: height uniform in [f(x_i), f(x_{i−1})), accept under the curve.
            const xw = (a + 0.5) * zt[2 * k + 1]!;
            m = Math.imul(s1, 5); w = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
            const fi = zf[li]!;
            if (fi + (w >>> 0) * INV32 * (zf[li - 1]! - fi) < Math.exp(-0.5 * xw * xw)) {
              z = xw;
              break;
            }
            // Rejected: a fresh word, from the top.
            m = Math.imul(s1, 5); w = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
            k = w & 255; a = w >>> 8;
            if (a < zt[2 * k]!) {
              z = (a + 0.5) * zt[2 * k + 1]!;
              break;
            }
          }
        }
        // ---- Acceptance word, drawn at every site. ----
        m = Math.imul(s1, 5); w = Math.imul((m << 7) | (m >>> 25), 9); t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        const r = w >>> 1;
        const old = phi[i]!;
        const next = shift * h + sd * z;
        const o2 = old * old, n2 = next * next;
        const dS = q * (n2 * n2 - o2 * o2);
        let tb = dS * BINS + 1;
        // Rare: ΔS ≥ DS_MAX or NaN (the last bin computes), or so negative that `| 0` would wrap.
        if (!(tb < LAST && tb > -1e9)) tb = tb > 0 || tb !== tb ? LAST : 0;
        let bin = tb | 0;
        bin &= ~(bin >> 31); // ΔS ≤ −1/64 gives a negative index: bin 0
        const lj = acct[2 * bin]!;
        let acc = ((lj - r) >> 31) + 1; // 1 when r ≤ lj
        if (((lj - r) & (r - acct[2 * bin + 1]! - 1)) < 0) acc = r * INV31 < Math.exp(-dS) ? 1 : 0; // lj < r ≤ hi[bin]
        pick[0] = old;
        pick[1] = next;
        phi[i] = pick[acc]!;
        accepted += acc;
      }
    }
  }
  rng.s0 = s0; rng.s1 = s1; rng.s2 = s2; rng.s3 = s3;
  return accepted;
}
