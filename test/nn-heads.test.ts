// Output heads: exact normalisation of the Bernoulli and Gaussian-mixture log-probabilities, sampling
// histograms against those probabilities (fixed seeds), and loss gradients against finite differences.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { maxRelError, numericGrad } from "../src/nn/gradcheck.js";
import {
  LOG_SCALE_MAX, LOG_SCALE_MIN, bernoulliLogProb, bernoulliLoss, bernoulliProbs, bernoulliSample, headLogProb, headSample,
  categoricalLogProb, categoricalLoss, categoricalSample, logScale, mixtureLogProb, mixtureLoss, mixtureSample,
} from "../src/nn/heads.js";
import { type Tensor } from "../src/nn/tensor.js";

const rng = rngFor({ seed: 31 });

/** N copies of one sample's head output (shape [1, C, ...spatial]) as a batch. */
function repeat(t: Tensor, N: number): Tensor {
  const data = new Float64Array(N * t.data.length);
  for (let b = 0; b < N; b++) data.set(t.data, b * t.data.length);
  return { shape: [N, ...t.shape.slice(1)], data };
}

test("Bernoulli: the 16 configurations of a 2×2 output have probabilities summing to 1, each the product of site probabilities", () => {
  const logits: Tensor = { shape: [1, 1, 2, 2], data: Float64Array.from([0.3, -1.7, 2.2, -0.4]) };
  const p = bernoulliProbs(logits);
  let total = 0;
  for (let c = 0; c < 16; c++) {
    const s = Float64Array.from({ length: 4 }, (_, i) => ((c >> i) & 1 ? 1 : -1));
    const lp = bernoulliLogProb(logits, s)[0]!;
    let direct = 1;
    for (let i = 0; i < 4; i++) direct *= s[i] === 1 ? p[i]! : 1 - p[i]!;
    assert.ok(Math.abs(Math.exp(lp) - direct) < 1e-14, `configuration ${c}`);
    total += Math.exp(lp);
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `probabilities sum to ${total}`);
  assert.throws(() => bernoulliLogProb(logits, [1, 0, 1, 1]), /±1/);
});

test("Bernoulli sampling: configuration histogram matches the probabilities (χ², 15 dof) and ln q is returned exactly", () => {
  const one: Tensor = { shape: [1, 1, 2, 2], data: Float64Array.from([0.3, -1.7, 1.2, -0.4]) };
  const N = 40000, batch = repeat(one, N);
  const { spins, logProb } = bernoulliSample(batch, rngFor({ seed: 8 }));
  assert.deepEqual(logProb, bernoulliLogProb(batch, spins));
  const counts = new Float64Array(16);
  for (let b = 0; b < N; b++) {
    let c = 0;
    for (let i = 0; i < 4; i++) if (spins[4 * b + i] === 1) c |= 1 << i;
    counts[c]!++;
  }
  let chi2 = 0;
  for (let c = 0; c < 16; c++) {
    const s = Array.from({ length: 4 }, (_, i) => ((c >> i) & 1 ? 1 : -1));
    const e = N * Math.exp(bernoulliLogProb(one, s)[0]!);
    chi2 += (counts[c]! - e) ** 2 / e;
  }
  // P(χ²_15 > 45) ≈ 7e-5.
  assert.ok(chi2 < 45, `χ² = ${chi2} for 15 degrees of freedom`);
});

test("Bernoulli BCE: value and gradient (finite differences) with respect to the logits", () => {
  const l = Float64Array.from({ length: 24 }, () => 3 * rng.normal());
  const s = Float64Array.from({ length: 24 }, () => (rng.double() < 0.5 ? 1 : -1));
  const t = (): Tensor => ({ shape: [2, 1, 3, 4], data: l });
  const { loss, grad } = bernoulliLoss(t(), s);
  const lp = bernoulliLogProb(t(), s);
  assert.ok(Math.abs(loss + (lp[0]! + lp[1]!) / 24) < 1e-12, "BCE is minus the mean log-probability");
  assert.ok(maxRelError(grad.data, numericGrad(() => bernoulliLoss(t(), s).loss, l)) < 1e-6);
  // Stable for huge logits: no Infinity or NaN.
  const big = bernoulliLoss({ shape: [1, 1, 1, 2], data: Float64Array.from([800, -800]) }, [-1, 1]);
  assert.ok(Math.abs(big.loss - 800) < 1e-9 && big.grad.data.every(Number.isFinite));
});

/** One site's 3K channels: means, raw log-scales, logits. */
function mixtureSite(mu: number[], rho: number[], a: number[]): Tensor {
  const K = mu.length;
  return { shape: [1, 3 * K, 1, 1], data: Float64Array.from([...mu, ...rho, ...a]) };
}

test("Gaussian mixture: the density of one site integrates to 1 (K = 1 and K = 3)", () => {
  for (const site of [mixtureSite([0.7], [-0.4], [0]), mixtureSite([-2, 0.5, 3], [-0.5, 0, 0.3], [0.2, -1, 0.5])]) {
    const K = site.shape[1]! / 3;
    // Simpson's rule on [−20, 20] with step 1e-3: the tails beyond are below e^{−50}.
    const h = 1e-3, M = 40000, ys = Float64Array.from({ length: M + 1 }, (_, i) => -20 + i * h);
    const lp = mixtureLogProb(repeat(site, M + 1), K, ys);
    let s = 0;
    for (let i = 0; i <= M; i++) s += Math.exp(lp[i]!) * (i === 0 || i === M ? 1 : i % 2 ? 4 : 2);
    const integral = (s * h) / 3;
    assert.ok(Math.abs(integral - 1) < 1e-9, `K = ${K}: ∫ q = ${integral}`);
  }
});

test("Gaussian mixture sampling: mean, variance and a binned χ² match the density; ln q is returned exactly", () => {
  const mu = [-2, 0.5, 3], rho = [-0.5, 0, 0.3], a = [0.2, -1, 0.5];
  const site = mixtureSite(mu, rho, a), K = 3, N = 40000;
  const z = a.reduce((s, v) => s + Math.exp(v), 0), pi = a.map((v) => Math.exp(v) / z), sd = rho.map((r) => Math.exp(logScale(r)));
  const mean = pi.reduce((s, p, k) => s + p * mu[k]!, 0);
  const second = pi.reduce((s, p, k) => s + p * (sd[k]! ** 2 + mu[k]! ** 2), 0), variance = second - mean ** 2;
  const mu4 = pi.reduce((s, p, k) => {
    const d = mu[k]! - mean;
    return s + p * (d ** 4 + 6 * d * d * sd[k]! ** 2 + 3 * sd[k]! ** 4);
  }, 0);
  const batch = repeat(site, N);
  const { field, logProb } = mixtureSample(batch, K, rngFor({ seed: 12 }));
  assert.ok(field instanceof Float32Array);
  assert.deepEqual(logProb, mixtureLogProb(batch, K, field));
  let m = 0;
  for (const y of field) m += y;
  m /= N;
  let v = 0;
  for (const y of field) v += (y - m) ** 2;
  v /= N - 1;
  assert.ok(Math.abs(m - mean) < 4 * Math.sqrt(variance / N), `sample mean ${m} vs ${mean}`);
  assert.ok(Math.abs(v - variance) < 4 * Math.sqrt((mu4 - variance ** 2) / N), `sample variance ${v} vs ${variance}`);
  // 24 equal-width bins over [−5, 6] plus the two tails, expected counts from the density (Simpson).
  const edges = [-Infinity, ...Array.from({ length: 25 }, (_, i) => -5 + (11 * i) / 24), Infinity];
  const mass = (lo: number, hi: number): number => {
    const L = Math.max(lo, -30), H = Math.min(hi, 30), M = 2000, h = (H - L) / M;
    const ys = Float64Array.from({ length: M + 1 }, (_, i) => L + i * h);
    const lp = mixtureLogProb(repeat(site, M + 1), K, ys);
    let s = 0;
    for (let i = 0; i <= M; i++) s += Math.exp(lp[i]!) * (i === 0 || i === M ? 1 : i % 2 ? 4 : 2);
    return (s * h) / 3;
  };
  let chi2 = 0;
  for (let b = 0; b + 1 < edges.length; b++) {
    const lo = edges[b]!, hi = edges[b + 1]!;
    const e = N * mass(lo, hi);
    const c = field.reduce((n, y) => n + (y >= lo && y < hi ? 1 : 0), 0);
    chi2 += (c - e) ** 2 / e;
  }
  // 26 bins → 25 dof; P(χ²_25 > 62) ≈ 5e-5.
  assert.ok(chi2 < 62, `χ² = ${chi2} for 25 degrees of freedom`);
});

test("Gaussian mixture NLL: gradient with respect to means, log-scales (near the clamp too) and logits", () => {
  const K = 3, S = 5, N = 2;
  const out = Float64Array.from({ length: N * 3 * K * S }, () => rng.normal());
  // Some raw log-scales near and beyond the soft clamp edges.
  out[K * S] = -7.5;
  out[(K + 1) * S + 1] = 6.8;
  out[3 * K * S + (K + 2) * S + 2] = -9;
  const field = Float64Array.from({ length: N * S }, () => 2 * rng.normal());
  const t = (): Tensor => ({ shape: [N, 3 * K, 1, S], data: out });
  const { loss, grad } = mixtureLoss(t(), K, field);
  const lp = mixtureLogProb(t(), K, field);
  assert.ok(Math.abs(loss + (lp[0]! + lp[1]!) / (N * S)) < 1e-12, "NLL is minus the mean log-density");
  const err = maxRelError(grad.data, numericGrad(() => mixtureLoss(t(), K, field).loss, out));
  assert.ok(err < 1e-6, `relative error ${err}`);
  // The clamp keeps ln σ inside its range and is the identity well inside it.
  assert.ok(logScale(-50) >= LOG_SCALE_MIN && logScale(50) <= LOG_SCALE_MAX);
  assert.ok(logScale(0.3) === 0.3 && logScale(-5.5) === -5.5);
});

test("headSample / headLogProb agree for both heads", () => {
  const logits: Tensor = { shape: [3, 1, 4, 4], data: Float64Array.from({ length: 48 }, () => rng.normal()) };
  const b = headSample({ type: "bernoulli" }, logits, rngFor({ seed: 1 }));
  assert.deepEqual(b.logProb, headLogProb({ type: "bernoulli" }, logits, b.sample));
  const mix: Tensor = { shape: [2, 6, 2, 2, 2], data: Float64Array.from({ length: 96 }, () => rng.normal()) };
  const g = headSample({ type: "gaussian-mixture", components: 2 }, mix, rngFor({ seed: 2 }));
  assert.equal(g.sample.length, 16);
  assert.deepEqual(g.logProb, headLogProb({ type: "gaussian-mixture", components: 2 }, mix, g.sample));
});

test("categorical: probabilities of the 3^4 configurations of a 2x2 output sum to 1; ln q of a draw is returned exactly; sampling frequencies match (chi-square)", () => {
  const q = 3;
  const l = Float64Array.from({ length: q * 4 }, () => 2 * rng.normal());
  const one: Tensor = { shape: [1, q, 2, 2], data: l };
  let total = 0;
  for (let k = 0; k < q ** 4; k++) {
    const s = [0, 1, 2, 3].map((i) => Math.floor(k / q ** i) % q);
    total += Math.exp(categoricalLogProb(one, q, s)[0]!);
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `sum ${total}`);
  const N = 30000;
  const { states, logProb } = categoricalSample(repeat(one, N), q, rngFor({ seed: 5 }));
  assert.deepEqual(logProb, categoricalLogProb(repeat(one, N), q, states));
  // Site 0: observed counts of each state against softmax of its logits (2 degrees of freedom).
  const p = [0, 1, 2].map((c) => Math.exp(l[c * 4]!));
  const z = p.reduce((a, b) => a + b, 0);
  const counts = [0, 0, 0];
  for (let b = 0; b < N; b++) counts[states[b * 4]!]!++;
  const chi2 = counts.reduce((a, c, k) => a + (c - (N * p[k]!) / z) ** 2 / ((N * p[k]!) / z), 0);
  assert.ok(chi2 < 18, `chi2 = ${chi2} for 2 degrees of freedom`);
  assert.throws(() => categoricalLogProb(one, q, [0, 1, 3, 0]), /states 0\.\.2/);
});

test("categorical cross-entropy: value and gradient (finite differences) with respect to the logits; stable for huge logits", () => {
  const q = 4;
  const l = Float64Array.from({ length: 2 * q * 6 }, () => 3 * rng.normal());
  const s = Float64Array.from({ length: 12 }, () => rng.below(q));
  const t = (): Tensor => ({ shape: [2, q, 2, 3], data: l });
  const { loss, grad } = categoricalLoss(t(), q, s);
  const lp = categoricalLogProb(t(), q, s);
  assert.ok(Math.abs(loss + (lp[0]! + lp[1]!) / 12) < 1e-12, "cross-entropy is minus the mean log-probability");
  assert.ok(maxRelError(grad.data, numericGrad(() => categoricalLoss(t(), q, s).loss, l)) < 1e-6);
  const big = categoricalLoss({ shape: [1, 2, 1, 1], data: Float64Array.from([900, -900]) }, 2, [1]);
  assert.ok(Math.abs(big.loss - 1800) < 1e-9 && big.grad.data.every(Number.isFinite));
});
