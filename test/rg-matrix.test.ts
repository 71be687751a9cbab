// Swendsen's linearised RG matrix (src/analysis/rg-matrix.ts): the small linear algebra, the exact
// answer of the decimated 1D Ising chain (dK'/dK = tanh 2K, dh'/dh = 1 + tanh 2K), the jackknife error
// against the spread of independent runs, the block operators, and ν, y_h of the 2D Ising model at β_c.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mcrg, type RgMeasurements, rgMatrix, rgSectorAnalysis } from "../src/analysis/rg-matrix.js";
import { eigenvalues, leadingEigenvalue, solve } from "../src/analysis/linalg.js";
import { compileOperators, measureOperators, rgOperator } from "../src/analysis/rg-operators.js";
import { lattice } from "../src/lattice/geometry.js";
import { type Rng, rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, isingEnergy, magnetization, randomSpins } from "../src/models/ising.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";

/** M = P·diag(d)·P⁻¹ for a fixed well-conditioned P. */
function withSpectrum(blocks: number[][][]): number[][] {
  // Block-diagonal D (1×1 real eigenvalues or 2×2 rotation-scaling blocks), then a similarity transform.
  const n = blocks.reduce((a, b) => a + b.length, 0);
  const D = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let o = 0;
  for (const b of blocks) {
    b.forEach((row, i) => row.forEach((v, j) => (D[o + i]![o + j] = v)));
    o += b.length;
  }
  const P = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 : 0) + Math.sin(1 + 3 * i + 7 * j) * 0.5));
  const PD = P.map((row) => D[0]!.map((_, j) => row.reduce((a, v, k) => a + v * D[k]![j]!, 0)));
  // M P = P D  ⇔  Pᵀ Mᵀ = (P D)ᵀ.
  const tr = (A: number[][]): number[][] => A[0]!.map((_, j) => A.map((r) => r[j]!));
  return tr(solve(tr(P), tr(PD)));
}

test("linear algebra: solve and eigenvalues of nonsymmetric matrices with known spectra (real and complex)", () => {
  const M = [[4, 1, 2], [1, 3, 0], [2, 0.5, 5]];
  const X = solve(M, [[1, 0], [0, 1], [2, -1]]);
  for (let c = 0; c < 2; c++) {
    const r = M.map((row, i) => row.reduce((a, v, k) => a + v * X[k]![c]!, 0) - [[1, 0], [0, 1], [2, -1]][i]![c]!);
    assert.ok(r.every((v) => Math.abs(v) < 1e-12));
  }
  assert.throws(() => solve([[1, 2], [2, 4]], [[1], [1]]), /singular/);
  const real = [2.5, 1.2, -0.8, 0.3, 0.05, 0.001];
  const ev = eigenvalues(withSpectrum(real.map((v) => [[v]])));
  assert.deepEqual(ev.map((e) => e.im), new Array(6).fill(0));
  ev.forEach((e, k) => assert.ok(Math.abs(e.re - real[k]!) < 1e-10, `${e.re} vs ${real[k]}`));
  // A complex pair 1.5 e^{±0.7i} next to real 1.9 and 0.4: sorted by modulus.
  const c = Math.cos(0.7) * 1.5, s = Math.sin(0.7) * 1.5;
  const mixed = eigenvalues(withSpectrum([[[c, -s], [s, c]], [[1.9]], [[0.4]]]));
  assert.ok(Math.abs(mixed[0]!.re - 1.9) < 1e-10 && mixed[0]!.im === 0);
  assert.ok(Math.abs(mixed[1]!.re - c) < 1e-10 && Math.abs(mixed[1]!.im - s) < 1e-10);
  assert.ok(Math.abs(mixed[2]!.re - c) < 1e-10 && Math.abs(mixed[2]!.im + s) < 1e-10);
  assert.ok(Math.abs(mixed[3]!.re - 0.4) < 1e-10);
  assert.equal(leadingEigenvalue([[0.5, 2], [0, -3]]).re, -3);
  assert.deepEqual(eigenvalues([[0, 1], [-1, 0]]).map((e) => [e.re, Math.abs(e.im)]), [[0, 1], [0, 1]]);
});

/**
 * An exact sample of the periodic Ising chain of n sites at coupling K: the bonds b_i = s_i s_{i+1} are
 * independent with P(b = +1) = e^K / (2 cosh K) on the open chain; on the ring they must multiply to +1,
 * so draws with an odd number of broken bonds are rejected (acceptance (1 + tanh^n K)/2 ≥ ½).
 */
function ringSample(n: number, K: number, rng: Rng, out: Int8Array): void {
  const p = 1 / (1 + Math.exp(-2 * K));
  for (;;) {
    let v = rng.u32() & 1 ? 1 : -1, prod = 1;
    for (let i = 0; i < n; i++) {
      out[i] = v;
      const b = rng.float() < p ? 1 : -1;
      if (i < n - 1) v *= b;
      prod *= b;
    }
    if (prod === 1) return;
  }
}

/** Ring operators [Σ s_i s_{i+1}, Σ s_i s_{i+2}] (even) and [Σ s_i, Σ s_{i−1} s_i s_{i+1}] (odd). */
function ringOps(s: Int8Array): { even: number[]; odd: number[] } {
  const n = s.length;
  let nn = 0, nnn = 0, m = 0, three = 0;
  for (let i = 0; i < n; i++) {
    const a = s[i]!, b = s[(i + 1) % n]!, c = s[(i + 2) % n]!;
    nn += a * b;
    nnn += a * c;
    m += a;
    three += a * b * c;
  }
  return { even: [nn, nnn], odd: [m, three] };
}

/** Decimated chain (keep the even sites): exactly the ring of n/2 sites at tanh K' = tanh² K. */
function ringMeasurements(n: number, K: number, samples: number, rng: Rng): { even: RgMeasurements; odd: RgMeasurements } {
  const s = new Int8Array(n), d = new Int8Array(n / 2);
  const even: RgMeasurements = { fine: [], coarse: [] };
  const odd: RgMeasurements = { fine: [], coarse: [] };
  for (let k = 0; k < samples; k++) {
    ringSample(n, K, rng, s);
    for (let j = 0; j < n / 2; j++) d[j] = s[2 * j]!;
    const f = ringOps(s), c = ringOps(d);
    (even.fine as number[][]).push(f.even);
    (even.coarse as number[][]).push(c.even);
    (odd.fine as number[][]).push(f.odd);
    (odd.coarse as number[][]).push(c.odd);
  }
  return { even, odd };
}

test("1D Ising chain, decimation b = 2: λ = dK'/dK = tanh 2K and λ_h = dh'/dh = 1 + tanh 2K, exactly", (t) => {
  // tanh K' = tanh² K ⇒ (1 − tanh⁴K) dK' = 2 tanh K (1 − tanh²K) dK ⇒ dK'/dK = 2t/(1 + t²) = tanh 2K.
  // A field h on the fine ring: summing a decimated spin between a and b gives ln 2cosh(K(a+b) + h)
  // = const + K' ab + h (a + b) tanh(2K)/2 + O(h²), so every kept spin gets h' = h (1 + tanh 2K).
  // Both are exact on the finite ring (the decimated ring has exactly these couplings), so Swendsen's
  // T must reproduce them within statistical errors. Adding a second operator (nnn, resp. the
  // 3-spin product) leaves the first column of T exact: T[0][0] as above and T[1][0] = 0.
  for (const K of [0.3, 0.6]) {
    const rng = rngFor({ seed: 71, task: Math.round(K * 10) });
    const { even, odd } = ringMeasurements(16, K, 100000, rng);
    const lt = Math.tanh(2 * K), lh = 1 + Math.tanh(2 * K);
    const ev = rgSectorAnalysis(even, { b: 2, groups: 20, names: ["nn", "nnn"] });
    const od = rgSectorAnalysis(odd, { b: 2, groups: 20, names: ["m", "s3"] });
    const e1 = ev.truncations[0]!.lambda, h1 = od.truncations[0]!.lambda;
    t.diagnostic(`K = ${K}: λ_even = ${e1.value.toFixed(4)} ± ${e1.error.toFixed(4)} (exact ${lt.toFixed(4)}), λ_odd = ${h1.value.toFixed(4)} ± ${h1.error.toFixed(4)} (exact ${lh.toFixed(4)}); 2-operator T_even = [${ev.T.map((r) => r.map((v) => v.toFixed(3)).join(" ")).join("; ")}]`);
    assert.ok(Math.abs(e1.value - lt) < 4 * e1.error, `even: ${e1.value} ± ${e1.error} vs ${lt}`);
    assert.ok(Math.abs(h1.value - lh) < 4 * h1.error, `odd: ${h1.value} ± ${h1.error} vs ${lh}`);
    // Power: errors small enough to tell the exact value from one 4% off.
    assert.ok(4 * e1.error < 0.04 * lt && 4 * h1.error < 0.04 * lh, "errors too large to test anything");
    for (const [sec, exact] of [[ev, lt], [od, lh]] as const) {
      assert.ok(Math.abs(sec.T[0]![0]! - exact) < 4 * sec.Terror[0]![0]!, `${sec.names}: T00 = ${sec.T[0]![0]} ± ${sec.Terror[0]![0]}`);
      // T[1][0] = ∂K'_2/∂K_1 = 0 (index convention: row = coarse coupling, column = fine coupling).
      assert.ok(Math.abs(sec.T[1]![0]!) < 4 * sec.Terror[1]![0]!, `${sec.names}: T10 = ${sec.T[1]![0]} ± ${sec.Terror[1]![0]}`);
    }
    // The even 2×2 T is not triangular the other way: a fine nnn bond between kept sites is a coarse nn bond.
    assert.ok(ev.T[0]![1]! > 0.5, `T01 = ${ev.T[0]![1]}`);
    // rgMatrix on all data agrees with the sector analysis.
    const direct = rgMatrix(even, [0]).T[0]![0]!;
    assert.ok(Math.abs(direct - e1.value) < 1e-9, `rgMatrix ${direct} vs ${e1.value}`);
  }
});

test("the jackknife error of λ matches the spread of independent runs", () => {
  const runs = 16, K = 0.5, exact = Math.tanh(1);
  const lam: number[] = [], err: number[] = [];
  for (let r = 0; r < runs; r++) {
    const { even } = ringMeasurements(32, K, 1500, rngFor({ seed: 72, replica: r }));
    const a = rgSectorAnalysis({ fine: even.fine.map((v) => [v[0]!]), coarse: even.coarse.map((v) => [v[0]!]) }, { b: 2, groups: 15 });
    lam.push(a.truncations[0]!.lambda.value);
    err.push(a.truncations[0]!.lambda.error);
  }
  const mean = lam.reduce((a, v) => a + v, 0) / runs;
  const sd = Math.sqrt(lam.reduce((a, v) => a + (v - mean) ** 2, 0) / (runs - 1));
  const meanErr = err.reduce((a, v) => a + v, 0) / runs;
  assert.ok(meanErr / sd > 0.6 && meanErr / sd < 1.6, `jackknife error ${meanErr} vs spread ${sd}`);
  assert.ok(Math.abs(mean - exact) < 4 * sd / Math.sqrt(runs), `mean ${mean} vs ${exact}`);
});

test("block operators: nn = −H, m = M, and brute-force sums of the others in 2D and 3D", () => {
  const rng = rngFor({ seed: 73 });
  for (const [dim, L] of [[2, 6], [3, 4]] as const) {
    const lat = lattice(dim, L);
    const s = randomSpins(lat.V, rng);
    const names = dim === 2
      ? (["nn", "nnn", "axis2", "plaquette", "m", "triangle", "line3"] as const)
      : (["nn", "nnn", "axis2", "plaquette", "body", "m", "triangle", "line3"] as const);
    const ops = names.map((n) => rgOperator(dim, n));
    const v = measureOperators(lat, s, compileOperators(lat, ops));
    const at = (c: number[]): number => s[c.reduce((a, x, d) => a + (((x % L) + L) % L) * L ** d, 0)]!;
    const sites = Array.from({ length: lat.V }, (_, i) => Array.from({ length: dim }, (_, d) => Math.floor(i / L ** d) % L));
    const e = (d: number): number[] => Array.from({ length: dim }, (_, k) => (k === d ? 1 : 0));
    const plus = (...vs: number[][]): number[] => vs.reduce((a, b) => a.map((x, k) => x + b[k]!));
    const scale = (p: number[], k: number): number[] => p.map((x) => x * k);
    let nnn = 0, axis2 = 0, plaq = 0, body = 0, tri = 0, line = 0;
    for (const x of sites) {
      for (let mu = 0; mu < dim; mu++) {
        axis2 += at(x) * at(plus(x, scale(e(mu), 2)));
        line += at(plus(x, scale(e(mu), -1))) * at(x) * at(plus(x, e(mu)));
        for (let nu = mu + 1; nu < dim; nu++) {
          nnn += at(x) * at(plus(x, e(mu), e(nu))) + at(x) * at(plus(x, e(mu), scale(e(nu), -1)));
          const c = [x, plus(x, e(mu)), plus(x, e(nu)), plus(x, e(mu), e(nu))].map(at);
          plaq += c[0]! * c[1]! * c[2]! * c[3]!;
          for (let skip = 0; skip < 4; skip++) tri += c.reduce((a, q, k) => (k === skip ? a : a * q), 1);
        }
      }
      if (dim === 3) for (const sy of [1, -1]) for (const sz of [1, -1]) body += at(x) * at(plus(x, [1, sy, sz]));
    }
    const want: Record<string, number> = { nn: -isingEnergy(lat, s), nnn, axis2, plaquette: plaq, body, m: magnetization(s), triangle: tri, line3: line };
    names.forEach((n, k) => assert.equal(v[k], want[n], `${dim}D ${n}`));
  }
  assert.throws(() => rgOperator(2, "body"), /3D/);
});

test("2D Ising at beta_c, majority rule 32 -> 16 -> 8: nu within 0.15 of 1 and y_h within 0.05 of 15/8", (t) => {
  const L = 32;
  const lat = lattice(2, L);
  const smp = makeIsingSampler({ algorithm: "wolff", lat, beta: BETA_C_2D, rng: rngFor({ seed: 74 }) });
  for (let k = 0; k < 100; k++) smp.sweep();
  smp.endThermalization();
  const configs: Int8Array[] = [];
  for (let k = 0; k < 4000; k++) {
    smp.sweep();
    const s = new Int8Array(lat.V);
    smp.config(0, s);
    configs.push(s);
  }
  const res = mcrg(configs, { dim: 2, L, levels: 2, tie: "random", rng: rngFor({ seed: 75 }), groups: 20 });
  for (const r of res) {
    t.diagnostic(`level ${r.level} (L = ${r.Lfine} → ${r.Lfine / 2}): λ_t by truncation ${r.even.truncations.map((x) => `${x.lambda.value.toFixed(3)}±${x.lambda.error.toFixed(3)}`).join(", ")}; ν = ${r.nu.value.toFixed(3)} ± ${r.nu.error.toFixed(3)}; λ_h ${r.odd.truncations.map((x) => `${x.lambda.value.toFixed(3)}±${x.lambda.error.toFixed(3)}`).join(", ")}; y_h = ${r.yh.value.toFixed(4)} ± ${r.yh.error.toFixed(4)}, η = ${r.eta.value.toFixed(3)} ± ${r.eta.error.toFixed(3)}`);
  }
  const first = res[0]!;
  assert.ok(Math.abs(first.nu.value - 1) < 0.15, `ν = ${first.nu.value} ± ${first.nu.error}`);
  assert.ok(first.nu.error > 0 && first.nu.error < 0.05, `ν error ${first.nu.error}`);
  assert.ok(Math.abs(first.yh.value - 15 / 8) < 0.05, `y_h = ${first.yh.value}`);
  assert.ok(Math.abs(first.eta.value - 0.25) < 0.1, `η = ${first.eta.value}`);
  // The leading eigenvalue is real and relevant (> 1) for every truncation.
  for (const tr of first.even.truncations) assert.ok(tr.lambdaIm === 0 && tr.lambda.value > 1.5);
});
