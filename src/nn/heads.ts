// Output heads, per site and conditionally independent: Bernoulli for ±1 spins, a categorical (softmax)
// over q states for Potts states, a mixture of K Gaussians for fields (Bishop 1994, "Mixture density
// networks"); each with loss + gradient, sampling and exact ln q.
//
// Why stochastic heads: a deterministic map cannot create the fine-scale fluctuations the coarse
// configuration does not determine; the exact ln q makes the draw usable as a Metropolis–Hastings proposal.

import { type Rng } from "../lattice/rng.js";
import { sigmoid, softplus } from "./act.js";
import { type Arr, type Tensor, alloc, product } from "./tensor.js";

export type HeadSpec = { type: "bernoulli" } | { type: "categorical"; classes: number } | { type: "gaussian-mixture"; components: number };

/** Output channels a head reads: 1 logit, q logits, or K means + K log-scales + K mixture logits. */
export function headChannels(h: HeadSpec): number {
  if (h.type === "bernoulli") return 1;
  if (h.type === "categorical") {
    if (!Number.isInteger(h.classes) || h.classes < 2) throw new RangeError(`a categorical head needs an integer number of classes >= 2, got ${h.classes}`);
    return h.classes;
  }
  if (!Number.isInteger(h.components) || h.components < 1) throw new RangeError(`a mixture needs a positive integer number of components, got ${h.components}`);
  return 3 * h.components;
}

/** [batch, channels, sites per sample] of a head input. */
function dims(out: Tensor, C: number): { N: number; S: number } {
  if (out.shape.length < 3 || out.shape[1] !== C) throw new RangeError(`head expects [batch, ${C}, ...spatial], got [${out.shape}]`);
  return { N: out.shape[0]!, S: product(out.shape.slice(2)) };
}

function checkTarget(t: ArrayLike<number>, n: number): void {
  if (t.length !== n) throw new RangeError(`target has ${t.length} sites, the output describes ${n}`);
}

function spinOf(v: number): number {
  if (v === 1 || v === -1) return v;
  throw new RangeError(`Bernoulli targets must be ±1 spins, got ${v}`);
}

// ---------- Bernoulli (logits, spins ±1; P(s = +1) = σ(ℓ)) ----------

/** Mean binary cross-entropy per site, −(1/NS) Σ ln σ(s·ℓ) = (1/NS) Σ softplus(−s·ℓ), and its gradient. */
export function bernoulliLoss(logits: Tensor, spins: ArrayLike<number>): { loss: number; grad: Tensor } {
  const { N, S } = dims(logits, 1), n = N * S, l = logits.data;
  checkTarget(spins, n);
  const g = alloc(l, n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const s = spinOf(spins[i]!), z = -s * l[i]!;
    loss += softplus(z);
    g[i] = (-s * sigmoid(z)) / n;
  }
  return { loss: loss / n, grad: { shape: logits.shape.slice(), data: g } };
}

/**
 * ln q(spins | logits) of each configuration in the batch (exact, summed over its sites; with `sites`,
 * over the sites i with sites[i] = 1 only — the others are fixed by a compatible block rule).
 */
export function bernoulliLogProb(logits: Tensor, spins: ArrayLike<number>, sites?: Uint8Array): Float64Array {
  const { N, S } = dims(logits, 1), l = logits.data, lp = new Float64Array(N);
  checkTarget(spins, N * S);
  checkSites(sites, S);
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = b * S; i < (b + 1) * S; i++) if (!sites || sites[i - b * S]) acc -= softplus(-spinOf(spins[i]!) * l[i]!);
    lp[b] = acc;
  }
  return lp;
}

/** P(s = +1) per site. */
export function bernoulliProbs(logits: Tensor): Float64Array {
  return Float64Array.from(logits.data, sigmoid);
}

/** Draws ±1 spins site by site (53-bit uniforms) and returns them with ln q of each configuration. */
export function bernoulliSample(logits: Tensor, rng: Rng, into?: Int8Array): { spins: Int8Array; logProb: Float64Array } {
  const { N, S } = dims(logits, 1), l = logits.data;
  const spins = into ?? new Int8Array(N * S);
  checkTarget(spins, N * S);
  const lp = new Float64Array(N);
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = b * S; i < (b + 1) * S; i++) {
      // One exponential serves both σ(ℓ) and softplus(−sℓ) = max(−sℓ, 0) + log1p(e^{−|ℓ|}),
      // which is bit for bit what bernoulliLogProb computes.
      const li = l[i]!, e = Math.exp(-Math.abs(li));
      const p = li >= 0 ? 1 / (1 + e) : e / (1 + e);
      const s = rng.double() < p ? 1 : -1, v = -s * li;
      spins[i] = s;
      acc -= (v > 0 ? v : 0) + Math.log1p(e);
    }
    lp[b] = acc;
  }
  return { spins, logProb: lp };
}

// ---------- Gaussian mixture (channels: means μ_k, raw log-scales ρ_k, logits a_k) ----------

/**
 * ln σ is the raw channel ρ inside [−KNEE, KNEE] and saturates smoothly towards ±LOG_SCALE_MAX
 * outside (continuous slope, never zero): a scale can neither collapse to a spike nor explode, and the
 * common case costs no transcendental function.
 */
export const LOG_SCALE_MIN = -7;
export const LOG_SCALE_MAX = 7;
const KNEE = 6;
const SAT = LOG_SCALE_MAX - KNEE; // width of the saturating part on either side
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln σ(ρ): ρ for |ρ| ≤ 6, else ±(6 + 1 − e^{−(|ρ| − 6)}), inside (−7, 7). */
export function logScale(rho: number): number {
  if (rho > KNEE) return KNEE - SAT * Math.expm1(-(rho - KNEE) / SAT);
  if (rho < -KNEE) return -KNEE + SAT * Math.expm1((rho + KNEE) / SAT);
  return rho;
}

function logScaleGrad(rho: number): number {
  if (rho > KNEE) return Math.exp(-(rho - KNEE) / SAT);
  if (rho < -KNEE) return Math.exp((rho + KNEE) / SAT);
  return 1;
}

/**
 * The part of a site's density that does not depend on y, into scratch w (length 4K + 2):
 * w[k] = e^{a_k − max a}, w[K + k] = ln σ_k, w[3K + k] = 1/σ_k, w[4K] = Σ_k w[k], w[4K + 1] = max a.
 * The sampler reads the weights and scales from here, so drawing costs no extra exponentials.
 */
function mixturePrep(out: Arr, base: number, S: number, K: number, w: Float64Array): void {
  const A = base + 2 * K * S, R = base + K * S;
  let amax = -Infinity;
  for (let k = 0; k < K; k++) if (out[A + k * S]! > amax) amax = out[A + k * S]!;
  let den = 0;
  for (let k = 0; k < K; k++) {
    const ls = logScale(out[R + k * S]!);
    // e^0 = 1 exactly: the largest logit (and K = 1) costs no exponential.
    const a = out[A + k * S]!;
    den += w[k] = a === amax ? 1 : Math.exp(a - amax);
    w[K + k] = ls;
    w[3 * K + k] = Math.exp(-ls);
  }
  w[4 * K] = den;
  w[4 * K + 1] = amax;
}

/**
 * ln q(y) at one site (parameters at out[base + c·S], c = channel) after mixturePrep filled w, and
 * optionally adds scale · ∂ln q/∂out into grad at the same places.
 *
 * ln q = ln Σ_k e^{b_k} − ln Σ_k e^{a_k} − ½ ln 2π with b_k = a_k − ln σ_k − d_k²/2, d_k = (y − μ_k)/σ_k:
 * 3K exponentials and one logarithm in all (Math.exp costs ~14 ns in V8 and dominates sampling); the
 * gradient reuses them (responsibilities e^{b_k}/Σe^b, weights e^{a_k}/Σe^a). K = 1 needs one exponential.
 */
function mixtureFinish(out: Arr, base: number, S: number, K: number, y: number, w: Float64Array, grad: Arr | null, scale: number): number {
  const A = base + 2 * K * S, R = base + K * S;
  if (K === 1) {
    const ls = w[1]!, inv = w[3]!, d = (y - out[base]!) * inv;
    if (grad) {
      grad[base]! += scale * d * inv;
      grad[R]! += scale * (d * d - 1) * logScaleGrad(out[R]!);
    }
    return -ls - 0.5 * d * d - HALF_LN_2PI;
  }
  const den = w[4 * K]!, amax = w[4 * K + 1]!;
  let bmax = -Infinity;
  for (let k = 0; k < K; k++) {
    const d = (y - out[base + k * S]!) * w[3 * K + k]!;
    w[2 * K + k] = d;
    w[K + k] = out[A + k * S]! - w[K + k]! - 0.5 * d * d; // ln σ_k is replaced by b_k
    if (w[K + k]! > bmax) bmax = w[K + k]!;
  }
  let num = 0;
  for (let k = 0; k < K; k++) {
    const b = w[K + k]!;
    num += w[K + k] = b === bmax ? 1 : Math.exp(b - bmax);
  }
  const site = bmax - amax + Math.log(num / den) - HALF_LN_2PI;
  if (grad) {
    for (let k = 0; k < K; k++) {
      const r = w[K + k]! / num, d = w[2 * K + k]!; // r: responsibility of component k
      grad[base + k * S]! += scale * r * d * w[3 * K + k]!;
      grad[R + k * S]! += scale * r * (d * d - 1) * logScaleGrad(out[R + k * S]!);
      grad[A + k * S]! += scale * (r - w[k]! / den);
    }
  }
  return site;
}

function mixtureSite(out: Arr, base: number, S: number, K: number, y: number, w: Float64Array, grad: Arr | null, scale: number): number {
  mixturePrep(out, base, S, K, w);
  return mixtureFinish(out, base, S, K, y, w, grad, scale);
}

/** Mean negative log-likelihood per site and its gradient with respect to the 3K output channels. */
export function mixtureLoss(out: Tensor, K: number, field: ArrayLike<number>): { loss: number; grad: Tensor } {
  const C = 3 * K, { N, S } = dims(out, C), n = N * S;
  checkTarget(field, n);
  const g = alloc(out.data, out.data.length), lp = new Float64Array(4 * K + 2);
  let loss = 0;
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < S; i++) loss -= mixtureSite(out.data, b * C * S + i, S, K, field[b * S + i]!, lp, g, -1 / n);
  }
  return { loss: loss / n, grad: { shape: out.shape.slice(), data: g } };
}

/** ln q(field | out) of each configuration in the batch (exact density, summed over its sites, or over `sites`). */
export function mixtureLogProb(out: Tensor, K: number, field: ArrayLike<number>, sites?: Uint8Array): Float64Array {
  const C = 3 * K, { N, S } = dims(out, C);
  checkTarget(field, N * S);
  checkSites(sites, S);
  const res = new Float64Array(N), lp = new Float64Array(4 * K + 2);
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = 0; i < S; i++) if (!sites || sites[i]) acc += mixtureSite(out.data, b * C * S + i, S, K, field[b * S + i]!, lp, null, 0);
    res[b] = acc;
  }
  return res;
}

/**
 * Draws a field: component k with probability softmax(a)_k, then μ_k + σ_k·N(0, 1). ln q is evaluated
 * on the stored values (after rounding to `into`'s precision), so it is exact for what is returned.
 */
export function mixtureSample<F extends Float32Array | Float64Array = Float32Array>(out: Tensor, K: number, rng: Rng, into?: F): { field: F; logProb: Float64Array } {
  const C = 3 * K, { N, S } = dims(out, C), o = out.data;
  const field = (into ?? new Float32Array(N * S)) as F;
  checkTarget(field, N * S);
  const lp = new Float64Array(4 * K + 2), res = new Float64Array(N);
  // Marsaglia's polar method gives normal deviates in pairs; rng.normal() would drop the second one.
  let spare = 0, haveSpare = false;
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = 0; i < S; i++) {
      const base = b * C * S + i;
      mixturePrep(o, base, S, K, lp);
      let k = 0;
      if (K > 1) {
        let u = rng.double() * lp[4 * K]!;
        for (; k < K - 1; k++) {
          u -= lp[k]!;
          if (u < 0) break;
        }
      }
      const j = b * S + i;
      let g: number;
      if (haveSpare) {
        g = spare;
        haveSpare = false;
      } else {
        let u: number, v: number, q: number;
        do {
          u = 2 * rng.double() - 1;
          v = 2 * rng.double() - 1;
          q = u * u + v * v;
        } while (!(q > 0 && q < 1));
        const f = Math.sqrt((-2 * Math.log(q)) / q);
        g = u * f;
        spare = v * f;
        haveSpare = true;
      }
      field[j] = o[base + k * S]! + g / lp[3 * K + k]!;
      acc += mixtureFinish(o, base, S, K, field[j]!, lp, null, 0);
    }
    res[b] = acc;
  }
  return { field, logProb: res };
}

// ---------- Categorical (q logits per site, states 0 … q−1; P(σ) = softmax(ℓ)_σ) ----------

function stateOf(v: number, q: number): number {
  if (Number.isInteger(v) && v >= 0 && v < q) return v;
  throw new RangeError(`categorical targets must be states 0..${q - 1}, got ${v}`);
}

/**
 * ln softmax(ℓ)_σ of one site (channels ℓ_c at base + c·S), written stably; with `grad` adds
 * scale·∂/∂ℓ_c = scale·(δ_cσ − p_c). `p` is scratch of length q (left holding the probabilities).
 */
function categoricalSite(o: Arr, base: number, S: number, q: number, sigma: number, p: Float64Array, grad: Arr | null, scale: number): number {
  let max = -Infinity;
  for (let c = 0; c < q; c++) max = Math.max(max, o[base + c * S]!);
  let z = 0;
  for (let c = 0; c < q; c++) {
    p[c] = Math.exp(o[base + c * S]! - max);
    z += p[c]!;
  }
  if (grad) for (let c = 0; c < q; c++) grad[base + c * S]! += scale * ((c === sigma ? 1 : 0) - p[c]! / z);
  for (let c = 0; c < q; c++) p[c] = p[c]! / z;
  return o[base + sigma * S]! - max - Math.log(z);
}

/** Mean cross-entropy per site −(1/NS) Σ ln softmax(ℓ)_σ and its gradient. */
export function categoricalLoss(logits: Tensor, q: number, states: ArrayLike<number>): { loss: number; grad: Tensor } {
  const { N, S } = dims(logits, q), n = N * S, o = logits.data;
  checkTarget(states, n);
  const g = alloc(o, o.length), p = new Float64Array(q);
  let loss = 0;
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < S; i++) loss -= categoricalSite(o, b * q * S + i, S, q, stateOf(states[b * S + i]!, q), p, g, -1 / n);
  }
  return { loss: loss / n, grad: { shape: logits.shape.slice(), data: g } };
}

/** ln q(states | logits) of each configuration in the batch (exact, summed over its sites, or over `sites`). */
export function categoricalLogProb(logits: Tensor, q: number, states: ArrayLike<number>, sites?: Uint8Array): Float64Array {
  const { N, S } = dims(logits, q), o = logits.data, res = new Float64Array(N), p = new Float64Array(q);
  checkTarget(states, N * S);
  checkSites(sites, S);
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = 0; i < S; i++) if (!sites || sites[i]) acc += categoricalSite(o, b * q * S + i, S, q, stateOf(states[b * S + i]!, q), p, null, 0);
    res[b] = acc;
  }
  return res;
}

/** Draws states site by site (inversion with 53-bit uniforms) and returns them with ln q of each configuration. */
export function categoricalSample(logits: Tensor, q: number, rng: Rng, into?: Int8Array): { states: Int8Array; logProb: Float64Array } {
  const { N, S } = dims(logits, q), o = logits.data;
  const states = into ?? new Int8Array(N * S);
  checkTarget(states, N * S);
  const res = new Float64Array(N), p = new Float64Array(q);
  for (let b = 0; b < N; b++) {
    let acc = 0;
    for (let i = 0; i < S; i++) {
      const base = b * q * S + i;
      categoricalSite(o, base, S, q, 0, p, null, 0);
      let u = rng.double(), c = 0;
      while (c < q - 1 && u >= p[c]!) u -= p[c++]!;
      states[b * S + i] = c;
      acc += categoricalSite(o, base, S, q, c, p, null, 0);
    }
    res[b] = acc;
  }
  return { states, logProb: res };
}

// ---------- Any head ----------

export function headLoss(h: HeadSpec, out: Tensor, target: ArrayLike<number>): { loss: number; grad: Tensor } {
  if (h.type === "categorical") return categoricalLoss(out, h.classes, target);
  return h.type === "bernoulli" ? bernoulliLoss(out, target) : mixtureLoss(out, h.components, target);
}

/** ln q of each configuration; with `sites` (1 = drawn, 0 = fixed), over the drawn sites only. */
export function headLogProb(h: HeadSpec, out: Tensor, target: ArrayLike<number>, sites?: Uint8Array): Float64Array {
  if (h.type === "categorical") return categoricalLogProb(out, h.classes, target, sites);
  return h.type === "bernoulli" ? bernoulliLogProb(out, target, sites) : mixtureLogProb(out, h.components, target, sites);
}

function checkSites(sites: Uint8Array | undefined, S: number): void {
  if (sites && sites.length !== S) throw new RangeError(`a site mask must have ${S} entries, got ${sites.length}`);
}

/** A configuration per batch entry ([N, ...spatial] flattened) and ln q of each. */
export function headSample(h: HeadSpec, out: Tensor, rng: Rng): { sample: Int8Array | Float32Array; logProb: Float64Array } {
  if (h.type === "bernoulli") {
    const r = bernoulliSample(out, rng);
    return { sample: r.spins, logProb: r.logProb };
  }
  if (h.type === "categorical") {
    const r = categoricalSample(out, h.classes, rng);
    return { sample: r.states, logProb: r.logProb };
  }
  const r = mixtureSample(out, h.components, rng);
  return { sample: r.field, logProb: r.logProb };
}
