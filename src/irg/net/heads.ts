// Output distributions of a generator network, per site and conditionally independent given the
// network output: Bernoulli for spins (logit channel) and a mixture of K Gaussians for fields (3K
// channels: means, scales, mixture logits). Each has the exact log-probability, its gradient, and sampling.
//
// Why stochastic heads: a deterministic map copies the coarse value into the fine sites and cannot
// create short-range fluctuations (physics.md §7); the log-probability makes exact refinement possible.

import { type Rng } from "../../lattice/rng.js";
import { type Arr } from "./layers.js";

export type Head = { type: "bernoulli" } | { type: "gmm"; K: number };

export function headChannels(h: Head): number {
  return h.type === "bernoulli" ? 1 : 3 * h.K;
}

const LN2PI = Math.log(2 * Math.PI);
const MIN_SCALE = 1e-3;

function softplus(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * ln q(target | output) summed over the n sites, and (if `grad` is given) its gradient with respect to
 * the output channels (layout [channels, n]), scaled by `scale` (e.g. −1/N for a mean NLL loss).
 */
export function logProb(h: Head, out: Arr, target: ArrayLike<number>, n: number, grad?: Arr, scale = 1): number {
  let total = 0;
  if (h.type === "bernoulli") {
    for (let i = 0; i < n; i++) {
      // ln σ(s·ℓ) = −softplus(−s·ℓ) for s = ±1.
      const s = target[i]! > 0 ? 1 : -1;
      const l = out[i]!;
      total -= softplus(-s * l);
      if (grad) grad[i]! += scale * s * sigmoid(-s * l);
    }
    return total;
  }
  const K = h.K;
  const lp = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const y = target[i]!;
    // log-softmax of the mixture logits.
    let amax = -Infinity;
    for (let k = 0; k < K; k++) amax = Math.max(amax, out[(2 * K + k) * n + i]!);
    let az = 0;
    for (let k = 0; k < K; k++) az += Math.exp(out[(2 * K + k) * n + i]! - amax);
    const lse = amax + Math.log(az);
    let top = -Infinity;
    for (let k = 0; k < K; k++) {
      const mu = out[k * n + i]!, sig = softplus(out[(K + k) * n + i]!) + MIN_SCALE;
      const d = (y - mu) / sig;
      lp[k] = out[(2 * K + k) * n + i]! - lse - 0.5 * LN2PI - Math.log(sig) - 0.5 * d * d;
      top = Math.max(top, lp[k]!);
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(lp[k]! - top);
    const site = top + Math.log(z);
    total += site;
    if (!grad) continue;
    for (let k = 0; k < K; k++) {
      const r = Math.exp(lp[k]! - site); // responsibility
      const mu = out[k * n + i]!, raw = out[(K + k) * n + i]!;
      const sig = softplus(raw) + MIN_SCALE;
      const d = (y - mu) / sig;
      const pi = Math.exp(out[(2 * K + k) * n + i]! - lse);
      grad[k * n + i]! += scale * r * d / sig;
      grad[(K + k) * n + i]! += scale * r * (d * d - 1) / sig * sigmoid(raw);
      grad[(2 * K + k) * n + i]! += scale * (r - pi);
    }
  }
  return total;
}

/** Draws a fine configuration from the head's distribution; returns its ln q. */
export function sampleHead(h: Head, out: Arr, n: number, rng: Rng, target: Float32Array | Int8Array): number {
  if (h.type === "bernoulli") {
    let lq = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(out[i]!);
      const s = rng.double() < p ? 1 : -1;
      target[i] = s;
      lq -= softplus(-s * out[i]!);
    }
    return lq;
  }
  const K = h.K;
  for (let i = 0; i < n; i++) {
    let amax = -Infinity;
    for (let k = 0; k < K; k++) amax = Math.max(amax, out[(2 * K + k) * n + i]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(out[(2 * K + k) * n + i]! - amax);
    let u = rng.double() * z, k = 0;
    for (; k < K - 1; k++) {
      u -= Math.exp(out[(2 * K + k) * n + i]! - amax);
      if (u < 0) break;
    }
    target[i] = out[k * n + i]! + (softplus(out[(K + k) * n + i]!) + MIN_SCALE) * rng.normal();
  }
  // Float32 storage rounds the draw; ln q is evaluated on the stored values so that it is exact for them.
  return logProb(h, out, target, n);
}
