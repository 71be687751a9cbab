// The fast φ⁴ kernels against plain implementations: the ziggurat normal against the exact normal
// distribution; the local sweep and the embedded cluster number for number against straightforward
// loops that consume the same random words; and the local sweep against the previous Box–Muller +
// Math.exp implementation in distribution (acceptance rate and ⟨φ²⟩ on 8×8).
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, neighbours, type Lattice } from "../src/lattice/geometry.js";
import { Rng, rngFor } from "../src/lattice/rng.js";
import { normal, ZIG_R } from "../src/lattice/normal.js";
import { randomField, type Phi4Couplings } from "../src/models/phi4.js";
import { phi4LocalSweep } from "../src/mc/phi4-local.js";
import { phi4WolffCluster, phi4WolffClusterPow2 } from "../src/mc/phi4-cluster.js";
import { chiSquareTest, gammaQ } from "../src/analysis/chisq.js";
import { uwerr } from "../src/analysis/stats.js";

const CRIT: Phi4Couplings = { mu2: -0.9515, lambda: 0.7, kappa: 1 };

/** P(Z > x) for a standard normal Z: erfc(x/√2)/2 = Q(1/2, x²/2)/2 for x ≥ 0. */
function upperTail(x: number): number {
  return x >= 0 ? 0.5 * gammaQ(0.5, (x * x) / 2) : 1 - upperTail(-x);
}

/** Histogram of n values of `draw` in equal-width bins on [−5, 5] plus the two tails, with exact probabilities for N(0, σ²). */
function normalHistogram(draw: () => number, n: number, sigma = 1): { counts: Float64Array; probs: Float64Array; samples: Float64Array } {
  const nb = 200, lo = -5, hi = 5, w = (hi - lo) / nb;
  const counts = new Float64Array(nb + 2);
  const samples = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const z = draw();
    samples[k] = z;
    counts[z < lo ? 0 : z >= hi ? nb + 1 : 1 + Math.floor((z - lo) / w)]!++;
  }
  const probs = new Float64Array(nb + 2);
  const cdf = (x: number): number => 1 - upperTail(x / sigma);
  probs[0] = cdf(lo);
  for (let b = 0; b < nb; b++) probs[b + 1] = cdf(lo + (b + 1) * w) - cdf(lo + b * w);
  probs[nb + 1] = upperTail(hi / sigma);
  return { counts, probs, samples };
}

test("ziggurat normal: chi^2, tails beyond 3.5 sigma and r, and moments agree with N(0,1); N(0,1.02^2) is rejected", () => {
  const n = 1_000_000;
  const rng = rngFor({ seed: 31 });
  const { counts, probs, samples } = normalHistogram(() => normal(rng), n);
  const res = chiSquareTest(counts, probs);
  assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2.toFixed(1)} for ${res.dof} dof (p = ${res.pValue})`);
  // Tails: beyond 3.5σ, and beyond the ziggurat's r (the separately sampled tail).
  for (const x of [3.5, ZIG_R]) {
    let beyond = 0;
    for (const z of samples) if (Math.abs(z) > x) beyond++;
    const p = 2 * upperTail(x), want = n * p, sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(beyond - want) < 4 * sd, `P(|Z| > ${x}): ${beyond} vs ${want.toFixed(1)} ± ${sd.toFixed(1)}`);
  }
  // Moments E Z^k with their standard errors √((E Z^2k − (E Z^k)²)/n): k = 1…4.
  const exact = [0, 1, 0, 3], varZk = [1, 2, 15, 96];
  for (let k = 1; k <= 4; k++) {
    let s = 0;
    for (const z of samples) s += z ** k;
    const m = s / n, se = Math.sqrt(varZk[k - 1]! / n);
    assert.ok(Math.abs(m - exact[k - 1]!) < 4.5 * se, `E Z^${k} = ${m} vs ${exact[k - 1]} ± ${se}`);
  }
  // Power: the same test rejects a 2% wider normal.
  const wide = normalHistogram(() => 1.02 * normal(rng), n);
  assert.ok(chiSquareTest(wide.counts, probs).pValue < 1e-6, "chi^2 does not see N(0, 1.02^2)");
});

test("ziggurat normal is symmetric and exercises its wedge and tail paths", () => {
  const rng = rngFor({ seed: 32 });
  const n = 400_000;
  let pos = 0, tail = 0, max = 0;
  for (let k = 0; k < n; k++) {
    const z = normal(rng);
    if (z > 0) pos++;
    if (Math.abs(z) > ZIG_R) tail++;
    max = Math.max(max, Math.abs(z));
    assert.ok(Number.isFinite(z) && z !== 0);
  }
  assert.ok(Math.abs(pos - n / 2) < 4 * Math.sqrt(n / 4), `${pos} positive of ${n}`);
  assert.ok(tail > 100, `only ${tail} tail deviates`);
  assert.ok(max > 4, `largest |z| only ${max}`);
});

/** The field after sweeps of the plain reference: same words as the kernel (normal, then one word per site). */
function plainSameStream(lat: Lattice, phi: Float64Array, c: Phi4Couplings, rng: Rng): number {
  const L = lat.L, A = (c.mu2 + 4 * c.kappa) / 2, sd = Math.sqrt(1 / (2 * A)), shift = c.kappa / (2 * A), q = c.lambda / 4;
  let accepted = 0;
  for (let col = 0; col < 2; col++) {
    for (let y = 0; y < L; y++) {
      for (let x = (y + col) & 1; x < L; x += 2) {
        const i = y * L + x;
        const h = phi[y * L + ((x + L - 1) % L)]! + phi[y * L + ((x + 1) % L)]! + phi[((y + 1) % L) * L + x]! + phi[((y + L - 1) % L) * L + x]!;
        const z = normal(rng);
        const u = (rng.u32() >>> 1) / 2 ** 31;
        const old = phi[i]!, next = shift * h + sd * z;
        const n2 = next * next, o2 = old * old;
        const dS = q * (n2 * n2 - o2 * o2);
        if (u < Math.exp(-dS)) {
          phi[i] = next;
          accepted++;
        }
      }
    }
  }
  return accepted;
}

test("fast local sweep = plain sweep on the same random words, number for number (incl. huge field values)", () => {
  for (const [L, c] of [[8, CRIT], [6, CRIT], [8, { mu2: 0.5, lambda: 0.1, kappa: 0.7 }], [16, { mu2: -2.5, lambda: 3, kappa: 0.9 }]] as const) {
    const lat = lattice(2, L);
    const rng0 = rngFor({ seed: 40, task: L });
    const phi = randomField(lat.V, rng0);
    phi[3] = 150; // ΔS ≪ 0 at and near this site: exercises the clamped bins
    phi[5] = -90;
    const ref = phi.slice();
    const a = rngFor({ seed: 41, task: L }), b = rngFor({ seed: 41, task: L });
    for (let s = 0; s < 300; s++) {
      const na = phi4LocalSweep(lat, phi, c, a, new Float64Array(L));
      const nb = plainSameStream(lat, ref, c, b);
      assert.equal(na, nb, `accepted counts differ in sweep ${s} (L = ${L})`);
    }
    assert.deepEqual(phi, ref);
    assert.deepEqual(a.state(), b.state());
  }
});

test("the local kernel's inlined ziggurat is normal() word for word (kappa = lambda = 0, mu2 = 1: phi = z)", () => {
  const L = 64, lat = lattice(2, L);
  const c = { mu2: 1, lambda: 0, kappa: 0 }; // A = 1/2: proposal N(0, 1), always accepted
  const a = rngFor({ seed: 42 }), b = rngFor({ seed: 42 });
  const phi = new Float64Array(lat.V);
  let tail = 0;
  for (let s = 0; s < 10; s++) {
    assert.equal(phi4LocalSweep(lat, phi, c, a), lat.V);
    for (let col = 0; col < 2; col++) for (let y = 0; y < L; y++) for (let x = (y + col) & 1; x < L; x += 2) {
      const z = normal(b);
      b.u32();
      if (Math.abs(z) > ZIG_R) tail++;
      assert.equal(phi[y * L + x], z);
    }
  }
  assert.deepEqual(a.state(), b.state());
  assert.ok(tail > 5, `the tail path ran only ${tail} times`);
});

/** The previous implementation: Box–Muller per row, Rng methods, Math.exp per site (the reference in distribution). */
function previousSweep(lat: Lattice, phi: Float64Array, c: Phi4Couplings, rng: Rng, normals: Float64Array): number {
  const L = lat.L, A = (c.mu2 + 4 * c.kappa) / 2, sd = Math.sqrt(1 / (2 * A)), shift = c.kappa / (2 * A), q = c.lambda / 4;
  let accepted = 0;
  for (let col = 0; col < 2; col++) {
    for (let y = 0; y < L; y++) {
      const n = L >> 1;
      for (let k = 0; k < n; k += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - rng.double()));
        const a = 2 * Math.PI * rng.double();
        normals[k] = r * Math.cos(a);
        if (k + 1 < n) normals[k + 1] = r * Math.sin(a);
      }
      const row = y * L, up = ((y + 1) % L) * L, dn = ((y + L - 1) % L) * L;
      let k = 0;
      for (let x = (y + col) & 1; x < L; x += 2, k++) {
        const i = row + x;
        const h = phi[row + ((x + L - 1) % L)]! + phi[row + ((x + 1) % L)]! + phi[up + x]! + phi[dn + x]!;
        const old = phi[i]!, next = shift * h + sd * normals[k]!;
        const dS = q * (next ** 4 - old ** 4);
        if (dS <= 0 || rng.float() < Math.exp(-dS)) {
          phi[i] = next;
          accepted++;
        }
      }
    }
  }
  return accepted;
}

test("fast local sweep agrees with the previous Box-Muller implementation: acceptance and <phi^2> on 8x8 (4 sigma), with power", () => {
  const L = 8, lat = lattice(2, L), N = 60000;
  const run = (sweep: (phi: Float64Array, rng: Rng) => number, seed: number): { acc: Float64Array; p2: Float64Array } => {
    const rng = rngFor({ seed });
    const phi = randomField(lat.V, rng);
    for (let s = 0; s < 500; s++) sweep(phi, rng);
    const acc = new Float64Array(N), p2 = new Float64Array(N);
    for (let t = 0; t < N; t++) {
      acc[t] = sweep(phi, rng) / lat.V;
      let s2 = 0;
      for (let i = 0; i < lat.V; i++) s2 += phi[i]! * phi[i]!;
      p2[t] = s2 / lat.V;
    }
    return { acc, p2 };
  };
  const scratch = new Float64Array(L);
  const fast = run((phi, rng) => phi4LocalSweep(lat, phi, CRIT, rng), 43);
  const prev = run((phi, rng) => previousSweep(lat, phi, CRIT, rng, scratch), 44);
  // Power: the previous implementation at a 10% larger λ must be told apart by the same criterion.
  const other = run((phi, rng) => previousSweep(lat, phi, { ...CRIT, lambda: 0.77 }, rng, scratch), 45);
  for (const key of ["acc", "p2"] as const) {
    const a = uwerr(fast[key]), b = uwerr(prev[key]), o = uwerr(other[key]);
    const err = Math.hypot(a.error, b.error);
    assert.ok(Math.abs(a.value - b.value) < 4 * err, `${key}: fast ${a.value} ± ${a.error} vs previous ${b.value} ± ${b.error}`);
    assert.ok(Math.abs(o.value - b.value) > 4 * Math.hypot(o.error, b.error), `${key}: lambda + 10% not resolved (${o.value} vs ${b.value})`);
  }
});

/** Plain embedded cluster consuming the same words: depth-first, table order, one word per same-sign neighbour. */
function plainCluster(nb: Int32Array, z: number, phi: Float64Array, kappa: number, rng: Rng): number {
  const seed = rng.below(phi.length);
  const positive = phi[seed]! > 0;
  phi[seed] = -phi[seed]!;
  const stack = [seed];
  let size = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const before = -phi[i]!;
    for (let k = 0; k < z; k++) {
      const j = nb[i * z + k]!;
      const fj = phi[j]!;
      if (!(positive ? fj > 0 : fj < 0)) continue;
      const u = (rng.u32() >>> 1) / 2 ** 31;
      if (u < -Math.expm1(-(2 * kappa * before) * fj)) {
        phi[j] = -fj;
        stack.push(j);
        size++;
      }
    }
  }
  return size;
}

test("fast embedded clusters (table and power-of-two) = plain cluster on the same random words", () => {
  const permuted = (nb: Int32Array): Int32Array => {
    const p = nb.slice();
    for (let i = 0; i < p.length; i += 4) [p[i], p[i + 2]] = [nb[i + 2]!, nb[i]!]; // +y before +x
    return p;
  };
  const same = (nb: Int32Array): Int32Array => nb;
  const cases: [string, number, (nb: Int32Array) => Int32Array, boolean][] = [
    ["table L=16", 16, same, false], ["table L=6", 6, same, false], ["table L=2", 2, same, false], ["table L=8 permuted", 8, permuted, false],
    ["pow2 L=16", 16, same, true], ["pow2 L=2", 2, same, true], ["pow2 L=32", 32, same, true],
  ];
  for (const [name, L, table, pow2] of cases) {
    const lat = lattice(2, L);
    const nb = table(neighbours(lat));
    for (const kappa of [1, 0.3]) {
      const rng0 = rngFor({ seed: 50, task: L });
      const phi = randomField(lat.V, rng0);
      for (let s = 0; s < 20; s++) phi4LocalSweep(lat, phi, CRIT, rng0);
      phi[1] = 40 * Math.sign(phi[1]!); // large b: the last bin, always computed
      const ref = phi.slice();
      const a = rngFor({ seed: 51, task: L }), b = rngFor({ seed: 51, task: L });
      const stack = new Int32Array(lat.V);
      let total = 0;
      for (let t = 0; t < 2000; t++) {
        const na = pow2 ? phi4WolffClusterPow2(L, phi, kappa, a, stack) : phi4WolffCluster(nb, 4, phi, kappa, a, stack);
        const nr = plainCluster(nb, 4, ref, kappa, b);
        assert.equal(na, nr, `${name}, kappa ${kappa}: cluster ${t} sizes differ`);
        total += na;
      }
      assert.deepEqual(phi, ref, `${name}, kappa ${kappa}: fields differ`);
      assert.deepEqual(a.state(), b.state(), `${name}, kappa ${kappa}: random streams differ`);
      assert.ok(total > 2000, `${name}: clusters too small to test anything`);
    }
  }
  assert.throws(() => phi4WolffClusterPow2(6, new Float64Array(36), 1, rngFor({ seed: 1 }), new Int32Array(36)), /power of two/);
});
