// Standard normal deviates by the ziggurat method (G. Marsaglia & W. W. Tsang, "The Ziggurat Method
// for Generating Random Variables", J. Stat. Softw. 5(8), 2000), 128 layers, with the correction of
// J. A. Doornik ("An Improved Ziggurat Method to Generate Normal Random Samples", 2005): the layer
// index and the abscissa come from disjoint bits of the 32-bit word, so they are independent.
//
// Why a ziggurat: it is exact (rejection sampling from the exact density, no approximation) and
// 97.2% of deviates cost one 32-bit draw, one table look-up, a compare and a multiply, against a
// log, a sqrt and a cos/sin per pair for Box–Muller. The φ⁴ local update inlines all of it (see
// phi4-local.ts: a function call in its loop costs more than the whole normal), so `normal` here is
// the reference that the kernel must reproduce word for word (tested in phi4-kernels.test.ts).
//
// Layout of the 32-bit word w: bits 0–6 the layer i, bit 7 the sign, bits 8–31 the abscissa
// m ∈ [0, 2^24), used as u = (m + ½)/2^24 ∈ (0, 1) — midpoints, so the grid is symmetric and never 0.
// The only discreteness is this 2^-24 grid of u inside a layer (a relative resolution of 6e-8 in x).
//
// The tables are built at module load. The base layer 0 is the rectangle [0, r]×[0, f(r)] plus the
// tail beyond r, with the same area v as every other layer; r is solved for here (bisection on the
// closure condition, the tail area from Mills' ratio as a continued fraction) rather than copied, so
// the 128 layers have equal areas to double precision. f(x) = exp(−x²/2) (unnormalised).

import { type Rng } from "./rng.js";

const LAYERS = 128;
const TWO24 = 16777216;
const INV32 = 1 / 4294967296;
const INV53 = 1 / 9007199254740992;

const f = (x: number): number => Math.exp(-0.5 * x * x);
const finv = (y: number): number => Math.sqrt(-2 * Math.log(y));

/** ∫_r^∞ e^{−t²/2} dt = e^{−r²/2} R(r), R Mills' ratio by its continued fraction (fast for r ≈ 3.4). */
function tailArea(r: number): number {
  // R(r) = 1/(r + 1/(r + 2/(r + 3/(r + …)))), evaluated bottom-up from a deep truncation.
  let t = r;
  for (let k = 200; k >= 1; k--) t = r + k / t;
  return f(r) / t;
}

/** Abscissae x_1 < … < x_127 = r for a trial r; returns them and the closure defect at the top. */
function layers(r: number): { x: Float64Array; v: number; defect: number } {
  const v = r * f(r) + tailArea(r);
  const x = new Float64Array(LAYERS);
  x[LAYERS - 1] = r;
  let xi = r;
  for (let i = LAYERS - 2; i >= 1; i--) {
    const y = v / xi + f(xi);
    if (y >= 1) return { x, v, defect: -1 }; // layers too big (r too small): no room left at the top
    xi = finv(y);
    x[i] = xi;
  }
  // The top layer [0, x_1] × [f(x_1), 1] must have area v too.
  return { x, v, defect: x[1]! * (1 - f(x[1]!)) - v };
}

function solveR(): number {
  // defect(r) < 0 for r too small (layers too big), > 0 for r too large (the top layer left over too big).
  let lo = 3.3, hi = 3.6;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (layers(mid).defect > 0) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/** The tail start r (≈ 3.442619855899, Marsaglia & Tsang's value). */
export const ZIG_R = solveR();
const built = layers(ZIG_R);
/** The common layer area v (≈ 9.91256303526217e-3). */
export const ZIG_V = built.v;

/**
 * Tables indexed by the low 8 bits of the word (layer i = bits 0–6, sign = bit 7):
 * ZIG_W[k] = ±x_i/2^24 (the base layer uses x = v/f(r), its rectangle-plus-tail width),
 * ZIG_K[k] = 2^24·x_{i−1}/x_i − ½: m < ZIG_K[k] ⇔ u < x_{i−1}/x_i, i.e. the point lies inside the
 * next narrower layer and so under the curve (the fast path; ZIG_K = −½ for the top layer, which is all wedge).
 * ZIG_F[i] = f(x_i) (ZIG_F[0] = f(0) = 1) for the wedge test.
 */
export const ZIG_W = new Float64Array(2 * LAYERS);
export const ZIG_K = new Float64Array(2 * LAYERS);
export const ZIG_F = new Float64Array(LAYERS);
{
  const x = built.x;
  const q = ZIG_V / f(ZIG_R);
  for (let i = 0; i < LAYERS; i++) {
    const width = i === 0 ? q : x[i]!;
    const inner = i === 0 ? ZIG_R : i === 1 ? 0 : x[i - 1]!;
    const k = (inner / width) * TWO24 - 0.5;
    ZIG_W[i] = width / TWO24;
    ZIG_W[i + LAYERS] = -width / TWO24;
    ZIG_K[i] = ZIG_K[i + LAYERS] = k;
    ZIG_F[i] = i === 0 ? 1 : f(x[i]!);
  }
}

/** A uniform in (0, 1] with 53 bits (1 − the usual [0, 1) double), safe under a log; two words. */
function openUniform(rng: Rng): number {
  return 1 - ((rng.u32() >>> 5) * 67108864 + (rng.u32() >>> 6)) * INV53;
}

/**
 * The rest of the ziggurat for a word w whose fast-path test failed (m ≥ ZIG_K): the wedge or tail
 * test, restarting with fresh words from `rng` until a deviate is accepted (about 2.8% of words).
 * Words consumed: the wedge one (32-bit uniform for the height), the tail four per attempt (two
 * 53-bit uniforms, so the tail reaches beyond 14σ), a restart one. The φ⁴ kernel inlines this too.
 */
export function normalSlow(rng: Rng, w: number): number {
  for (;;) {
    const k = w & 255, i = k & 127, m = w >>> 8;
    if (m < ZIG_K[k]!) return (m + 0.5) * ZIG_W[k]!;
    if (i === 0) {
      // Tail beyond r (Marsaglia 1964): x = −ln(U1)/r, y = −ln(U2), accept when 2y > x².
      let x: number, y: number;
      do {
        x = -Math.log(openUniform(rng)) / ZIG_R;
        y = -Math.log(openUniform(rng));
      } while (y + y < x * x);
      return k & 128 ? -(ZIG_R + x) : ZIG_R + x;
    }
    const x = (m + 0.5) * ZIG_W[k]!;
    // Wedge: height uniform in [f(x_i), f(x_{i−1})); accept when under the curve.
    const fi = ZIG_F[i]!;
    if (fi + rng.u32() * INV32 * (ZIG_F[i - 1]! - fi) < f(x)) return x;
    w = rng.u32();
  }
}

/** One standard normal deviate. The φ⁴ local kernel inlines exactly this (same words, same result). */
export function normal(rng: Rng): number {
  const w = rng.u32();
  const k = w & 255, m = w >>> 8;
  if (m < ZIG_K[k]!) return (m + 0.5) * ZIG_W[k]!;
  return normalSlow(rng, w);
}
