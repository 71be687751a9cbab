// The network engine against finite differences (float64, every layer and whole models with both heads),
// translation equivariance on the torus, exactly normalised heads, and a learnable toy problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { convBackward, convForward, type Shape, upsampleBackward, upsampleForward, activationForward, activationBackward, type Activation } from "../src/irg/net/layers.js";
import { adamInit, adamStep, backward, forward, initParams, type NetSpec, output, paramLayout } from "../src/irg/net/model.js";
import { headChannels, logProb, sampleHead, type Head } from "../src/irg/net/heads.js";

const rng = rngFor({ seed: 77 });
const randn = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());

/** Max relative error between analytic and central-difference gradients of f at x. */
function gradCheck(f: (x: Float64Array) => number, x: Float64Array, g: Float64Array, h = 1e-6): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h;
    const up = f(x);
    x[i] = v - h;
    const dn = f(x);
    x[i] = v;
    const fd = (up - dn) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - g[i]!) / Math.max(1e-4, Math.abs(fd) + Math.abs(g[i]!)));
  }
  return worst;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

test("conv layers: gradients w.r.t. input and parameters match finite differences (2D k = 1, 3, 5; 3D k = 3)", () => {
  const cases: [number, number, Shape][] = [[2, 1, { D: 1, H: 4, W: 4 }], [2, 3, { D: 1, H: 4, W: 6 }], [2, 5, { D: 1, H: 4, W: 4 }], [3, 3, { D: 4, H: 4, W: 4 }]];
  for (const [dim, k, s] of cases) {
    const p = { cin: 2, cout: 3, k, dim };
    const n = s.D * s.H * s.W;
    const params = randn(p.cout * p.cin * k ** (dim === 3 ? 3 : 2) + p.cout);
    const input = randn(p.cin * n), R = randn(p.cout * n);
    const loss = (par: Float64Array, inp: Float64Array): number => {
      const out = new Float64Array(p.cout * n);
      convForward(p, par, 0, inp, s, out);
      return dot(out, R);
    };
    const gp = new Float64Array(params.length), gi = new Float64Array(input.length);
    convBackward(p, params, 0, input, s, R, gp, gi);
    assert.ok(gradCheck((x) => loss(x, input), params, gp) < 1e-6, `params dim=${dim} k=${k}`);
    assert.ok(gradCheck((x) => loss(params, x), input, gi) < 1e-6, `input dim=${dim} k=${k}`);
  }
});

test("upsampling and activations: gradients match finite differences", () => {
  for (const dim of [2, 3]) {
    const s: Shape = { D: dim === 3 ? 2 : 1, H: 2, W: 3 };
    const n = s.D * s.H * s.W, nf = n * 2 ** dim;
    const input = randn(2 * n), R = randn(2 * nf);
    const f = (x: Float64Array): number => {
      const out = new Float64Array(2 * nf);
      upsampleForward(2, s, dim, x, out);
      return dot(out, R);
    };
    const g = new Float64Array(2 * n);
    upsampleBackward(2, s, dim, R, g);
    assert.ok(gradCheck(f, input, g) < 1e-7);
  }
  for (const fn of ["tanh", "sigmoid", "softplus", "relu", "identity"] as Activation[]) {
    const x = randn(20).map((v) => (fn === "relu" && Math.abs(v) < 0.01 ? 0.5 : v)), R = randn(20);
    const f = (z: Float64Array): number => {
      const y = z.slice();
      activationForward(fn, y, 20);
      return dot(y, R);
    };
    const y = x.slice();
    activationForward(fn, y, 20);
    const g = R.slice();
    activationBackward(fn, y, g, 20);
    const err = gradCheck(f, x, g);
    assert.ok(err < 1e-5, `${fn}: ${err}`);
  }
});

function net(dim: 2 | 3, head: Head): NetSpec {
  return {
    dim,
    cin: 1,
    layers: [
      { type: "upsample" },
      { type: "conv", cin: 1, cout: 4, k: 3 },
      { type: "act", fn: "tanh" },
      { type: "conv", cin: 4, cout: 3, k: 1 },
      { type: "act", fn: "softplus" },
      { type: "conv", cin: 3, cout: headChannels(head), k: 3 },
    ],
  };
}

test("whole networks with Bernoulli and Gaussian-mixture heads: gradient of ln q matches finite differences", () => {
  for (const [dim, head] of [[2, { type: "bernoulli" }], [2, { type: "gmm", K: 1 }], [2, { type: "gmm", K: 3 }], [3, { type: "gmm", K: 2 }]] as [2 | 3, Head][]) {
    const spec = net(dim, head);
    const params = Float64Array.from(initParams(spec, rngFor({ seed: 5 })));
    const s: Shape = { D: dim === 3 ? 2 : 1, H: 2, W: 2 };
    const nc = s.D * 4, nf = nc * 2 ** dim;
    const coarse = randn(nc);
    const target = head.type === "bernoulli" ? Float64Array.from({ length: nf }, () => (rng.u32() & 1 ? 1 : -1)) : randn(nf);
    const f = (par: Float64Array): number => logProb(head, output(forward(spec, par, coarse, s)).value, target, nf);
    const t = forward(spec, params, coarse, s);
    const o = output(t);
    const gOut = new Float64Array(o.value.length);
    logProb(head, o.value, target, nf, gOut);
    const g = new Float64Array(params.length);
    backward(spec, params, t, gOut, g);
    const err = gradCheck(f, params, g);
    assert.ok(err < 1e-5, `dim ${dim} ${JSON.stringify(head)}: ${err}`);
  }
});

test("networks commute with translations of the torus (one coarse site = two fine sites)", () => {
  const spec = net(2, { type: "gmm", K: 2 });
  const params = initParams(spec, rngFor({ seed: 6 }));
  const L = 4, s: Shape = { D: 1, H: L, W: L };
  const coarse = Float32Array.from(randn(L * L));
  const shifted = coarse.map((_, i) => coarse[(i % L + L - 1) % L + L * Math.floor(i / L)]!);
  const a = output(forward(spec, params, coarse, s, false)).value, b = output(forward(spec, params, shifted, s, false)).value;
  const F = 2 * L, ch = 6;
  for (let c = 0; c < ch; c++) for (let y = 0; y < F; y++) for (let x = 0; x < F; x++) {
    assert.ok(Math.abs(b[c * F * F + y * F + x]! - a[c * F * F + y * F + ((x + F - 2) % F)]!) < 1e-5);
  }
});

test("heads are normalised and sample their own distribution", () => {
  // Bernoulli over 4 sites: Σ over the 16 configurations of q = 1.
  const logits = Float64Array.of(0.3, -1.2, 2.0, 0.1);
  let z = 0;
  for (let m = 0; m < 16; m++) z += Math.exp(logProb({ type: "bernoulli" }, logits, [0, 1, 2, 3].map((i) => ((m >> i) & 1 ? 1 : -1)), 4));
  assert.ok(Math.abs(z - 1) < 1e-12);
  // Mixture of 2 on one site integrates to 1 and samples with its mean and variance.
  const h: Head = { type: "gmm", K: 2 };
  const out = Float64Array.of(-1, 1.5, 0.2, -0.5, 0.3, -0.4);
  let integral = 0;
  for (let y = -12; y < 12; y += 0.001) integral += Math.exp(logProb(h, out, [y], 1)) * 0.001;
  assert.ok(Math.abs(integral - 1) < 1e-6, `${integral}`);
  let mean = 0, m2 = 0;
  for (let y = -12; y < 12; y += 0.001) {
    const p = Math.exp(logProb(h, out, [y], 1)) * 0.001;
    mean += p * y;
    m2 += p * y * y;
  }
  const draws = 100000, t = new Float32Array(1), r = rngFor({ seed: 8 });
  let s1 = 0, s2 = 0;
  for (let k = 0; k < draws; k++) {
    sampleHead(h, out, 1, r, t);
    s1 += t[0]!;
    s2 += t[0]! ** 2;
  }
  const sd = Math.sqrt(m2 - mean * mean);
  assert.ok(Math.abs(s1 / draws - mean) < 4 * sd / Math.sqrt(draws), `${s1 / draws} vs ${mean}`);
  assert.ok(Math.abs(s2 / draws - m2) < 0.02 * m2);
});

test("training learns a known stochastic inverse: fine = coarse, each site flipped with probability 0.1", () => {
  const spec: NetSpec = { dim: 2, cin: 1, layers: [{ type: "upsample" }, { type: "conv", cin: 1, cout: 1, k: 1 }] };
  const params = initParams(spec, rngFor({ seed: 9 }));
  const adam = adamInit(params.length);
  const r = rngFor({ seed: 10 });
  const L = 4, s: Shape = { D: 1, H: L, W: L }, nf = 4 * L * L;
  for (let step = 0; step < 1500; step++) {
    const g = new Float32Array(params.length);
    for (let b = 0; b < 8; b++) {
      const coarse = Float32Array.from({ length: L * L }, () => (r.u32() & 1 ? 1 : -1));
      const fine = new Float32Array(nf).map((_, i) => coarse[((i % (2 * L)) >> 1) + L * (Math.floor(i / (2 * L)) >> 1)]! * (r.double() < 0.1 ? -1 : 1));
      const t = forward(spec, params, coarse, s);
      const o = output(t).value;
      const go = new Float32Array(o.length);
      logProb({ type: "bernoulli" }, o, fine, nf, go, -1 / (8 * nf));
      backward(spec, params, t, go, g);
    }
    adamStep(params, g, adam, 0.05);
  }
  // q(s = +1 | coarse = +1) = σ(w + b) should approach 0.9, and σ(−w + b) 0.1.
  const w = params[0]!, b = params[1]!;
  assert.equal(paramLayout(spec).total, 2);
  assert.ok(Math.abs(1 / (1 + Math.exp(-(w + b))) - 0.9) < 0.02, `${w} ${b}`);
  assert.ok(Math.abs(1 / (1 + Math.exp(-(-w + b))) - 0.1) < 0.02);
});
