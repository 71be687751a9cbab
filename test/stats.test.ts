// Statistics against synthetic data with known answers: AR(1) series with exact τ_int, i.i.d. data, jackknife coverage
// for nonlinear functions, and reweighting of a Gaussian family whose free energy is known in closed form.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import {
  autocovarianceSums, binMeans, fft, realFft, binReplicas, deinterleave, jackknife, jackknifeError, jackknifeResample, jackknifeSamples,
  mean, uwerr, uwerrAnalysis, variance,
} from "../src/analysis/stats.js";
import {
  effectiveSampleSize, logSumExp, multiHistogram, multiHistogramJackknife, reweightEstimate, reweightMean, reweightWeights,
} from "../src/analysis/reweight.js";

/** AR(1): x_t = a x_{t−1} + √(1−a²) ε_t, stationary with unit variance, ρ(t) = a^t, τ_int = (1 + a) / (2(1 − a)). */
function ar1(n: number, a: number, seed: number, task = 0): Float64Array {
  const g = rngFor({ seed, task });
  const x = new Float64Array(n);
  x[0] = g.normal();
  const s = Math.sqrt(1 - a * a);
  for (let t = 1; t < n; t++) x[t] = a * x[t - 1]! + s * g.normal();
  return x;
}
const tauAR = (a: number): number => (1 + a) / (2 * (1 - a));

function normals(n: number, seed: number, task = 0, mu = 0, sigma = 1): Float64Array {
  const g = rngFor({ seed, task });
  return Float64Array.from({ length: n }, () => mu + sigma * g.normal());
}

test("uwerr recovers the exact tau_int and error of an AR(1) process", () => {
  const a = 0.9, n = 400000, tau = tauAR(a); // 9.5
  const est = uwerrAnalysis(ar1(n, a, 1));
  assert.ok(est.windowFound);
  assert.ok(Math.abs(est.tauInt - tau) < 3 * est.tauIntError, `tau ${est.tauInt} ± ${est.tauIntError} vs ${tau}`);
  assert.ok(Math.abs(est.tauInt - tau) / tau < 0.1, `tau ${est.tauInt} vs ${tau}`);
  // Wolff's δτ ≈ 2τ√((W + 1/2 − τ)/N): about 2% here.
  assert.ok(est.tauIntError > 0.005 * tau && est.tauIntError < 0.05 * tau, `tau error ${est.tauIntError}`);
  const exactErr = Math.sqrt((2 * tau) / n);
  assert.ok(Math.abs(est.error / exactErr - 1) < 0.1, `error ${est.error} vs ${exactErr}`);
  assert.ok(Math.abs(est.value) < 4 * exactErr);
  assert.ok(Math.abs(est.rho[1]! - a) < 0.01 && Math.abs(est.rho[10]! - a ** 10) < 0.03, `rho ${est.rho[1]}, ${est.rho[10]}`);
});

test("uwerr on independent data: tau_int = 1/2 and error = sigma/sqrt(N)", () => {
  const n = 100000, sigma = 3;
  const est = uwerrAnalysis(normals(n, 2, 0, 5, sigma));
  assert.ok(Math.abs(est.tauInt - 0.5) < 0.05, `${est.tauInt}`);
  // Once τ_int(W) drops to 1/2 the window must close, not wander on summing noise.
  assert.ok(est.window <= 5 && est.windowFound, `window ${est.window}`);
  assert.ok(Math.abs(est.error / (sigma / Math.sqrt(n)) - 1) < 0.05, `${est.error}`);
  assert.ok(Math.abs(est.value - 5) < 4 * est.error);
});

test("uwerr edge cases: constants, tiny and anticorrelated series, bad input", () => {
  assert.deepEqual(uwerr([3, 3, 3, 3]), { value: 3, error: 0, tauInt: 0.5, tauIntError: 0 });
  assert.deepEqual(uwerr(new Float64Array(10).fill(0.1)), { value: 0.1, error: 0, tauInt: 0.5, tauIntError: 0 });
  assert.deepEqual(uwerr([[2, 2], [2]]), { value: 2, error: 0, tauInt: 0.5, tauIntError: 0 });
  // W = 0 by hand: Γ(0) = 5/4, bias-corrected C_F = Γ(0)(1 + 1/N), error √(C_F/N) = 0.625.
  const hand = uwerr([1, 2, 3, 4], { S: 0 });
  assert.equal(hand.value, 2.5);
  assert.ok(Math.abs(hand.error - 0.625) < 1e-14 && hand.tauInt === 0.5, `${hand.error} ${hand.tauInt}`);
  // Default S on the same data, by hand: Γ(0) = 5/4, Γ(1) = (5/4)/3, the window closes at W = 1
  // (g(1) = e^{−1/τ} − τ/2 < 0 with τ = 1.5/ln 4), C_F/N = 25/48 is added to both, so C_F = 175/48.
  const w1 = uwerrAnalysis([1, 2, 3, 4]);
  assert.equal(w1.window, 1);
  assert.ok(Math.abs(w1.error - Math.sqrt(175 / 192)) < 1e-14 && Math.abs(w1.tauInt - 35 / 34) < 1e-14, JSON.stringify(w1));
  assert.ok(Math.abs(w1.tauIntError - 2 * (35 / 34) * Math.sqrt((1.5 - 35 / 34) / 4)) < 1e-14);
  for (const x of [[1, 2], [0, 1, 0], [1, -1, 1, -1, 1, -1, 1, -1], [[1], [2]], [[5, 1, 5], [2]]]) {
    const e = uwerr(x);
    assert.ok([e.value, e.error, e.tauInt, e.tauIntError!].every(Number.isFinite) && e.error > 0, JSON.stringify(e));
  }
  assert.throws(() => uwerr([1]), (e: unknown) => e instanceof RangeError && /at least 2/.test(e.message));
  assert.throws(() => uwerr([]), RangeError);
  assert.throws(() => uwerr([[1], []]), RangeError);
  assert.throws(() => uwerr([1, NaN, 2]), RangeError);
});

test("FFT and direct sums of the autocorrelation agree; products never cross replicas", () => {
  // Real FFT against the complex one, and the complex one against the DFT definition.
  const sig = normals(64, 3, 9);
  const re = sig.slice(), im = new Float64Array(64);
  fft(re, im);
  const X = realFft(sig);
  for (let k = 0; k <= 32; k++) assert.ok(Math.abs(X.re[k]! - re[k]!) < 1e-12 && Math.abs(X.im[k]! - im[k]!) < 1e-12, `bin ${k}`);
  for (const k of [0, 5, 32, 63]) {
    let dr = 0, di = 0;
    sig.forEach((v, j) => {
      dr += v * Math.cos((2 * Math.PI * j * k) / 64);
      di -= v * Math.sin((2 * Math.PI * j * k) / 64);
    });
    assert.ok(Math.abs(dr - re[k]!) < 1e-12 && Math.abs(di - im[k]!) < 1e-12, `DFT bin ${k}`);
  }
  // Deviations [1, −1] twice: S(1) = −1 − 1, no −1·1 term across the replica boundary.
  assert.deepEqual(Array.from(autocovarianceSums([Float64Array.of(1, -1), Float64Array.of(1, -1)], 1, "direct")), [4, -2]);
  const fftTiny = autocovarianceSums([Float64Array.of(1, -1), Float64Array.of(1, -1)], 1, "fft");
  assert.ok(Math.abs(fftTiny[0]! - 4) < 1e-12 && Math.abs(fftTiny[1]! + 2) < 1e-12, `${fftTiny}`);
  const reps = [1000, 777, 1500].map((n, k) => normals(n, 3, k));
  const direct = autocovarianceSums(reps, 300, "direct"), viaFft = autocovarianceSums(reps, 300, "fft");
  for (let t = 0; t <= 300; t++) assert.ok(Math.abs(direct[t]! - viaFft[t]!) < 1e-10 * direct[0]!, `lag ${t}`);
  const x = ar1(50000, 0.95, 4);
  const d = uwerr(x, { gammaMethod: "direct" }), f = uwerr(x, { gammaMethod: "fft" });
  assert.ok(Math.abs(d.tauInt - f.tauInt) < 1e-9 && Math.abs(d.error / f.error - 1) < 1e-9);
});

test("uwerr with a long autocorrelation time (FFT path): a = 0.99, tau_int = 99.5", () => {
  const a = 0.99, n = 1000000, tau = tauAR(a);
  const t0 = performance.now();
  const est = uwerr(ar1(n, a, 5));
  assert.ok(Math.abs(est.tauInt - tau) < 3 * est.tauIntError! && Math.abs(est.tauInt / tau - 1) < 0.2, `tau ${est.tauInt} ± ${est.tauIntError}`);
  assert.ok(Math.abs(est.error / Math.sqrt((2 * tau) / n) - 1) < 0.15);
  assert.ok(performance.now() - t0 < 5000, "Γ(t) up to the window must not cost O(N·W) with W ~ 600");
});

test("uwerr with replicas of different lengths matches the exact error of the pooled mean", () => {
  const a = 0.8, tau = tauAR(a); // 4.5
  const lens = [30000, 50000, 70000, 50000];
  const reps = lens.map((n, k) => ar1(n, a, 10, k));
  const est = uwerrAnalysis(reps);
  const N = lens.reduce((s, n) => s + n, 0);
  assert.ok(Math.abs(est.tauInt / tau - 1) < 0.1, `${est.tauInt} vs ${tau}`);
  assert.ok(Math.abs(est.error / Math.sqrt((2 * tau) / N) - 1) < 0.1, `${est.error}`);
  assert.ok(est.replicaQ! > 0.001, `Q ${est.replicaQ}`);
  // Splitting one series into pieces changes only the three boundary pairs.
  const one = ar1(200000, a, 11);
  const whole = uwerr(one);
  const split = uwerr([0, 1, 2, 3].map((k) => one.subarray(k * 50000, (k + 1) * 50000)));
  assert.ok(Math.abs(split.tauInt / whole.tauInt - 1) < 0.02 && Math.abs(split.error / whole.error - 1) < 0.02);
  assert.equal(split.value, whole.value);
  // Replicas that disagree (a shifted mean) are flagged by Wolff's Q-value.
  const bad = uwerrAnalysis([ar1(20000, a, 12), ar1(20000, a, 13).map((v) => v + 1)]);
  assert.ok(bad.replicaQ! < 1e-6, `Q ${bad.replicaQ}`);
});

test("jackknife of a ratio matches the delta method and covers the truth 68% of the time", () => {
  // f = <x>/<y>, x ~ N(2, 1), y ~ N(4, 1) independent: σ_f² = (1/16 + 4/256)/N to leading order.
  const trials = 200, n = 2000;
  const delta = Math.sqrt((1 / 16 + 4 / 256) / n);
  let covered = 0, errSum = 0;
  for (let k = 0; k < trials; k++) {
    const x = normals(n, 100, 2 * k, 2), y = normals(n, 100, 2 * k + 1, 4);
    const est = jackknife([x, y], ([mx, my]) => mx! / my!);
    errSum += est.error;
    if (Math.abs(est.value - 0.5) < est.error) covered++;
    if (k < 5) assert.ok(Math.abs(est.tauInt - 0.5) < 0.1, `derived tau ${est.tauInt}`);
  }
  assert.ok(Math.abs(errSum / trials / delta - 1) < 0.1, `mean jackknife error ${errSum / trials} vs ${delta}`);
  assert.ok(covered / trials > 0.55 && covered / trials < 0.8, `coverage ${covered / trials}`);
});

test("jackknife of a derived quantity on correlated data: exact error and the linearised tau_int", () => {
  // Var x = <x²> − <x>² = 1 for a Gaussian AR(1); its linearisation is ≈ x², with ρ(t) = a^{2t}, so
  // τ_int = (1 + a²)/(2(1 − a²)) and error² = 2 τ_int Var(x²)/N, Var(x²) = 2.
  const a = 0.9, n = 200000;
  const x = ar1(n, a, 20);
  const sq = x.map((v) => v * v);
  const tau2 = (1 + a * a) / (2 * (1 - a * a));
  const exactErr = Math.sqrt((2 * tau2 * 2) / n);
  const est = jackknife([x, sq], ([m, m2]) => m2! - m! * m!);
  assert.ok(Math.abs(est.value - 1) < 4 * exactErr, `${est.value}`);
  assert.ok(Math.abs(est.error / exactErr - 1) < 0.1, `error ${est.error} vs ${exactErr}`);
  assert.ok(Math.abs(est.tauInt / tau2 - 1) < 0.1, `derived tau ${est.tauInt} vs ${tau2}`);
  const naive = jackknife([x, sq], ([m, m2]) => m2! - m! * m!, { binSize: 1 });
  assert.ok(est.error > 2.5 * naive.error, "binning must enlarge the error of correlated data");
  // The interleaved ensemble layout gives what explicit replicas give.
  const chains = [0, 1, 2].map((k) => ar1(3000, a, 21, k));
  const rows = Float64Array.from({ length: 9000 }, (_, i) => chains[i % 3]![Math.floor(i / 3)]!);
  assert.deepEqual(deinterleave(rows, 3), chains);
  const viaChains = jackknife([rows, rows.map((v) => v * v)], ([m, m2]) => m2! - m! * m!, { chains: 3 });
  assert.deepEqual(viaChains, jackknife([chains, chains.map((c) => c.map((v) => v * v))], ([m, m2]) => m2! - m! * m!));
});

test("binning and jackknife helpers on hand-checked cases", () => {
  assert.deepEqual(Array.from(binMeans([1, 2, 3, 4, 5], 2)), [1.5, 3.5]);
  // Bins never straddle replicas; a remainder joins its replica's last bin.
  const b = binReplicas([[[1, 2, 3], [10, 20, 30, 40, 50]]], 2);
  assert.deepEqual(Array.from(b.sizes), [3, 2, 3]);
  assert.deepEqual(Array.from(b.sums[0]!), [6, 30, 120]);
  assert.throws(() => binReplicas([[[1, 2, 3]], [[1, 2]]], 1), RangeError);
  assert.deepEqual(Array.from(jackknifeSamples([1, 2, 3, 4])), [3, 8 / 3, 7 / 3, 2]);
  assert.deepEqual(Array.from(jackknifeSamples([6, 30, 120], [3, 2, 3])), [150 / 5, 126 / 6, 36 / 5]);
  // For the mean the jackknife error is exactly s/√B, and the bias-corrected <x>² is x̄² − s²/n.
  const v = normals(50, 30);
  assert.ok(Math.abs(jackknifeError(jackknifeSamples(v)) - Math.sqrt(variance(v) / 50)) < 1e-14);
  assert.ok(jackknifeError([1, 3], 0) > jackknifeError([1, 3]));
  const sq = jackknife([v], ([m]) => m! * m!, { binSize: 1, biasCorrected: true });
  assert.ok(Math.abs(sq.value - (mean(v) ** 2 - variance(v) / 50)) < 1e-12, `${sq.value}`);
  const rs = jackknifeResample([v, v.map((t) => 2 * t)], { binSize: 5 });
  assert.equal(rs.samples.length, 10);
  assert.ok(Math.abs(rs.full[1]! - 2 * mean(v)) < 1e-12 && Math.abs(rs.samples[3]![1]! - 2 * rs.samples[3]![0]!) < 1e-12);
  assert.throws(() => jackknife([[1, 2, 3]], ([m]) => m!, { binSize: 3 }), RangeError);
});

test("single-histogram reweighting of a Gaussian family is exact; large exponents stay finite", () => {
  // At coupling c the density ∝ e^{−c x} N(x; 0, s²) is N(−c s², s²): reweighting c0 → c1 moves the mean to −c1 s².
  const s2 = 2, c0 = 0.2, c1 = 0.5, n = 200000;
  const x = normals(n, 40, 0, -c0 * s2, Math.sqrt(s2));
  const est = reweightEstimate(x, x, c0, c1);
  assert.ok(Math.abs(est.value + c1 * s2) < 3 * est.error, `${est.value} ± ${est.error} vs ${-c1 * s2}`);
  assert.ok(est.error > 0 && est.error < 0.02 && est.tauInt < 1, `${est.error} ${est.tauInt}`);
  assert.ok(Math.abs(reweightMean(x, x, c0, c1) - est.value) < 1e-10);
  const x2 = x.map((v) => v * v);
  const m2 = reweightEstimate(x2, x, c0, c1);
  assert.ok(Math.abs(m2.value - (s2 + (c1 * s2) ** 2)) < 3 * m2.error, `${m2.value} ± ${m2.error}`);
  // Shifting x by 10^7 multiplies every weight by e^{−3·10^6}: nothing may change.
  const far = x.map((v) => v + 1e7);
  assert.ok(Math.abs(reweightMean(x, far, c0, c1) - est.value) < 1e-9);
  assert.ok(Math.abs(reweightEstimate(x, far, c0, c1).value - est.value) < 1e-9);
  const w = reweightWeights([1e6, 1e6 + 1, 2e6]);
  assert.ok(Math.abs(w[0]! - Math.E / (1 + Math.E)) < 1e-15 && Math.abs(w[1]! - 1 / (1 + Math.E)) < 1e-15 && w[2] === 0);
  assert.ok(Math.abs(effectiveSampleSize(w) - 1 / (w[0]! ** 2 + w[1]! ** 2)) < 1e-12);
  assert.equal(logSumExp([1e6, 1e6]), 1e6 + Math.LN2);
  assert.equal(logSumExp([-1e6, -1e6 - 1000]), -1e6 + Math.log1p(Math.exp(-1000)));
  assert.equal(logSumExp([]), -Infinity);
});

test("multiple-histogram reweighting recovers exact free energies and means within jackknife errors", () => {
  // Same family with s² = 1: Z(c) = e^{c²/2}, so f(c) = −ln Z(c)/Z(0) = −c²/2 and <x>_c = −c.
  const cs = [0, 0.5, 1];
  const runs = cs.map((c, k) => ({ coupling: c, x: normals(20000, 50, k, -c) }));
  const jk = multiHistogramJackknife(runs);
  assert.ok(jk.full.converged && jk.samples.every((s) => s.converged));
  cs.forEach((c, k) => {
    const fk = jk.estimate((mh) => mh.f[k]!);
    if (k > 0) assert.ok(fk.error > 1e-3 && fk.error < 0.05, `error of f_${k}: ${fk.error}`);
    assert.ok(Math.abs(fk.value + (c * c) / 2) <= 3 * fk.error, `f_${k} = ${fk.value} ± ${fk.error} vs ${-(c * c) / 2}`);
    assert.ok(Math.abs(jk.full.freeEnergy(c) - jk.full.f[k]!) < 1e-8);
  });
  const all = Float64Array.from(runs.flatMap((r) => Array.from(r.x)));
  const m = jk.estimate((mh) => mh.mean(all, 0.75));
  assert.ok(Math.abs(m.value + 0.75) < 3 * m.error && m.error < 0.02, `${m.value} ± ${m.error}`);
  const f75 = jk.estimate((mh) => mh.freeEnergy(0.75));
  assert.ok(Math.abs(f75.value + 0.28125) < 3 * f75.error, `${f75.value} ± ${f75.error}`);
  const lw = jk.full.logWeights(0.75);
  assert.ok(Math.abs(logSumExp(lw)) < 1e-12);
});

test("multiple histogram: tau_int weights stay consistent, one run is single-histogram reweighting, poor overlap converges", () => {
  // Declared inefficiencies change the weights of the runs but, with the sample weights 1/g_k in the
  // numerator, not the answer; without them f_1 would be off by 0.06 (10 errors) here.
  const cs = [0, 1, 2];
  const runs = cs.map((c, k) => ({ coupling: c, x: normals(20000, 60, k, -c), tauInt: [0.5, 5, 0.5][k]! }));
  const jk = multiHistogramJackknife(runs, { groups: 10 });
  cs.forEach((c, k) => {
    const fk = jk.estimate((mh) => mh.f[k]!);
    assert.ok(Math.abs(fk.value + (c * c) / 2) <= 3 * fk.error + 1e-12, `f_${k} = ${fk.value} ± ${fk.error}`);
  });
  assert.equal(jk.estimate((mh) => mh.f[1]!).tauInt, 5);
  const x = runs[0]!.x, obs = x.map((v) => v * v);
  const single = multiHistogram([{ coupling: 0.1, x }]);
  assert.ok(Math.abs(single.mean(obs, 0.4) - reweightMean(obs, x, 0.1, 0.4)) < 1e-12);
  // Neighbouring histograms 3σ apart: plain iteration would crawl, Newton steps finish the job.
  const far = [0, 3, 6].map((c, k) => ({ coupling: c, x: normals(5000, 61, k, -c) }));
  const mh = multiHistogram(far);
  assert.ok(mh.converged && mh.iterations < 100, `${mh.iterations} iterations`);
  assert.ok(Math.abs(mh.f[2]! + 18) < 0.5 && Math.abs(mh.f[1]! + 4.5) < 0.3, `${Array.from(mh.f)}`);
  assert.throws(() => multiHistogram([]), RangeError);
});
