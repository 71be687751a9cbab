// An inverse-RG network: architecture (with its output head), weights, input normalisation and what
// it was trained on; the gradient of the training loss over a batch of pairs; and the InverseMap that
// samples fine configurations with it. The engine is src/nn (periodic convolutions, exact heads).

import { type Rng, rngFor } from "../lattice/rng.js";
import { backward, checkSpec, forward, initParams, type ModelSpec, predict } from "../nn/model.js";
import { type HeadSpec, headChannels, headLogProb, headLoss, headSample } from "../nn/heads.js";
import { irgNetSpec } from "../nn/irgnet.js";
import { type Tensor } from "../nn/tensor.js";
import { type InverseMap, type NetworkModel } from "./generator.js";
import { augmentPair, cubeSymmetries, type PairSet } from "./dataset.js";

export interface Network {
  /** What it generates, as the model's descriptor names it (overlap: spin-glass overlap fields of "ea" ensembles). */
  model: NetworkModel;
  dim: 2 | 3;
  /** Architecture including the output head. */
  spec: ModelSpec;
  params: Float32Array;
  /**
   * Factor applied to an input configuration before the network sees it: rms(blocked)/rms(original)
   * of the training data. Training inputs are blocked configurations, but generation feeds originals
   * (and then generated ones, which imitate originals); without it the mismatch of field normalisation
   * between blocked and original configurations compounds at every step.
   */
  inputScale: number;
  /** Provenance: data, couplings, training settings and results. */
  training: Record<string, string | number>;
  /**
   * The second stage of a two-stage generator: a network on the fine lattice that redraws the odd sites
   * (x + y (+ z) odd) given the coarse configuration and the even sites of the first stage. Every
   * nearest-neighbour pair has one site of each parity, so the second stage carries the short-range
   * correlations that a product over sites given the coarse configuration cannot. Its output is a
   * correction added to the first stage's head parameters (zero at the start of training), so the odd
   * sites keep what the first stage knows of the long range. Absent: one stage.
   */
  stage2?: { spec: ModelSpec; params: Float32Array; training: Record<string, string | number> };
  /** Set on the second stage's own Network while it is trained: the fixed first stage it corrects. */
  first?: { spec: ModelSpec; params: Float32Array };
}

export interface ArchOptions {
  dim: 2 | 3;
  model: NetworkModel;
  /** The output head (from the model's descriptor): spins, states or fields. */
  head: HeadSpec;
  /** One-hot input over this many states (categorical models); absent: the coarse value itself. */
  inputStates?: number;
  hidden?: number;
  kernel?: number;
}

export function headOf(net: Network): HeadSpec {
  if (!net.spec.head) throw new RangeError("the network has no output head");
  return net.spec.head;
}

/**
 * The default generator: two hidden layers on the coarse lattice (a k^d convolution, then 1×1, ReLU)
 * and a stride-2 transposed convolution to the head's channels — a Bernoulli per site for spins, a
 * softmax over q states for Potts states, a mixture of Gaussians per site for fields. Hidden 16,
 * k = 5 by default: a fine site sees a 5^d coarse neighbourhood.
 */
export function defaultNetwork(a: ArchOptions, seed: number): Network {
  const h = a.hidden ?? 16;
  const spec = irgNetSpec({
    dim: a.dim,
    head: a.head.type,
    components: a.head.type === "gaussian-mixture" ? a.head.components : undefined,
    classes: a.head.type === "categorical" ? a.head.classes : undefined,
    inChannels: a.inputStates ?? 1,
    hidden: [h, h],
    kernel: a.kernel ?? 5,
  });
  return { model: a.model, dim: a.dim, spec, params: initParams(spec, rngFor({ seed, task: 9000 })) as Float32Array, inputScale: 1, training: {} };
}

/**
 * The network's input for n coarse configurations of Vc sites: the values times `inputScale` (one
 * channel), or one-hot states (q channels, when the spec has q input channels).
 */
export function encodeInput(net: Network, coarse: ArrayLike<number>, n: number, Vc: number): Float32Array {
  const C = net.spec.inChannels;
  if (C === 1) return Float32Array.from(coarse, (v) => v * net.inputScale);
  const out = new Float32Array(n * C * Vc);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < Vc; i++) {
      const v = coarse[b * Vc + i]!;
      if (!(Number.isInteger(v) && v >= 0 && v < C)) throw new RangeError(`a one-hot input takes states 0..${C - 1}, got ${v}`);
      out[(b * C + v) * Vc + i] = 1;
    }
  }
  return out;
}

/** The tensor shape of n coarse configurations of linear size Lc with C input channels. */
export function coarseShape(dim: number, n: number, Lc: number, C: number): number[] {
  return dim === 3 ? [n, C, Lc, Lc, Lc] : [n, C, Lc, Lc];
}

/** Scratch buffers for augmented batches of one set. */
export interface Scratch {
  symC: Int32Array[];
  symF: Int32Array[];
}

export function scratchFor(set: PairSet): Scratch {
  return { symC: cubeSymmetries(set.L / 2, set.dim), symF: cubeSymmetries(set.L, set.dim) };
}

/**
 * The mean negative log-likelihood per fine site over the pairs `indices` (returned as the sum over
 * sites); with `grad` its gradient is added there, scaled by `weight` (the batch's share of the step).
 * With `rng` every pair is augmented by a random lattice symmetry and sign flip.
 */
export function batchGradient(net: Network, set: PairSet, indices: ArrayLike<number>, grad: Float32Array | null, weight: number, rng: Rng | null, sc: Scratch): number {
  const n = indices.length;
  if (n === 0) return 0;
  const Lc = set.L / 2, V = set.L ** set.dim, Vc = Lc ** set.dim;
  const coarse = new Float32Array(n * Vc), fine = new Float32Array(n * V);
  for (let b = 0; b < n; b++) {
    const k = indices[b]!;
    const c = coarse.subarray(b * Vc, (b + 1) * Vc), f = fine.subarray(b * V, (b + 1) * V);
    if (rng) augmentPair(set, k, sc.symC, sc.symF, rng, c, f);
    else {
      c.set(set.coarse.subarray(k * Vc, (k + 1) * Vc));
      f.set(set.fine.subarray(k * V, (k + 1) * V));
    }
  }
  const head = headOf(net);
  if (net.first) return stage2Gradient(net, head, coarse, fine, n, set.L, grad, weight);
  const input = { shape: coarseShape(set.dim, n, Lc, net.spec.inChannels), data: net.spec.inChannels === 1 ? coarse : encodeInput(net, coarse, n, Vc) };
  if (!grad) {
    const out = predict(net.spec, net.params, input);
    return headLoss(head, out, fine).loss * n * V;
  }
  const { output, cache } = forward(net.spec, net.params, input);
  const { loss, grad: gOut } = headLoss(head, output, fine);
  const { gradParams } = backward(net.spec, net.params, cache, gOut, { inputGrad: false });
  for (let i = 0; i < grad.length; i++) grad[i]! += weight * gradParams[i]!;
  return loss * n * V;
}

/**
 * The second stage's loss: the NLL of the odd sites given the coarse configuration and the even sites
 * (returned as mean per odd site times n·V, as batchGradient returns the first stage's), and its gradient.
 */
function stage2Gradient(net: Network, head: HeadSpec, coarse: Float32Array, fine: Float32Array, n: number, L: number, grad: Float32Array | null, weight: number): number {
  const first = { ...net, spec: net.first!.spec, params: net.first!.params };
  const input = stage2Input(first, coarse, fine, n, L);
  const o1 = predict(first.spec, first.params, { shape: coarseShape(net.dim, n, L / 2, first.spec.inChannels), data: first.spec.inChannels === 1 ? coarse : encodeInput(first, coarse, n, (L / 2) ** net.dim) });
  const odd = oddSites(net.dim, L), V = L ** net.dim, nOdd = odd.reduce((a, v) => a + v, 0);
  if (!grad) {
    const out = withCorrection(o1, predict(net.spec, net.params, input));
    const lp = headLogProb(head, out, fine, odd);
    return (-lp.reduce((a, v) => a + v, 0) / (n * nOdd)) * n * V;
  }
  const { output, cache } = forward(net.spec, net.params, input);
  // The correction's gradient is that of the corrected parameters (the first stage is fixed).
  const corrected = withCorrection(o1, output);
  const lp = headLogProb(head, corrected, fine, odd);
  const { grad: gOut } = headLoss(head, corrected, fine);
  // headLoss is the mean over all sites: keep the odd sites' part, as a mean over odd sites.
  const C = gOut.shape[1]!, scale = V / nOdd;
  for (let b = 0; b < n; b++) for (let c = 0; c < C; c++) {
    const o = (b * C + c) * V;
    for (let i = 0; i < V; i++) gOut.data[o + i] = odd[i] ? gOut.data[o + i]! * scale : 0;
  }
  const { gradParams } = backward(net.spec, net.params, cache, gOut, { inputGrad: false });
  for (let i = 0; i < grad.length; i++) grad[i]! += weight * gradParams[i]!;
  return (-lp.reduce((a, v) => a + v, 0) / (n * nOdd)) * n * V;
}

/**
 * Runs a network elsewhere (a GPU): `predict` returns the tensors nn/model.ts predict returns; `sample`
 * also draws from the head there (its own random numbers from `key`) and returns ln q of the draw.
 */
export interface NetworkDevice {
  predict(spec: Network["spec"], params: Float32Array, input: Tensor): Promise<Tensor>;
  sample(spec: Network["spec"], params: Float32Array, input: Tensor, key: readonly [number, number]): Promise<{ sample: Float32Array; logProb: Float64Array }>;
}

/**
 * The network as an inverse map: fine sites drawn independently from the head given the coarse
 * configuration; with a second stage, the odd sites are then redrawn given the coarse configuration and
 * the even sites, and ln q is the sum of the two stages' terms (each over its own sites). With a
 * `device` (a GPU), `sampleAsync` runs there: a one-stage network draws from its head there too (Philox
 * numbers keyed by two draws of `rng`); a two-stage one runs its forward passes there and draws here
 * with the same streams as `sample`.
 */
export function networkMap(net: Network, device?: NetworkDevice): InverseMap {
  const head = headOf(net);
  const firstInput = (coarse: ArrayLike<number>, L: number): Tensor => ({ shape: coarseShape(net.dim, 1, L, net.spec.inChannels), data: encodeInput(net, coarse, 1, L ** net.dim) });
  /** The first stage's draw; finished here for one stage, else its ln q over the even sites and the second stage's input. */
  const firstStage = (coarse: ArrayLike<number>, L: number, o: Tensor, rng: Rng, out: Float32Array | Int8Array): { lq: number; sample: Int8Array | Float32Array; next?: Tensor } => {
    const { sample, logProb } = headSample(head, o, rng);
    if (!net.stage2) {
      out.set(sample as never);
      return { lq: logProb[0]!, sample };
    }
    const Lf = 2 * L;
    return { lq: headLogProb(head, o, sample, evenSites(net.dim, Lf))[0]!, sample, next: stage2Input(net, coarse, sample, 1, Lf) };
  };
  const secondStage = (L: number, o: Tensor, correction: Tensor, first: { lq: number; sample: Int8Array | Float32Array }, rng: Rng, out: Float32Array | Int8Array): number => {
    const odd = oddSites(net.dim, 2 * L), { sample } = first;
    const o2 = withCorrection(o, correction);
    const second = headSample(head, o2, rng).sample;
    for (let i = 0; i < odd.length; i++) if (odd[i]) sample[i] = second[i]!;
    out.set(sample as never);
    return first.lq + headLogProb(head, o2, sample, odd)[0]!;
  };
  return {
    model: net.model,
    dim: net.dim,
    sample(coarse, L, rng, out) {
      const o = predict(net.spec, net.params, firstInput(coarse, L));
      const first = firstStage(coarse, L, o, rng, out);
      if (!first.next) return first.lq;
      return secondStage(L, o, predict(net.stage2!.spec, net.stage2!.params, first.next), first, rng, out);
    },
    ...(device
      ? {
          async sampleAsync(coarse: ArrayLike<number>, L: number, rng: Rng, out: Float32Array | Int8Array): Promise<number> {
            if (!net.stage2) {
              const r = await device.sample(net.spec, net.params, firstInput(coarse, L), [rng.u32(), rng.u32()]);
              out.set(r.sample);
              return r.logProb[0]!;
            }
            const o = await device.predict(net.spec, net.params, firstInput(coarse, L));
            const first = firstStage(coarse, L, o, rng, out);
            if (!first.next) return first.lq;
            return secondStage(L, o, await device.predict(net.stage2!.spec, net.stage2!.params, first.next), first, rng, out);
          },
        }
      : {}),
    describe: () => ({
      generator: "network",
      network_input_scale: net.inputScale,
      network_head: head.type === "gaussian-mixture" ? `gaussian-mixture K=${head.components}` : head.type === "categorical" ? `categorical q=${head.classes}` : "bernoulli",
      network_params: net.params.length + (net.stage2?.params.length ?? 0),
      network_stages: net.stage2 ? 2 : 1,
      ...Object.fromEntries(Object.entries(net.training).map(([k, v]) => [`network_${k}`, v])),
    }),
  };
}

// ---------- The two-stage generator ----------

/** Input channels of the second stage: the coarse value (or one-hot state) of the site's block, the first stage's value at even sites (0 at odd), and the even-site mask. */
function stage2Channels(inChannels: number): number {
  return 2 * inChannels + 1;
}

/**
 * The second stage's architecture on the fine lattice: a k^d convolution over the 3 (or 2q + 1) input
 * channels, hidden 1×1 layers (ReLU), and a 3^d output convolution to the head's channels.
 */
function stage2Spec(first: ModelSpec, hidden = 16, kernel = 3): ModelSpec {
  const head = first.head!;
  const cin = stage2Channels(first.inChannels);
  const spec: ModelSpec = {
    dim: first.dim, inChannels: cin, head,
    layers: [{ type: "conv", cin, cout: hidden, k: kernel }, { type: "act", fn: "relu" }, { type: "conv", cin: hidden, cout: hidden, k: 1 }, { type: "act", fn: "relu" }, { type: "conv", cin: hidden, cout: headChannels(head), k: 3 }],
  };
  checkSpec(spec);
  return spec;
}

const parityCache = new Map<string, Uint8Array>();

/** 1 at the odd sites (x + y (+ z) odd) of the fine lattice L^dim, which the second stage draws. */
function oddSites(dim: 2 | 3, L: number): Uint8Array {
  const key = `${dim}:${L}`;
  let m = parityCache.get(key);
  if (!m) {
    const V = L ** dim;
    m = new Uint8Array(V);
    for (let i = 0; i < V; i++) m[i] = ((i % L) + (Math.floor(i / L) % L) + (dim === 3 ? Math.floor(i / (L * L)) : 0)) & 1;
    if (parityCache.size > 16) parityCache.clear();
    parityCache.set(key, m);
  }
  return m;
}

/** The complement of `oddSites`: the even sites, which the first stage draws. */
function evenSites(dim: 2 | 3, L: number): Uint8Array {
  return oddSites(dim, L).map((v) => 1 - v);
}

/**
 * The second stage's input for n pairs on the fine lattice L: channel block 0 the coarse value (times
 * `inputScale`) or one-hot state of each site's block, block 1 the fine value (or one-hot state) at even
 * sites and 0 at odd ones, last channel 1 at even sites.
 */
function stage2Input(net: Network, coarse: ArrayLike<number>, fine: ArrayLike<number>, n: number, L: number): Tensor {
  const dim = net.dim, V = L ** dim, Lc = L / 2, Vc = Lc ** dim, C = net.spec.inChannels, C2 = stage2Channels(C);
  const odd = oddSites(dim, L);
  const out = new Float32Array(n * C2 * V);
  for (let b = 0; b < n; b++) {
    const base = b * C2 * V;
    for (let i = 0; i < V; i++) {
      const x = i % L, y = Math.floor(i / L) % L, z = dim === 3 ? Math.floor(i / (L * L)) : 0;
      const c = coarse[b * Vc + (x >> 1) + Lc * (y >> 1) + Lc * Lc * (z >> 1)]!;
      const f = fine[b * V + i]!;
      const even = odd[i] === 0;
      if (C === 1) {
        out[base + i] = c * net.inputScale;
        if (even) out[base + V + i] = f;
      } else {
        out[base + c * V + i] = 1;
        if (even) out[base + (C + f) * V + i] = 1;
      }
      if (even) out[base + (C2 - 1) * V + i] = 1;
    }
  }
  return { shape: dim === 3 ? [n, C2, L, L, L] : [n, C2, L, L], data: out };
}

/**
 * The second stage as a Network of its own, trained by the same loop (`first` selects its loss). Its
 * output layer starts at zero, so training starts from the first stage's distribution of the odd sites.
 */
export function stage2Network(first: Network, hidden?: number, seed = 1): Network {
  const spec = stage2Spec(first.spec, hidden);
  const params = initParams(spec, rngFor({ seed, task: 9001 })) as Float32Array;
  const last = spec.layers.at(-1)!;
  if (last.type === "conv") params.fill(0, params.length - (last.cout * last.cin * last.k ** spec.dim + last.cout));
  return { model: first.model, dim: first.dim, spec, params, inputScale: first.inputScale, training: {}, first: { spec: first.spec, params: first.params } };
}

/** The first stage's head parameters plus the second stage's correction (a new tensor). */
function withCorrection(o1: Tensor, correction: Tensor): Tensor {
  const data = new Float32Array(o1.data.length);
  for (let i = 0; i < data.length; i++) data[i] = o1.data[i]! + correction.data[i]!;
  return { shape: correction.shape, data };
}

/**
 * ln q(fine | coarse) of a network's map for a given fine configuration of size 2L: the head's density
 * over all sites (one stage), or the first stage's over the even sites plus the second's over the odd
 * ones given the even ones. Equals what `networkMap(net).sample` returns for its draws.
 */
export function networkLogProb(net: Network, coarse: ArrayLike<number>, L: number, fine: ArrayLike<number>): number {
  const head = headOf(net), Lf = 2 * L;
  const o = predict(net.spec, net.params, { shape: coarseShape(net.dim, 1, L, net.spec.inChannels), data: encodeInput(net, coarse, 1, L ** net.dim) });
  if (!net.stage2) return headLogProb(head, o, fine)[0]!;
  const o2 = withCorrection(o, predict(net.stage2.spec, net.stage2.params, stage2Input(net, coarse, fine, 1, Lf)));
  return headLogProb(head, o, fine, evenSites(net.dim, Lf))[0]! + headLogProb(head, o2, fine, oddSites(net.dim, Lf))[0]!;
}
