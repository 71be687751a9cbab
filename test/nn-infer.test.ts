// The float32 inference engine (src/nn/infer.ts, asm/nn-infer.ts): the WebAssembly kernels give the bits of
// their scalar twin (Math.fround after every product and sum, periodic neighbours by modulo, no padding,
// no chunks) on awkward shapes, and both give the network's function: the double-sum forward pass of
// training within float32 rounding, and the direct loops of reference.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { maxRelError } from "../src/nn/gradcheck.js";
import { efthymiouSpec, irgNetSpec } from "../src/nn/irgnet.js";
import { f32Plan, inferKernel, predictF32, predictF32Ts, setInferKernel } from "../src/nn/infer.js";
import { type ModelSpec, forward, initParams, paramIndex, predict } from "../src/nn/model.js";
import { naiveForward } from "../src/nn/reference.js";
import { type Tensor } from "../src/nn/tensor.js";

const rng = rngFor({ seed: 21 });

function input(spec: ModelSpec, N: number, L: number, spins: boolean): Tensor {
  const n = N * spec.inChannels * L ** spec.dim;
  return { shape: [N, spec.inChannels, ...Array<number>(spec.dim).fill(L)], data: Float32Array.from({ length: n }, () => (spins ? (rng.double() < 0.5 ? -0.5 : 0.5) : rng.normal())) };
}

/** Largest difference relative to the largest output (float32 sums err by ulps of the scale, not of each value). */
const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>): number => maxRelError(a, b, 1);

const planOf = (spec: ModelSpec) => f32Plan(spec, paramIndex(spec).offsets);

// Every kind of segment: upsampling first (Efthymiou), conv k = 1, 3, 5 (k = 5 on a 2×2 torus wraps twice),
// 3D, several pointwise layers, channel counts that leave 1–3 rows of the 4-row blocks, a transposed conv
// with an activation after it followed by more layers, one-hot inputs, odd widths (lanes past the row).
const CASES: [string, ModelSpec, number, number][] = [
  ["Efthymiou 2D", efthymiouSpec(2), 6, 2],
  ["Efthymiou 3D", efthymiouSpec(3), 3, 1],
  ["default 2D k=5 [16,16], mixture head", irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2, hidden: [16, 16], kernel: 5 }), 10, 2],
  ["k=5 on a 2×2 torus", irgNetSpec({ dim: 2, head: "bernoulli", kernel: 5 }), 2, 3],
  ["odd widths, [7, 5, 3]", irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 1, hidden: [7, 5, 3], kernel: 3 }), 7, 2],
  ["3D default", irgNetSpec({ dim: 3, head: "bernoulli" }), 4, 2],
  ["3D k=5 categorical, 3 one-hot channels", irgNetSpec({ dim: 3, head: "categorical", classes: 3, inChannels: 3, kernel: 5, hidden: [6] }), 3, 1],
  ["convT, tanh, conv, upsample, pointwise", { dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 3, k: 3 }, { type: "act", fn: "relu" }, { type: "convT", cin: 3, cout: 2, k: 2 }, { type: "act", fn: "tanh" }, { type: "conv", cin: 2, cout: 5, k: 3 }, { type: "upsample" }, { type: "conv", cin: 5, cout: 1, k: 1 }] }, 5, 2],
];

test("the WebAssembly engine is built and in use; setInferKernel switches to the scalar twin", () => {
  assert.equal(inferKernel(), "wasm");
  setInferKernel("typescript");
  assert.equal(inferKernel(), "typescript");
  setInferKernel("auto");
});

test("WebAssembly equals the scalar twin bit for bit, and both equal the network within float32 rounding (real inputs and two-valued spins)", () => {
  for (const [what, spec, L, N] of CASES) {
    const params = initParams(spec, rngFor({ seed: 3 })) as Float32Array;
    for (let i = 0; i < params.length; i++) params[i]! += 0.05 * rng.normal();
    const plan = planOf(spec);
    assert.ok(plan, `${what}: has a plan`);
    for (const spins of [false, true]) {
      if (spins && spec.inChannels > 1) continue;
      const x = input(spec, N, L, spins);
      const a: Tensor = predictF32(spec, params, x, plan)!, b = predictF32Ts(spec, params, x, plan);
      assert.deepEqual(a.shape, b.shape);
      assert.deepEqual(a.data, b.data, `${what}${spins ? " (spins)" : ""}: WebAssembly and scalar twin differ`);
      const ref = forward(spec, params, x).output, vals = naiveForward(spec, params, x);
      assert.deepEqual(a.shape, ref.shape);
      assert.ok(maxRel(a.data, ref.data) < 2e-6, `${what}${spins ? " (spins)" : ""}: ${maxRel(a.data, ref.data)} from the double-sum forward pass`);
      assert.ok(maxRel(a.data, vals[vals.length - 1]!.data) < 2e-6, `${what}: differs from the direct loops`);
      assert.deepEqual(predict(spec, params, x).data, a.data, `${what}: predict takes the engine`);
    }
  }
});

test("two-valued inputs take the table and real ones the products, per sample: a batch gives each sample's own bits", () => {
  const spec = irgNetSpec({ dim: 2, head: "bernoulli", kernel: 5, hidden: [16, 16] });
  const params = initParams(spec, rngFor({ seed: 4 })) as Float32Array;
  const plan = planOf(spec)!;
  const L = 12, S = L * L, spins = input(spec, 1, L, true), real = input(spec, 1, L, false);
  const both: Tensor = { shape: [2, 1, L, L], data: new Float32Array([...spins.data, ...real.data]) };
  const out = predictF32(spec, params, both, plan)!.data, one = 4 * S;
  assert.deepEqual(out.subarray(0, one), predictF32(spec, params, spins, plan)!.data);
  assert.deepEqual(out.subarray(one), predictF32(spec, params, real, plan)!.data);
  // The table sums a kernel row before adding it: other roundings than the products, same function.
  const products = predictF32(spec, params, { shape: spins.shape, data: spins.data.map((v, i) => (i === 0 ? v * (1 + 2 ** -20) : v)) }, plan)!.data;
  assert.ok(maxRel(products, out.subarray(0, one)) < 1e-5, "the products give the same values");
});

test("a network the engine does not cover (tanh between convs, a k = 4 transposed conv) has no plan and still predicts", () => {
  const tanhNet = irgNetSpec({ dim: 2, head: "bernoulli", activation: "tanh" });
  const convT4 = irgNetSpec({ dim: 2, head: "bernoulli", outKernel: 4 });
  for (const spec of [tanhNet, convT4]) {
    assert.equal(planOf(spec), null);
    const params = initParams(spec, rngFor({ seed: 5 }));
    const x = input(spec, 1, 6, false), vals = naiveForward(spec, params, x);
    assert.ok(maxRel(predict(spec, params, x).data, vals[vals.length - 1]!.data) < 1e-5);
  }
});

test("edge inputs: a NaN anywhere reaches the outputs it touches (no table), an empty batch has the network's output shape, a spec whose channels do not chain has no plan", () => {
  const spec = irgNetSpec({ dim: 2, head: "bernoulli", kernel: 3, hidden: [4] });
  const params = initParams(spec, rngFor({ seed: 6 })) as Float32Array;
  const plan = planOf(spec)!;
  for (const at of [0, 5]) {
    const data = new Float32Array(16).fill(1);
    data[at] = Number.NaN; // first: twoValues sees {NaN, 1}
    const x: Tensor = { shape: [1, 1, 4, 4], data };
    const nans = (t: Tensor): number => Array.from(t.data).filter(Number.isNaN).length;
    const want = nans(forward(spec, params, x).output);
    assert.ok(want > 0);
    assert.equal(nans(predictF32(spec, params, x, plan)!), want, `NaN at ${at}: WebAssembly`);
    assert.equal(nans(predictF32Ts(spec, params, x, plan)), want, `NaN at ${at}: scalar twin`);
  }
  const empty: Tensor = { shape: [0, 1, 4, 4], data: new Float32Array(0) };
  const shape = forward(spec, params, empty).output.shape;
  assert.deepEqual(predictF32(spec, params, empty, plan)!.shape, shape);
  assert.deepEqual(predictF32Ts(spec, params, empty, plan).shape, shape);
  const broken: ModelSpec = { dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 3, k: 3 }, { type: "conv", cin: 40, cout: 2, k: 1 }] };
  assert.equal(planOf(broken), null);
});
