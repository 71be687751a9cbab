// Gradients of one periodic conv layer (2D and 3D) and of a whole IRG model with the Bernoulli BCE loss
// against jax-js autodiff (float32, wasm backend) — an oracle written by other people. Skipped if jax-js fails to load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rngFor } from "../src/lattice/rng.js";
import { convBackward, convForward } from "../src/nn/conv.js";
import { bernoulliLoss } from "../src/nn/heads.js";
import { irgNetSpec } from "../src/nn/irgnet.js";
import { backward, forward, initParams, paramIndex } from "../src/nn/model.js";
import { type Tensor } from "../src/nn/tensor.js";

// jax-js is an ES module with a huge type surface; only a few calls are used, typed loosely here.
/* eslint-disable @typescript-eslint/no-explicit-any */
type J = any;
let jax: J = null;
let loadError = "";
try {
  // Node 20 has no Float16Array; jax-js only needs the name to exist.
  (globalThis as any).Float16Array ??= class {};
  jax = await import("@jax-js/jax");
  await jax.init("wasm");
} catch (e) {
  loadError = String(e);
  jax = null;
}

const rng = rngFor({ seed: 55 });
const randn32 = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => s * rng.normal());

/** max |a − b| / max |b|: float32 results of two implementations agree to ~1e-7 of the scale. */
function normRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

/** Periodic padding by r on both sides of `axis` (jax-js has no wrap mode: concatenate wrapped slices). */
function wrapPad(x: J, axis: number, r: number, n: number): J {
  if (r === 0) return x;
  const sel = (a: number, b: number): unknown[] => [...Array<unknown>(axis).fill([]), [a, b]];
  const lo = x.ref.slice(...sel(n - r, n)), hi = x.ref.slice(...sel(0, r));
  return jax.numpy.concatenate([lo, x, hi], axis);
}

/** conv(x) + b on the torus, x of shape [N, C, ...spatial], w [cout, cin, k…]. */
function jaxConv(x: J, w: J, b: J, k: number, spatial: number[]): J {
  const r = (k - 1) / 2;
  let xp = x;
  spatial.forEach((n, i) => (xp = wrapPad(xp, 2 + i, r, n)));
  const cout = w.shape[0];
  return jax.lax.conv(xp, w, spatial.map(() => 1), "VALID").add(b.reshape([1, cout, ...spatial.map(() => 1)]));
}

/** Stride-2 transposed conv with k = 2: out[n, co, 2Y + e] = b + Σ_ci w[co, ci, e] x[n, ci, Y], by broadcasting. */
function jaxConvT2(x: J, w: J, b: J, spatial: number[]): J {
  const [N, cin] = x.shape, cout = w.shape[0], d = spatial.length;
  const xs = x.reshape([N, 1, cin, ...spatial.flatMap((n) => [n, 1])]);
  const ws = w.reshape([1, cout, cin, ...spatial.flatMap(() => [1, 2])]);
  const y = xs.mul(ws).sum(2).reshape([N, cout, ...spatial.map((n) => 2 * n)]);
  return y.add(b.reshape([1, cout, ...Array<number>(d).fill(1)]));
}

const arr = (a: Float32Array | Float64Array, shape: number[]): J => jax.numpy.array(a).reshape(shape);

test("one periodic conv layer (2D and 3D, k = 3): gradients equal jax-js autodiff within 1e-5", (t) => {
  if (!jax) {
    t.skip(`jax-js unavailable: ${loadError}`);
    return;
  }
  for (const spatial of [[5, 4], [3, 4, 5]]) {
    const dim = spatial.length as 2 | 3, cin = 2, cout = 3, k = 3, N = 2, kd = k ** dim;
    const x: Tensor = { shape: [N, cin, ...spatial], data: randn32(N * cin * spatial.reduce((a, b) => a * b)) };
    const p = randn32(cout * cin * kd + cout, 0.5);
    const y = convForward({ cin, cout, k }, p, 0, x);
    const r = randn32(y.data.length);
    const gp = new Float32Array(p.length);
    const gx = convBackward({ cin, cout, k }, p, 0, x, { shape: y.shape, data: r }, gp)!;

    const f = (w: J, b: J, xx: J): J => jaxConv(xx, w, b, k, spatial).mul(arr(r, y.shape)).sum();
    const yj = jaxConv(arr(x.data, x.shape), arr(p.slice(0, cout * cin * kd), [cout, cin, ...Array<number>(dim).fill(k)]), arr(p.slice(cout * cin * kd), [cout]), k, spatial);
    assert.ok(normRel(y.data, yj.dataSync()) < 1e-5, `${dim}D forward differs from jax-js`);
    const [gw, gb, gxj] = jax.grad(f, { argnums: [0, 1, 2] })(
      arr(p.slice(0, cout * cin * kd), [cout, cin, ...Array<number>(dim).fill(k)]), arr(p.slice(cout * cin * kd), [cout]), arr(x.data, x.shape));
    const gpj = new Float32Array([...gw.dataSync(), ...gb.dataSync()]);
    assert.ok(normRel(gp, gpj) < 1e-5, `${dim}D dL/dparams differs from jax-js: ${normRel(gp, gpj)}`);
    assert.ok(normRel(gx.data, gxj.dataSync()) < 1e-5, `${dim}D dL/dx differs from jax-js`);
  }
});

test("whole IRG model (conv 3×3 → ReLU → 1×1 → ReLU → convT k=2, Bernoulli BCE): gradients equal jax-js within 1e-5", (t) => {
  if (!jax) {
    t.skip(`jax-js unavailable: ${loadError}`);
    return;
  }
  for (const dim of [2, 3] as const) {
    const spec = irgNetSpec({ dim, head: "bernoulli", hidden: [5, 4] });
    const params = initParams(spec, rngFor({ seed: 8 })) as Float32Array;
    for (let i = 0; i < params.length; i++) params[i] += 0.05 * rng.normal();
    const Lc = dim === 2 ? 5 : 3, N = 3, spatial = Array<number>(dim).fill(Lc);
    const x: Tensor = { shape: [N, 1, ...spatial], data: randn32(N * Lc ** dim) };
    const spins = Float32Array.from({ length: N * (2 * Lc) ** dim }, () => (rng.double() < 0.5 ? 1 : -1));
    const { output, cache } = forward(spec, params, x);
    const { loss, grad } = bernoulliLoss(output, spins);
    const { gradParams, gradInput } = backward(spec, params, cache, grad);

    // The same network in jax-js, its parameters cut from the flat vector in paramIndex order.
    const { offsets } = paramIndex(spec), convs = [0, 2, 4];
    const shapes = convs.map((i) => {
      const l = spec.layers[i] as { cin: number; cout: number; k: number };
      return { i, w: [l.cout, l.cin, ...Array<number>(dim).fill(l.k)], nw: l.cout * l.cin * l.k ** dim, cout: l.cout, k: l.k };
    });
    const tree = shapes.flatMap((s) => [arr(params.slice(offsets[s.i]!, offsets[s.i]! + s.nw), s.w), arr(params.slice(offsets[s.i]! + s.nw, offsets[s.i]! + s.nw + s.cout), [s.cout])]);
    const s = arr(spins, output.shape);
    const lossFn = (ps: J[], xx: J): J => {
      const h1 = jax.nn.relu(jaxConv(xx, ps[0], ps[1], 3, spatial));
      const h2 = jax.nn.relu(jaxConv(h1, ps[2], ps[3], 1, spatial));
      const logits = jaxConvT2(h2, ps[4], ps[5], spatial);
      return jax.nn.softplus(logits.mul(s.ref).neg()).mean();
    };
    const [lj, [gps, gxj]] = jax.valueAndGrad(lossFn, { argnums: [0, 1] })(tree, arr(x.data, x.shape));
    const lv: number = lj.dataSync()[0]; // dataSync hands the array over: read it once
    assert.ok(Math.abs(loss - lv) < 1e-5 * Math.abs(loss), `${dim}D loss ${loss} vs jax-js ${lv}`);
    const gpj = new Float32Array(gps.flatMap((g: J) => [...g.dataSync()]));
    assert.ok(normRel(gradParams, gpj) < 1e-5, `${dim}D dL/dparams differs from jax-js: ${normRel(gradParams, gpj)}`);
    assert.ok(normRel(gradInput!.data, gxj.dataSync()) < 1e-5, `${dim}D dL/dinput differs from jax-js`);
    s.dispose();
  }
});
