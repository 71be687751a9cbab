// Training: Adam learns a copy-with-flips map (P = 0.9) to within 0.02; Adam state round-trips through JSON;
// init is deterministic; batch-slice gradients combine into the batch gradient (what a worker split relies on).
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { adamFromJSON, adamInit, adamStep, adamToJSON } from "../src/nn/adam.js";
import { maxRelError } from "../src/nn/gradcheck.js";
import { bernoulliProbs } from "../src/nn/heads.js";
import { efthymiouSpec, irgNetSpec } from "../src/nn/irgnet.js";
import { initParams, paramIndex, predict } from "../src/nn/model.js";
import { lossAndGrad, trainStep } from "../src/nn/train.js";
import { type Tensor, batchSlice } from "../src/nn/tensor.js";
import { upsampleForward } from "../src/nn/convt.js";

/** A batch of random coarse ±1 configurations and fine ones = parent spin flipped with probability q. */
function flipData(N: number, Lc: number, q: number, seed: number): { coarse: Tensor; fine: Float32Array } {
  const rng = rngFor({ seed });
  const coarse: Tensor = { shape: [N, 1, Lc, Lc], data: Float32Array.from({ length: N * Lc * Lc }, () => (rng.double() < 0.5 ? 1 : -1)) };
  const fine = upsampleForward(coarse).data as Float32Array;
  for (let i = 0; i < fine.length; i++) if (rng.double() < q) fine[i] = -fine[i]!;
  return { coarse, fine };
}

test("Adam learns P(fine = parent) = 0.9 for a copy-with-flips map to within 0.02 at every site", () => {
  const spec = irgNetSpec({ dim: 2, head: "bernoulli", hidden: [4] });
  const params = initParams(spec, rngFor({ seed: 1 }));
  const adam = adamInit(params.length);
  for (let step = 0; step < 600; step++) {
    const { coarse, fine } = flipData(16, 8, 0.1, 100 + step);
    trainStep(spec, params, adam, { lr: step < 300 ? 0.03 : step < 500 ? 0.003 : 0.0005 }, coarse, fine);
  }
  const { coarse } = flipData(8, 8, 0.1, 7);
  const p = bernoulliProbs(predict(spec, params, coarse));
  const parent = upsampleForward(coarse).data;
  let worst = 0, mean = 0;
  for (let i = 0; i < p.length; i++) {
    const same = parent[i]! > 0 ? p[i]! : 1 - p[i]!;
    worst = Math.max(worst, Math.abs(same - 0.9));
    mean += same / p.length;
  }
  assert.ok(worst < 0.02, `largest deviation of P(fine = parent) from 0.9: ${worst} (mean ${mean})`);
});

test("Adam: first step moves every parameter by lr against its gradient's sign; state round-trips through JSON exactly", () => {
  const p = Float64Array.from([1, -2, 3]), g = [0.5, -1e-3, 0];
  const s = adamInit(3);
  adamStep(p, g, s, { lr: 0.1 });
  assert.ok(Math.abs(p[0]! - 0.9) < 1e-6 && Math.abs(p[1]! + 1.9) < 1e-4 && p[2] === 3);

  const spec = irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2, hidden: [4, 4] });
  const run = (split: boolean): Float32Array => {
    const params = initParams(spec, rngFor({ seed: 2 })) as Float32Array;
    let adam = adamInit(params.length);
    for (let step = 0; step < 5; step++) {
      if (split && step === 2) adam = adamFromJSON(JSON.parse(JSON.stringify(adamToJSON(adam))));
      const { coarse } = flipData(4, 6, 0, step);
      const target = Float32Array.from({ length: 4 * 144 }, (_, i) => Math.sin(i));
      trainStep(spec, params, adam, { lr: 0.01, weightDecay: 1e-3 }, coarse, target);
    }
    return params;
  };
  assert.deepEqual(run(true), run(false));
  assert.throws(() => adamFromJSON({ m: [1], v: [], step: 0 }), /Adam/);
});

test("initParams: deterministic per seed, He/Glorot scales, zero biases", () => {
  const spec = efthymiouSpec(2);
  const a = initParams(spec, rngFor({ seed: 4 })), b = initParams(spec, rngFor({ seed: 4 })), c = initParams(spec, rngFor({ seed: 5 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const { offsets } = paramIndex(spec);
  // Layer 1: conv 5×5, 1 → 64, followed by ReLU: He, σ² = 2/25.
  const w = a.subarray(offsets[1]!, offsets[1]! + 64 * 25);
  let ss = 0;
  for (const v of w) ss += v * v;
  const sd = Math.sqrt(ss / w.length);
  assert.ok(Math.abs(sd - Math.sqrt(2 / 25)) < 0.1 * Math.sqrt(2 / 25), `He init sd ${sd}`);
  for (const v of a.subarray(offsets[1]! + 64 * 25, offsets[1]! + 64 * 25 + 64)) assert.equal(v, 0);
});

test("the gradient of a batch is the site-weighted mean of its slices' gradients (worker split)", () => {
  const spec = irgNetSpec({ dim: 3, head: "bernoulli", hidden: [4, 4] });
  const params = initParams(spec, rngFor({ seed: 6 }), "float64");
  const rng = rngFor({ seed: 7 });
  const N = 5, Lc = 3;
  const coarse: Tensor = { shape: [N, 1, Lc, Lc, Lc], data: Float64Array.from({ length: N * 27 }, () => (rng.double() < 0.5 ? 1 : -1)) };
  const fine = Float64Array.from({ length: N * 216 }, () => (rng.double() < 0.5 ? 1 : -1));
  const all = lossAndGrad(spec, params, coarse, fine);
  const lo = lossAndGrad(spec, params, batchSlice(coarse, 0, 2), fine.subarray(0, 2 * 216));
  const hi = lossAndGrad(spec, params, batchSlice(coarse, 2, N), fine.subarray(2 * 216));
  const combined = lo.gradParams.map((v, i) => (2 * v + 3 * hi.gradParams[i]!) / 5);
  assert.ok(Math.abs(all.loss - (2 * lo.loss + 3 * hi.loss) / 5) < 1e-12);
  assert.ok(maxRelError(combined, all.gradParams) < 1e-10);
});
