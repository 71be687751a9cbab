// A sequential convolutional network as plain data (JSON-serialisable spec + one flat parameter
// vector), with forward and backward passes and Adam (Kingma & Ba, ICLR 2015). Efthymiou, Beach &
// Melko, PRE 99, 063301 (2019) for the inverse-RG architecture: ×2 upsampling followed by convolutions.

import { type Rng } from "../../lattice/rng.js";
import {
  type Activation, activationBackward, activationForward, type Arr, convBackward, convForward, type ConvParams, convSize,
  type Shape, sites, upsampleBackward, upsampleForward, upShape,
} from "./layers.js";

export type LayerSpec =
  | { type: "conv"; cin: number; cout: number; k: number }
  | { type: "upsample" }
  | { type: "act"; fn: Activation };

export interface NetSpec {
  dim: 2 | 3;
  /** Input channels (1: the coarse configuration). */
  cin: number;
  layers: LayerSpec[];
}

/** Offsets of every conv layer's parameters in the flat vector, and the total. */
export function paramLayout(spec: NetSpec): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const l of spec.layers) {
    offsets.push(total);
    if (l.type === "conv") total += convSize({ ...l, dim: spec.dim });
  }
  return { offsets, total };
}

/** Checks channel counts along the network; returns the output channels. */
export function checkSpec(spec: NetSpec): number {
  let c = spec.cin;
  for (const l of spec.layers) {
    if (l.type === "conv") {
      if (l.cin !== c) throw new RangeError(`conv layer expects ${l.cin} input channels but receives ${c}`);
      if (l.k % 2 !== 1) throw new RangeError(`kernel size must be odd, got ${l.k}`);
      c = l.cout;
    }
  }
  return c;
}

/** He initialisation for layers followed by ReLU, Glorot otherwise; biases 0. Deterministic from `rng`. */
export function initParams(spec: NetSpec, rng: Rng): Float32Array {
  checkSpec(spec);
  const { offsets, total } = paramLayout(spec);
  const p = new Float32Array(total);
  spec.layers.forEach((l, i) => {
    if (l.type !== "conv") return;
    const kd = l.k ** (spec.dim === 3 ? 3 : 2);
    const fanIn = l.cin * kd, fanOut = l.cout * kd;
    const next = spec.layers[i + 1];
    const sd = next?.type === "act" && next.fn === "relu" ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
    for (let j = 0; j < l.cout * fanIn; j++) p[offsets[i]! + j] = sd * rng.normal();
  });
  return p;
}

/** Activations of every layer boundary (values[0] = input), with their channel counts and shapes. */
export interface Trace {
  values: Arr[];
  channels: number[];
  shapes: Shape[];
}

function convP(l: LayerSpec & { type: "conv" }, dim: number): ConvParams {
  return { cin: l.cin, cout: l.cout, k: l.k, dim };
}

/**
 * Forward pass of one sample. With `keep` every intermediate is kept for backward; without, two
 * buffers alternate (inference on large lattices). The output is [channels, fine lattice].
 */
export function forward(spec: NetSpec, params: Arr, input: Arr, s: Shape, keep = true): Trace {
  const { offsets } = paramLayout(spec);
  const make = (n: number): Arr => (params instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
  const trace: Trace = { values: [input], channels: [spec.cin], shapes: [s] };
  let x = input, c = spec.cin, shape = s;
  spec.layers.forEach((l, i) => {
    let y: Arr;
    if (l.type === "conv") {
      y = make(l.cout * sites(shape));
      convForward(convP(l, spec.dim), params, offsets[i]!, x, shape, y);
      c = l.cout;
    } else if (l.type === "upsample") {
      const t = upShape(shape, spec.dim);
      y = make(c * sites(t));
      upsampleForward(c, shape, spec.dim, x, y);
      shape = t;
    } else {
      // Activations work in place unless the input must be kept.
      y = keep ? x.slice() : x;
      activationForward(l.fn, y, c * sites(shape));
    }
    if (keep) {
      trace.values.push(y);
      trace.channels.push(c);
      trace.shapes.push(shape);
    } else {
      trace.values = [y];
      trace.channels = [c];
      trace.shapes = [shape];
    }
    x = y;
  });
  return trace;
}

/** Output of a trace: [channels, sites] and the output shape. */
export function output(t: Trace): { value: Arr; channels: number; shape: Shape } {
  const k = t.values.length - 1;
  return { value: t.values[k]!, channels: t.channels[k]!, shape: t.shapes[k]! };
}

/** Backward pass of one sample: adds dLoss/dparams into `grad` given dLoss/doutput. */
export function backward(spec: NetSpec, params: Arr, t: Trace, gradOut: Arr, grad: Arr): Arr {
  const { offsets } = paramLayout(spec);
  const make = (n: number): Arr => (params instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
  let g: Arr = gradOut.slice();
  for (let i = spec.layers.length - 1; i >= 0; i--) {
    const l = spec.layers[i]!;
    const xin = t.values[i]!, shapeIn = t.shapes[i]!, cIn = t.channels[i]!;
    if (l.type === "conv") {
      const gi = i > 0 ? make(cIn * sites(shapeIn)) : make(cIn * sites(shapeIn));
      convBackward(convP(l, spec.dim), params, offsets[i]!, xin, shapeIn, g, grad, gi);
      g = gi;
    } else if (l.type === "upsample") {
      const gi = make(cIn * sites(shapeIn));
      upsampleBackward(cIn, shapeIn, spec.dim, g, gi);
      g = gi;
    } else {
      activationBackward(l.fn, t.values[i + 1]!, g, cIn * sites(shapeIn));
    }
  }
  return g;
}

/** Adam state over the flat parameter vector (JSON-serialisable through Array.from). */
export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  step: number;
}

export function adamInit(n: number): AdamState {
  return { m: new Float64Array(n), v: new Float64Array(n), step: 0 };
}

/** One Adam update of `params` with gradient `grad`. */
export function adamStep(params: Float32Array, grad: ArrayLike<number>, st: AdamState, lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
  st.step++;
  const c1 = 1 - beta1 ** st.step, c2 = 1 - beta2 ** st.step;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i]!;
    st.m[i] = beta1 * st.m[i]! + (1 - beta1) * g;
    st.v[i] = beta2 * st.v[i]! + (1 - beta2) * g * g;
    params[i]! -= (lr * (st.m[i]! / c1)) / (Math.sqrt(st.v[i]! / c2) + eps);
  }
}
