// φ⁴ samplers against exact answers: 4-dimensional quadrature on the 2×2 torus, the free lattice
// propagator at λ = 0, and the embedded cluster move against the exact conditional sign distribution.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, neighbours } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { phi4Sums, type Phi4Couplings, checkPhi4 } from "../src/models/phi4.js";
import { makePhi4Sampler, PHI4_ALGORITHMS } from "../src/mc/phi4-samplers.js";
import { phi4WolffCluster } from "../src/mc/phi4-cluster.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { uwerr } from "../src/analysis/stats.js";

/** ⟨φ²⟩ per site and ⟨m²⟩ on the 2×2 torus by a 4-dimensional trapezoid rule (exponentially accurate here). */
function quadrature2x2(c: Phi4Couplings): { phi2: number; m2: number } {
  const n = 56, R = 4.2, h = (2 * R) / (n - 1);
  const x = Float64Array.from({ length: n }, (_, i) => -R + i * h);
  // Site part of the action per value, and the doubled bonds a–b, a–c, d–b, d–c of the 2×2 torus.
  const site = x.map((f) => ((c.mu2 + 4 * c.kappa) / 2) * f * f + (c.lambda / 4) * f ** 4);
  let Z = 0, P2 = 0, M2 = 0;
  for (let a = 0; a < n; a++) for (let d = 0; d < n; d++) {
    const ad = site[a]! + site[d]!;
    for (let b = 0; b < n; b++) for (let cc = 0; cc < n; cc++) {
      const fa = x[a]!, fb = x[b]!, fc = x[cc]!, fd = x[d]!;
      const S = ad + site[b]! + site[cc]! - 2 * c.kappa * (fa + fd) * (fb + fc);
      const w = Math.exp(-S);
      Z += w;
      P2 += w * (fa * fa + fb * fb + fc * fc + fd * fd) / 4;
      M2 += w * ((fa + fb + fc + fd) / 4) ** 2;
    }
  }
  return { phi2: P2 / Z, m2: M2 / Z };
}

for (const algorithm of PHI4_ALGORITHMS) {
  test(`phi4 ${algorithm}: <phi^2> and <m^2> on the 2x2 torus agree with quadrature (4 sigma)`, () => {
    const c = { mu2: -0.9515, lambda: 0.7, kappa: 1 };
    const exact = quadrature2x2(c);
    const lat = lattice(2, 2);
    const smp = makePhi4Sampler({ algorithm, lat, couplings: c, rng: rngFor({ seed: 21, task: algorithm === "local" ? 0 : 1 }) });
    for (let k = 0; k < 1000; k++) smp.sweep();
    smp.endThermalization();
    const N = 200000;
    const p2 = new Float64Array(N), m2 = new Float64Array(N);
    const out = [0, 0, 0, 0, 0].map(() => new Float64Array(1));
    for (let t = 0; t < N; t++) {
      smp.sweep();
      smp.measure(out);
      p2[t] = out[2]![0]! / 4;
      m2[t] = (out[1]![0]! / 4) ** 2;
    }
    for (const [name, series, want] of [["phi2", p2, exact.phi2], ["m2", m2, exact.m2]] as const) {
      const est = uwerr(series);
      assert.ok(est.error < 0.01 * Math.abs(want), `${name} error too large to test anything: ${est.error}`);
      assert.ok(Math.abs(est.value - want) < 4 * est.error, `${name}: ${est.value} ± ${est.error} vs exact ${want}`);
    }
  });

  test(`phi4 ${algorithm}: free field (lambda = 0) reproduces the lattice propagator`, () => {
    const c = { mu2: 0.3, lambda: 0, kappa: 1 };
    const L = 8, lat = lattice(2, L), V = L * L;
    // G(r) = (1/V) Σ_k cos(k·r) / (μ² + 4κ − 2κ(cos k_x + cos k_y)).
    const G = (rx: number, ry: number): number => {
      let s = 0;
      for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) {
        const kx = (2 * Math.PI * a) / L, ky = (2 * Math.PI * b) / L;
        s += Math.cos(kx * rx + ky * ry) / (c.mu2 + 4 * c.kappa - 2 * c.kappa * (Math.cos(kx) + Math.cos(ky)));
      }
      return s / V;
    };
    const seps: [number, number][] = [[0, 0], [1, 0], [2, 1], [4, 4]];
    const smp = makePhi4Sampler({ algorithm, lat, couplings: c, rng: rngFor({ seed: 22 }) });
    for (let k = 0; k < 500; k++) smp.sweep();
    smp.endThermalization();
    const N = 20000;
    const series = seps.map(() => new Float64Array(N));
    const phi = smp.field;
    for (let t = 0; t < N; t++) {
      smp.sweep();
      seps.forEach(([rx, ry], k) => {
        let s = 0;
        for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) s += phi[y * L + x]! * phi[((y + ry) % L) * L + ((x + rx) % L)]!;
        series[k]![t] = s / V;
      });
    }
    seps.forEach(([rx, ry], k) => {
      const est = uwerr(series[k]!);
      const want = G(rx, ry);
      assert.ok(Math.abs(est.value - want) < 4 * est.error, `G(${rx},${ry}): ${est.value} ± ${est.error} vs ${want}`);
      assert.ok(est.error < 0.01 * G(0, 0), `G(${rx},${ry}) error too large: ${est.error}`);
    });
  });
}

test("phi4 embedded cluster alone samples the exact conditional distribution of the signs", () => {
  // With |φ| fixed the signs form an Ising model with couplings κ|φ_x||φ_y| (doubled on 2×2).
  const lat = lattice(2, 2);
  const nb = neighbours(lat);
  const mag = Float64Array.of(0.9, 0.4, 1.3, 0.7);
  const kappa = 0.8;
  const c = { mu2: 0, lambda: 0.7, kappa };
  const probs = new Float64Array(16);
  for (let s = 0; s < 16; s++) {
    const phi = Array.from(mag, (m, i) => ((s >>> i) & 1 ? -m : m));
    probs[s] = Math.exp(-phi4Sums(lat, nb, phi, c).action);
  }
  const Z = probs.reduce((a, b) => a + b, 0);
  probs.forEach((p, s) => (probs[s] = p / Z));
  const rng = rngFor({ seed: 23 });
  const phi = Float64Array.from(mag);
  const stack = new Int32Array(4);
  const hist = new Float64Array(16);
  for (let t = 0; t < 60000; t++) {
    phi4WolffCluster(nb, 4, phi, kappa, rng, stack);
    let s = 0;
    phi.forEach((f, i) => (s |= f < 0 ? 1 << i : 0));
    hist[s]!++;
    phi.forEach((f, i) => assert.ok(Math.abs(Math.abs(f) - mag[i]!) === 0));
  }
  const res = chiSquareTest(hist, probs);
  assert.ok(res.pValue > 1e-4, `chi2 = ${res.chi2} for ${res.dof} dof`);
  // Power: a cluster rule with 2κ → κ would be rejected.
  const wrong = probs.map((_, s) => {
    const f = Array.from(mag, (m, i) => ((s >>> i) & 1 ? -m : m));
    return Math.exp(-phi4Sums(lat, nb, f, { ...c, kappa: kappa / 2 }).action);
  });
  const Zw = wrong.reduce((a, b) => a + b, 0);
  assert.ok(chiSquareTest(hist, wrong.map((p) => p / Zw)).pValue < 1e-3);
});

test("phi4 couplings are validated", () => {
  assert.throws(() => checkPhi4({ mu2: -5, lambda: 0.7, kappa: 1 }, 2), /mu2 \+ 4·kappa must be > 0/);
  assert.throws(() => checkPhi4({ mu2: -0.5, lambda: 0, kappa: 1 }, 2), /lambda = 0/);
  assert.throws(() => checkPhi4({ mu2: -0.5, lambda: -1, kappa: 1 }, 2), /lambda must be >= 0/);
});
