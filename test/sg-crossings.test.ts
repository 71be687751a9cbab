// Crossings of spin-glass curves between sizes on synthetic data whose answer is known: per-sample primaries
// built from prescribed ξ/L(T) and g(T) lines that cross at T = 1; without noise the crossing is exact and
// its jackknife error zero, with noise it lies within a few of its own errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/lattice/rng.js";
import { crossingPoint, sgDerived, sizeCrossings, type SamplePrimaries, type SizeCurve } from "../src/analysis/sg-crossings.js";
import { familySigmas, normalTail } from "../src/analysis/spin-glass.js";

test("crossingPoint: linear interpolation of the first sign change", () => {
  assert.equal(crossingPoint([0, 1, 2], [0, 1, 2], [1.5, 1.5, 1.5]), 1.5);
  assert.ok(Number.isNaN(crossingPoint([0, 1], [0, 1], [2, 3])));
  assert.equal(crossingPoint([0, 1, 2], [1, 2, 3], [1, 0, 0]), 0);
});

/** Primaries of S samples at T giving ξ/L = x and g = gv exactly (before noise). */
function primaries(L: number, T: number[], x: (t: number) => number, gv: (t: number) => number, S: number, noise: number, rng: Rng): SizeCurve {
  const V = L ** 3;
  const points = T.map((t): SamplePrimaries => {
    const q2 = 0.3, xi = x(t) * L, r = (2 * Math.sin(Math.PI / L) * xi) ** 2;
    return {
      samples: Array.from({ length: S }, (_, s) => s),
      q2: new Float64Array(S).fill(q2),
      q4: new Float64Array(S).fill((3 - 2 * gv(t)) * q2 * q2),
      qk2: Float64Array.from({ length: S }, () => (q2 / (1 + r)) * (1 + noise * (rng.double() - 0.5))),
    };
  });
  return { L, V, T, points };
}

test("sizeCrossings: xi/L and g lines crossing at T = 1 (exact without noise; within 4 errors with noise)", () => {
  const T = [0.85, 0.95, 1.05, 1.15];
  const rng = new Rng([1, 2, 3, 4]);
  const a = primaries(4, T, (t) => 1 - 0.2 * t, (t) => 0.9 - 0.1 * t, 50, 0, rng);
  const b = primaries(8, T, (t) => 1.2 - 0.4 * t, (t) => 1.0 - 0.2 * t, 50, 0, rng);
  const d = sgDerived(a.points[0]!.q2[0]!, a.points[0]!.q4[0]!, a.points[0]!.qk2[0]!, a.V, a.L);
  assert.ok(Math.abs(d.xiL - (1 - 0.2 * 0.85)) < 1e-12 && Math.abs(d.g - (0.9 - 0.1 * 0.85)) < 1e-12);
  for (const c of sizeCrossings(a, b)) {
    assert.ok(Math.abs(c.T - 1) < 1e-9, `${c.quantity}: ${c.T}`);
    assert.ok(c.error < 1e-9);
  }
  // Noise on |q(k_min)|² moves the xi/L crossing; the jackknife error must cover it (and not be zero).
  let pulls = 0;
  for (let rep = 0; rep < 20; rep++) {
    const na = primaries(4, T, (t) => 1 - 0.2 * t, (t) => 0.9 - 0.1 * t, 40, 0.3, rng);
    const nb = primaries(8, T, (t) => 1.2 - 0.4 * t, (t) => 1.0 - 0.2 * t, 40, 0.3, rng);
    const c = sizeCrossings(na, nb).find((x) => x.quantity === "xi/L")!;
    assert.ok(c.error > 1e-3 && c.error < 0.2, `error ${c.error}`);
    pulls += ((c.T - 1) / c.error) ** 2;
  }
  // The mean squared pull of 20 independent repetitions is about 1 if the errors are right.
  assert.ok(pulls / 20 > 0.2 && pulls / 20 < 3, `mean squared pull ${pulls / 20}`);
});

test("equilibration threshold: two-sided normal tail and the Bonferroni threshold of many log bins", () => {
  assert.ok(Math.abs(normalTail(1.959964) - 0.05) < 1e-6);
  assert.ok(Math.abs(normalTail(3) - 0.0026998) < 1e-6);
  assert.ok(Math.abs(familySigmas(1, 0.05) - 1.959964) < 1e-4);
  const z = familySigmas(120, 0.01);
  assert.ok(Math.abs(120 * normalTail(z) - 0.01) < 1e-6 && z > 3.8 && z < 4);
});
