// A sequential convolutional network as JSON data (ModelSpec) plus one flat parameter vector, with
// deterministic He/Glorot initialisation (He et al. 2015; Glorot & Bengio 2010), forward and backward.
//
// Why one flat vector: Adam, checkpoints, gradient checks and (later) summing worker gradients all act
// on a single typed array; `paramIndex` tells each layer where its weights [cout, cin, k^dim] and biases are.

import { type Rng } from "../lattice/rng.js";
import { type Activation, activateInPlace, activationGradInPlace, ACTIVATIONS } from "./act.js";
import { convBackward, convForward, convParamCount } from "./conv.js";
import { convTBackward, convTForward, convTParamCount, upsampleBackward, upsampleForward } from "./convt.js";
import { fusedPlan, predictFused } from "./fused.js";
import { f32Plan, predictF32 } from "./infer.js";
import { headChannels } from "./heads.js";
import { type Arr, type DType, type Tensor, alloc, dtypeOf, layout } from "./tensor.js";

export type { LayerSpec, ModelSpec } from "./spec.js";
import { type LayerSpec, type ModelSpec } from "./spec.js";

export interface ParamIndex {
  /** Start of layer i's parameters (the running total for layers without any). */
  offsets: number[];
  sizes: number[];
  total: number;
}

function layerParamCount(l: LayerSpec, dim: 2 | 3): number {
  if (l.type === "conv") return convParamCount(l, dim);
  if (l.type === "convT") return convTParamCount(l, dim);
  return 0;
}

export function paramIndex(spec: ModelSpec): ParamIndex {
  const offsets: number[] = [], sizes: number[] = [];
  let total = 0;
  for (const l of spec.layers) {
    const n = layerParamCount(l, spec.dim);
    offsets.push(total);
    sizes.push(n);
    total += n;
  }
  return { offsets, sizes, total };
}

export function paramCount(spec: ModelSpec): number {
  return paramIndex(spec).total;
}

/** Validates the channel flow and the head; returns the number of output channels. */
export function checkSpec(spec: ModelSpec): number {
  if (spec.dim !== 2 && spec.dim !== 3) throw new RangeError(`dim must be 2 or 3, got ${spec.dim}`);
  let c = spec.inChannels;
  spec.layers.forEach((l, i) => {
    if (l.type === "conv" || l.type === "convT") {
      if (l.cin !== c) throw new RangeError(`layer ${i} (${l.type}) expects ${l.cin} input channels but receives ${c}`);
      if (!(l.cout >= 1) || !Number.isInteger(l.cout)) throw new RangeError(`layer ${i}: cout must be a positive integer`);
      if (l.type === "conv" && (l.k < 1 || l.k % 2 !== 1)) throw new RangeError(`layer ${i}: conv kernel must be odd, got ${l.k}`);
      if (l.type === "convT" && !(Number.isInteger(l.k) && l.k >= 2)) throw new RangeError(`layer ${i}: convT kernel must be >= 2, got ${l.k}`);
      c = l.cout;
    } else if (l.type === "act" && !ACTIVATIONS.includes(l.fn)) {
      throw new RangeError(`layer ${i}: unknown activation ${String(l.fn)}`);
    }
  });
  if (spec.head && headChannels(spec.head) !== c) throw new RangeError(`the ${spec.head.type} head needs ${headChannels(spec.head)} output channels, the network has ${c}`);
  return c;
}

/** Spatial scale factor of the network (2 per upsample/convT layer). */
export function scaleFactor(spec: ModelSpec): number {
  return 2 ** spec.layers.filter((l) => l.type === "upsample" || l.type === "convT").length;
}

/**
 * Normal weights, biases 0: He (σ² = 2/fan_in) where a ReLU follows, Glorot (σ² = 2/(fan_in + fan_out))
 * otherwise. A stride-2 transposed conv's output sees only one parity of its taps: fan_in = cin·k^dim/2^dim.
 */
export function initParams(spec: ModelSpec, rng: Rng, dtype: DType = "float32"): Arr {
  checkSpec(spec);
  const idx = paramIndex(spec), p = alloc(dtype, idx.total);
  spec.layers.forEach((l, i) => {
    if (l.type !== "conv" && l.type !== "convT") return;
    const kd = l.k ** spec.dim, share = l.type === "convT" ? 2 ** spec.dim : 1;
    const fanIn = (l.cin * kd) / share, fanOut = (l.cout * kd) / share;
    const next = spec.layers[i + 1];
    const sd = next?.type === "act" && next.fn === "relu" ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
    for (let j = 0; j < l.cout * l.cin * kd; j++) p[idx.offsets[i]! + j] = sd * rng.normal();
  });
  return p;
}

/** values[0] is the input, values[i + 1] the output of layer i (shared where an activation ran in place). */
export interface ForwardCache {
  values: Tensor[];
}

function checkInput(spec: ModelSpec, params: Arr, input: Tensor): void {
  const { C } = layout(input.shape, spec.dim);
  if (C !== spec.inChannels) throw new RangeError(`input has ${C} channels, the model expects ${spec.inChannels}`);
  const n = paramCount(spec);
  if (params.length !== n) throw new RangeError(`the model has ${n} parameters, got a vector of ${params.length}`);
  if (dtypeOf(params) !== dtypeOf(input.data)) throw new RangeError("params and input must have the same dtype");
}

/** `fused`: the activation of the next layer, applied by the conv itself chunk by chunk. */
function layerForward(l: LayerSpec, params: Arr, off: number, x: Tensor, inPlace: boolean, fused: Activation): Tensor {
  switch (l.type) {
    case "conv":
      return convForward(l, params, off, x, fused);
    case "convT":
      return convTForward(l, params, off, x);
    case "upsample":
      return upsampleForward(x);
    case "act": {
      const y = inPlace ? x : { shape: x.shape.slice(), data: x.data.slice() as Arr };
      activateInPlace(l.fn, y.data);
      return y;
    }
  }
}

/** Forward pass keeping what backward needs. Pure: `input` and `params` are not modified. */
export function forward(spec: ModelSpec, params: Arr, input: Tensor): { output: Tensor; cache: ForwardCache } {
  checkInput(spec, params, input);
  const { offsets } = paramIndex(spec);
  const values: Tensor[] = [input];
  spec.layers.forEach((l, i) => {
    const prev = spec.layers[i - 1];
    if (l.type === "act" && prev?.type === "conv") {
      // Already applied by the conv (fusedAct): the activation's output is the conv's tensor.
      values.push(values[i]!);
      return;
    }
    // An activation may overwrite its input when that is a fresh tensor no backward step reads
    // (a convT/upsample output); never the caller's input, never another activation's output.
    const inPlace = i > 0 && prev!.type !== "act";
    values.push(layerForward(l, params, offsets[i]!, values[i]!, inPlace, fusedAct(spec, i)));
  });
  return { output: values[values.length - 1]!, cache: { values } };
}

/** The activation a conv at layer i applies itself: that of the next layer, if it is one. */
function fusedAct(spec: ModelSpec, i: number): Activation {
  const l = spec.layers[i]!, next = spec.layers[i + 1];
  return l.type === "conv" && next?.type === "act" ? next.fn : "identity";
}

/**
 * Inference only: no cache. Float32 networks of ReLU convolutions, upsamplings and k = 2 transposed
 * convolutions run on the float32 engine (infer.ts: float32 sums, forward's values to a few ulps of
 * the output's scale); others take training's kernels, the irgNetSpec shape chunk by chunk through all
 * layers (fused.ts), the rest layer by layer with activations in place (forward's values exactly).
 */
export function predict(spec: ModelSpec, params: Arr, input: Tensor): Tensor {
  checkInput(spec, params, input);
  const { offsets } = paramIndex(spec);
  const p32 = params instanceof Float32Array && input.data instanceof Float32Array ? f32Plan(spec, offsets) : null;
  const out = p32 ? predictF32(spec, params as Float32Array, input, p32) : null;
  if (out) return out;
  const plan = fusedPlan(spec, offsets);
  if (plan) return predictFused(spec, params, input, plan);
  let x = input;
  spec.layers.forEach((l, i) => {
    if (l.type === "act" && spec.layers[i - 1]?.type === "conv") return; // fused into the conv
    x = layerForward(l, params, offsets[i]!, x, x !== input, fusedAct(spec, i));
  });
  return x;
}

export interface BackwardOptions {
  /** Compute dL/dinput (default true); training does not need it and skips the first layer's adjoint. */
  inputGrad?: boolean;
}

/**
 * Reverse pass: dL/dparams (a new vector, dtype of params) and dL/dinput (null only when
 * opts.inputGrad is false), from the cache of `forward` and dL/doutput.
 */
export function backward(spec: ModelSpec, params: Arr, cache: ForwardCache, gradOutput: Tensor, opts: BackwardOptions = {}): { gradParams: Arr; gradInput: Tensor | null } {
  const { offsets, sizes } = paramIndex(spec);
  const out = cache.values[cache.values.length - 1]!;
  if (gradOutput.data.length !== out.data.length) throw new RangeError(`gradOutput has ${gradOutput.data.length} values, the output ${out.data.length}`);
  const wantInput = opts.inputGrad !== false;
  // Without an input gradient, layers before the first one with parameters need no backward step.
  const firstParam = sizes.findIndex((n) => n > 0);
  const stop = wantInput || firstParam < 0 ? 0 : firstParam;
  const gradParams = alloc(params, params.length);
  let g: Tensor = gradOutput, owned = false;
  for (let i = spec.layers.length - 1; i >= stop; i--) {
    const l = spec.layers[i]!, x = cache.values[i]!;
    const needX = wantInput || i > stop;
    switch (l.type) {
      case "conv":
        g = convBackward(l, params, offsets[i]!, x, g, gradParams, needX) ?? g;
        owned = true;
        break;
      case "convT":
        g = convTBackward(l, params, offsets[i]!, x, g, gradParams, needX) ?? g;
        owned = true;
        break;
      case "upsample":
        g = upsampleBackward(g);
        owned = true;
        break;
      case "act":
        if (!owned) g = { shape: g.shape.slice(), data: g.data.slice() as Arr };
        activationGradInPlace(l.fn, cache.values[i + 1]!.data, g.data);
        owned = true;
        break;
    }
  }
  return { gradParams, gradInput: wantInput ? g : null };
}
