// The nn engine's layers and models against central finite differences in float64 (every layer type,
// both heads), against the naive reference loops in float32, and translation equivariance on the torus.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { ACTIVATIONS, activationBackward, activationForward } from "../src/nn/act.js";
import { convBackward, convForward } from "../src/nn/conv.js";
import { convTBackward, convTForward, upsampleBackward, upsampleForward } from "../src/nn/convt.js";
import { dot, maxRelError, numericGrad } from "../src/nn/gradcheck.js";
import { headLoss } from "../src/nn/heads.js";
import { efthymiouSpec, irgNetSpec, type IrgNetOptions } from "../src/nn/irgnet.js";
import { type ModelSpec, backward, checkSpec, forward, initParams, paramCount, predict } from "../src/nn/model.js";
import { naiveBackward, naiveForward } from "../src/nn/reference.js";
import { type Tensor, product, roll } from "../src/nn/tensor.js";

const rng = rngFor({ seed: 2024 });
const randn = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
const t64 = (shape: number[], away = 0): Tensor<Float64Array> => {
  // `away` keeps values off the kinks of ReLU (|v| ≥ away) so finite differences stay on one side.
  const d = randn(product(shape)).map((v) => (Math.abs(v) < away ? Math.sign(v || 1) * (away + Math.abs(v)) : v));
  return { shape, data: d };
};
const TOL = 1e-6;

/**
 * Checks a layer's backward against central differences of L = Σ r ⊙ y for a random r, with respect
 * to the input and (if any) the parameters, which sit at offset `off` inside a longer vector.
 */
function checkLayer(
  what: string,
  x: Tensor<Float64Array>,
  nParams: number,
  fwd: (p: Float64Array, x: Tensor) => Tensor,
  bwd: (p: Float64Array, x: Tensor, g: Tensor, gp: Float64Array) => Tensor,
): void {
  const off = nParams > 0 ? 3 : 0;
  const p = randn(nParams + 2 * off);
  const y = fwd(p, x);
  const r: Tensor = { shape: y.shape.slice(), data: randn(y.data.length) };
  const gp = new Float64Array(p.length);
  const gx = bwd(p, x, r, gp);
  const loss = (): number => dot(fwd(p, x).data, r.data);
  const ex = maxRelError(gx.data, numericGrad(loss, x.data));
  assert.ok(ex < TOL, `${what}: dL/dx relative error ${ex}`);
  if (nParams > 0) {
    const ep = maxRelError(gp, numericGrad(loss, p));
    assert.ok(ep < TOL, `${what}: dL/dparams relative error ${ep}`);
    for (let i = 0; i < off; i++) assert.ok(gp[i] === 0 && gp[p.length - 1 - i] === 0, `${what}: gradient written outside the layer's slice`);
  }
}

test("conv 2D/3D, k = 1, 3, 5 (kernels wider than the lattice included): gradients match finite differences", () => {
  const cases: [number[], number][] = [
    [[2, 2, 4, 4], 1], [[2, 2, 4, 4], 3], [[2, 2, 4, 4], 5], [[1, 2, 3, 5], 3], [[1, 2, 2, 3], 5],
    [[1, 2, 2, 3, 4], 1], [[2, 2, 2, 3, 4], 3], [[1, 2, 2, 3, 4], 5], [[1, 1, 4, 4, 4], 3],
  ];
  for (const [shape, k] of cases) {
    const spec = { cin: shape[1]!, cout: 3, k }, dim = shape.length - 2;
    checkLayer(`conv k=${k} [${shape}]`, t64(shape), spec.cout * spec.cin * k ** dim + spec.cout,
      (p, x) => convForward(spec, p, 3, x),
      (p, x, g, gp) => convBackward(spec, p, 3, x, g, gp)!);
  }
});

test("transposed conv stride 2, 2D k = 2…5 and 3D k = 2, 3: gradients match finite differences", () => {
  const cases: [number[], number][] = [[[2, 2, 3, 4], 2], [[2, 2, 3, 4], 3], [[1, 2, 3, 2], 4], [[1, 2, 2, 3], 5], [[2, 2, 2, 2, 3], 2], [[1, 2, 2, 3, 2], 3]];
  for (const [shape, k] of cases) {
    const spec = { cin: shape[1]!, cout: 2, k }, dim = shape.length - 2;
    checkLayer(`convT k=${k} [${shape}]`, t64(shape), spec.cout * spec.cin * k ** dim + spec.cout,
      (p, x) => convTForward(spec, p, 3, x),
      (p, x, g, gp) => convTBackward(spec, p, 3, x, g, gp)!);
  }
});

test("nearest ×2 upsampling 2D/3D and every activation: input gradients match finite differences", () => {
  for (const shape of [[2, 3, 3, 4], [1, 2, 2, 3, 2]]) {
    checkLayer(`upsample [${shape}]`, t64(shape), 0, (_p, x) => upsampleForward(x), (_p, _x, g) => upsampleBackward(g));
  }
  for (const fn of ACTIVATIONS) {
    checkLayer(`activation ${fn}`, t64([2, 3, 4, 4], 0.05), 0,
      (_p, x) => activationForward(fn, x),
      (_p, x, g) => activationBackward(fn, activationForward(fn, x), g));
  }
});

/** Whole-model check: loss = head loss (or Σ r ⊙ output) against finite differences in params and input. */
function checkModel(what: string, spec: ModelSpec, Lc: number, N = 2): void {
  const p = initParams(spec, rngFor({ seed: 5 }), "float64") as Float64Array;
  for (let i = 0; i < p.length; i++) p[i] += 0.1 * rng.normal(); // nonzero biases too
  const x = t64([N, 1, ...Array<number>(spec.dim).fill(Lc)]);
  const out0 = forward(spec, p, x).output;
  const sites = N * product(out0.shape.slice(2));
  const target = spec.head?.type === "bernoulli" ? Float64Array.from({ length: sites }, () => (rng.double() < 0.5 ? 1 : -1)) : randn(sites);
  const loss = (): number => headLoss(spec.head!, forward(spec, p, x).output, target).loss;
  const { output, cache } = forward(spec, p, x);
  const { grad } = headLoss(spec.head!, output, target);
  const { gradParams, gradInput } = backward(spec, p, cache, grad);
  const ep = maxRelError(gradParams, numericGrad(loss, p));
  const ex = maxRelError(gradInput!.data, numericGrad(loss, x.data));
  assert.ok(ep < TOL && ex < TOL, `${what}: relative errors params ${ep}, input ${ex}`);
  // Without the input gradient the parameter gradient is the same.
  const g2 = backward(spec, p, forward(spec, p, x).cache, grad, { inputGrad: false });
  assert.equal(g2.gradInput, null);
  assert.ok(maxRelError(g2.gradParams, gradParams) < 1e-12, `${what}: inputGrad=false changes gradParams`);
}

test("whole irgNetSpec models with Bernoulli BCE and Gaussian-mixture NLL (K = 1, 3): gradients match finite differences", () => {
  // Smooth hidden activations: a ReLU kink crossed by a finite-difference step would spoil the check.
  const base: Omit<IrgNetOptions, "dim" | "head"> = { hidden: [4, 3], activation: "softplus" };
  checkModel("2D bernoulli", irgNetSpec({ dim: 2, head: "bernoulli", ...base }), 4);
  checkModel("2D gaussian K=1", irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 1, ...base }), 3);
  checkModel("2D gaussian-mixture K=3", irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 3, ...base, activation: "tanh" }), 3);
  checkModel("3D bernoulli", irgNetSpec({ dim: 3, head: "bernoulli", ...base }), 2);
  checkModel("3D gaussian-mixture K=2, convT k=3", irgNetSpec({ dim: 3, head: "gaussian-mixture", components: 2, hidden: [3], kernel: 3, outKernel: 3, activation: "tanh" }), 2, 1);
  checkModel("2D nearest-upsampling layout", irgNetSpec({ dim: 2, head: "bernoulli", upsample: "nearest", kernel: 5, hidden: [3, 2], activation: "softplus" }), 3);
});

test("optimised kernels equal the naive reference loops (float32, several chunks per plane)", () => {
  const cases: [string, ModelSpec, number, number][] = [
    ["default 2D", irgNetSpec({ dim: 2, head: "bernoulli" }), 40, 2],
    ["default 2D mixture", irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2, hidden: [6, 5, 4] }), 36, 1],
    ["Efthymiou 2D", efthymiouSpec(2), 24, 1],
    ["default 3D", irgNetSpec({ dim: 3, head: "bernoulli" }), 12, 1],
    ["3D k=5, convT k=4", irgNetSpec({ dim: 3, head: "bernoulli", hidden: [5], kernel: 5, outKernel: 4 }), 5, 2],
    // Fused-path variants: no upsampling at all; an activation after the transposed conv.
    ["convs only", { dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 6, k: 5 }, { type: "act", fn: "tanh" }, { type: "conv", cin: 6, cout: 3, k: 1 }] }, 33, 2],
    ["act after convT", { dim: 3, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 5, k: 1 }, { type: "act", fn: "relu" }, { type: "act", fn: "softplus" }, { type: "convT", cin: 5, cout: 2, k: 2 }, { type: "act", fn: "sigmoid" }] }, 6, 2],
  ];
  for (const [what, spec, Lc, N] of cases) {
    const p = initParams(spec, rngFor({ seed: 9 }));
    for (let i = 0; i < p.length; i++) p[i] += 0.05 * rng.normal();
    const n = N * Lc ** spec.dim;
    const x: Tensor = { shape: [N, 1, ...Array<number>(spec.dim).fill(Lc)], data: Float32Array.from({ length: n }, () => rng.normal()) };
    const { output, cache } = forward(spec, p, x);
    const vals = naiveForward(spec, p, x);
    const ref = vals[vals.length - 1]!;
    assert.deepEqual(output.shape, ref.shape);
    assert.ok(maxRelError(output.data, ref.data, 1e-2) < 1e-5, `${what}: forward differs from the reference`);
    // predict runs the float32 engine (nn/infer.ts) where the shape allows: float32 sums, so the rounding
    // is a few ulps of the output's scale (floor 1: errors relative to the largest output).
    assert.ok(maxRelError(predict(spec, p, x).data, ref.data, 1) < 2e-6, `${what}: predict differs from the reference`);
    const g: Tensor = { shape: output.shape, data: Float32Array.from({ length: output.data.length }, () => rng.normal()) };
    const mine = backward(spec, p, cache, g), theirs = naiveBackward(spec, p, vals, g);
    assert.ok(maxRelError(mine.gradParams, theirs.gradParams, 1e-2) < 1e-4, `${what}: gradParams differ from the reference`);
    assert.ok(maxRelError(mine.gradInput!.data, theirs.gradInput.data, 1e-2) < 1e-4, `${what}: gradInput differs from the reference`);
  }
});

test("translating the coarse input by one site translates the output by two fine sites, exactly", () => {
  const cases: [ModelSpec, number][] = [
    [irgNetSpec({ dim: 2, head: "bernoulli" }), 6],
    [irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 3, kernel: 5, outKernel: 3 }), 5],
    [efthymiouSpec(2), 6],
    [irgNetSpec({ dim: 3, head: "bernoulli", hidden: [4, 4] }), 4],
    [irgNetSpec({ dim: 3, head: "gaussian-mixture", components: 1, hidden: [3], outKernel: 4 }), 3],
  ];
  for (const [spec, Lc] of cases) {
    const p = initParams(spec, rngFor({ seed: 3 }));
    const x: Tensor = { shape: [1, 1, ...Array<number>(spec.dim).fill(Lc)], data: Float32Array.from({ length: Lc ** spec.dim }, () => rng.normal()) };
    const y = predict(spec, p, x);
    const shifts = spec.dim === 2 ? [[1, 0], [0, 1], [1, -1]] : [[1, 0, 0], [0, 1, 0], [0, 0, -1]];
    for (const s of shifts) {
      const ys = predict(spec, p, roll(x, spec.dim, s));
      assert.deepEqual(ys.data, roll(y, spec.dim, s.map((v) => 2 * v)).data, `shift [${s}] of a ${spec.dim}D net is not an exact symmetry`);
    }
  }
});

test("specs are checked and parameter counts are as documented", () => {
  assert.equal(paramCount(efthymiouSpec(2)), 4033);
  assert.equal(paramCount(irgNetSpec({ dim: 2, head: "bernoulli", hidden: [16, 16] })), 9 * 16 + 16 + 16 * 16 + 16 + 16 * 4 + 1);
  assert.equal(checkSpec(irgNetSpec({ dim: 3, head: "gaussian-mixture", components: 4 })), 12);
  assert.throws(() => checkSpec({ dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 2, cout: 3, k: 3 }] }), /expects 2 input channels/);
  assert.throws(() => checkSpec({ dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 3, k: 2 }] }), /odd/);
  assert.throws(() => checkSpec({ dim: 2, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 2, k: 1 }], head: { type: "bernoulli" } }), /needs 1 output channels/);
  const spec = irgNetSpec({ dim: 2, head: "bernoulli" });
  assert.throws(() => forward(spec, new Float32Array(3), { shape: [1, 1, 4, 4], data: new Float32Array(16) }), /parameters/);
  // A spec survives JSON unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
});
