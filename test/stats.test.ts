// Statistics against synthetic data with known answers: AR(1) series with exact τ_int, i.i.d. data,
// jackknife coverage for a nonlinear function, and reweighting of Gaussian families solved exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { binMeans, jackknife, uwerr } from "../src/analysis/stats.js";
import { logSumExp, multiHistogram, reweightMean } from "../src/analysis/reweight.js";

/** AR(1): x_t = a x_{t−1} + √(1−a²) ε_t, unit variance, τ_int = (1 + a) / (2(1 − a)). */
function ar1(n: number, a: number, seed: number): Float64Array {
  const g = rngFor({ seed });
  const x = new Float64Array(n);
  x[0] = g.normal();
  const s = Math.sqrt(1 - a * a);
  for (let t = 1; t < n; t++) x[t] = a * x[t - 1]! + s * g.normal();
  return x;
}

test("uwerr recovers the exact tau_int and error of an AR(1) process", () => {
  const a = 0.9, n = 400000;
  const tau = (1 + a) / (2 * (1 - a)); // 9.5
  const est = uwerr(ar1(n, a, 1));
  assert.ok(Math.abs(est.tauInt - tau) < 3 * est.tauIntError, `tau ${est.tauInt} ± ${est.tauIntError} vs ${tau}`);
  assert.ok(Math.abs(est.tauInt - tau) / tau < 0.1);
  const exactErr = Math.sqrt((2 * tau) / n);
  assert.ok(Math.abs(est.error / exactErr - 1) < 0.1, `error ${est.error} vs ${exactErr}`);
  assert.ok(Math.abs(est.value) < 4 * exactErr);
});

test("uwerr on independent data: tau_int = 1/2, error = sigma/sqrt(N); constants give zero error", () => {
  const g = rngFor({ seed: 2 });
  const n = 100000;
  const x = Float64Array.from({ length: n }, () => g.normal());
  const est = uwerr(x);
  assert.ok(Math.abs(est.tauInt - 0.5) < 0.05, `${est.tauInt}`);
  assert.ok(Math.abs(est.error * Math.sqrt(n) - 1) < 0.05);
  assert.deepEqual(uwerr([3, 3, 3, 3]), { value: 3, error: 0, tauInt: 0.5, tauIntError: 0 });
  assert.throws(() => uwerr([1]), /at least 2/);
});

test("uwerr with replicas agrees with the exact error of the pooled mean", () => {
  const a = 0.8, tau = (1 + a) / (2 * (1 - a));
  const reps = [0, 1, 2, 3].map((k) => ar1(50000, a, 10 + k));
  const est = uwerr(reps);
  assert.ok(Math.abs(est.tauInt - tau) / tau < 0.12, `${est.tauInt} vs ${tau}`);
  assert.ok(Math.abs(est.error / Math.sqrt((2 * tau) / 200000) - 1) < 0.12);
});

test("jackknife error of a nonlinear function matches the delta method and covers the truth 68% of the time", () => {
  // f = <x>/<y> with x ~ N(2, 1), y ~ N(4, 1) independent: σ_f² ≈ (1/16 + 4/256)/N.
  let covered = 0;
  const trials = 200, n = 2000;
  const delta = Math.sqrt((1 / 16 + 4 / 256) / n);
  let errSum = 0;
  for (let k = 0; k < trials; k++) {
    const g = rngFor({ seed: 100, task: k });
    const x = Float64Array.from({ length: n }, () => 2 + g.normal());
    const y = Float64Array.from({ length: n }, () => 4 + g.normal());
    const est = jackknife([x, y], ([mx, my]) => mx! / my!, { binSize: 20 });
    errSum += est.error;
    if (Math.abs(est.value - 0.5) < est.error) covered++;
    if (k === 0) assert.ok(Math.abs(est.tauInt - 0.5) < 0.1, `derived tau ${est.tauInt}`);
  }
  assert.ok(Math.abs(errSum / trials / delta - 1) < 0.1, `mean jackknife error ${errSum / trials} vs ${delta}`);
  assert.ok(covered / trials > 0.58 && covered / trials < 0.78, `coverage ${covered / trials}`);
});

test("jackknife of a derived quantity on correlated data sees the autocorrelation", () => {
  const x = ar1(200000, 0.9, 3);
  const sq = x.map((v) => v * v);
  // Var(x) = <x²> − <x>² = 1 exactly; its error needs binning over τ.
  const est = jackknife([x, sq], ([m, m2]) => m2! - m! * m!);
  assert.ok(Math.abs(est.value - 1) < 4 * est.error, `${est.value} ± ${est.error}`);
  const naive = jackknife([x, sq], ([m, m2]) => m2! - m! * m!, { binSize: 1 });
  assert.ok(est.error > 2 * naive.error, "binning must enlarge the error of correlated data");
  assert.ok(est.tauInt > 3, `${est.tauInt}`);
  assert.deepEqual(Array.from(binMeans([1, 2, 3, 4, 5], 2)), [1.5, 3.5]);
});

test("single-histogram reweighting of a Gaussian family is exact; log-sum-exp survives 1e6 exponents", () => {
  // Under coupling c the density is ∝ e^{−c x} N(x; 0, 1) = N(x; −c, 1): reweighting c0 → c1 shifts the mean by −(c1 − c0).
  const g = rngFor({ seed: 5 });
  const n = 200000;
  const c0 = 0.2, c1 = 0.5;
  const x = Float64Array.from({ length: n }, () => -c0 + g.normal());
  const m = reweightMean(x, x, c0, c1);
  assert.ok(Math.abs(m - -c1) < 0.02, `${m}`);
  assert.equal(logSumExp([1e6, 1e6]), 1e6 + Math.LN2);
  assert.ok(Number.isFinite(reweightMean([1, 2], [-1e6, 1e6], 0, 1e-3)));
});

test("multiple-histogram reweighting recovers exact free-energy differences and means", () => {
  // Same family: Z(c) = e^{c²/2}, so f_k − f_0 = −(c_k² − c_0²)/2.
  const cs = [0, 0.5, 1];
  const runs = cs.map((c, k) => {
    const g = rngFor({ seed: 6, task: k });
    return { coupling: c, x: Float64Array.from({ length: 50000 }, () => -c + g.normal()) };
  });
  const mh = multiHistogram(runs);
  cs.forEach((c, k) => assert.ok(Math.abs(mh.f[k]! + (c * c) / 2) < 0.02, `f_${k} = ${mh.f[k]} vs ${-(c * c) / 2}`));
  const all = Float64Array.from(runs.flatMap((r) => Array.from(r.x)));
  assert.ok(Math.abs(mh.mean(all, 0.75) + 0.75) < 0.02);
});
