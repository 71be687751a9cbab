// An inverse-RG network: architecture (with its output head), weights, input normalisation and what
// it was trained on; the gradient of the training loss over a batch of pairs; and the InverseMap that
// samples fine configurations with it. The engine is src/nn (periodic convolutions, exact heads).

import { type Rng, rngFor } from "../lattice/rng.js";
import { backward, forward, initParams, type ModelSpec, predict } from "../nn/model.js";
import { type HeadSpec, headLoss, headSample } from "../nn/heads.js";
import { irgNetSpec } from "../nn/irgnet.js";
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

function coarseShape(dim: number, n: number, Lc: number, C: number): number[] {
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
  const input = { shape: coarseShape(set.dim, n, Lc, net.spec.inChannels), data: net.spec.inChannels === 1 ? coarse : encodeInput(net, coarse, n, Vc) };
  const head = headOf(net);
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

/** The network as an inverse map: fine sites drawn independently from the head given the coarse configuration. */
export function networkMap(net: Network): InverseMap {
  const head = headOf(net);
  return {
    model: net.model,
    dim: net.dim,
    sample(coarse, L, rng, out) {
      const c = encodeInput(net, coarse, 1, L ** net.dim);
      const o = predict(net.spec, net.params, { shape: coarseShape(net.dim, 1, L, net.spec.inChannels), data: c });
      const { sample, logProb } = headSample(head, o, rng);
      out.set(sample as never);
      return logProb[0]!;
    },
    describe: () => ({
      generator: "network",
      network_input_scale: net.inputScale,
      network_head: head.type === "gaussian-mixture" ? `gaussian-mixture K=${head.components}` : head.type === "categorical" ? `categorical q=${head.classes}` : "bernoulli",
      network_params: net.params.length,
      ...Object.fromEntries(Object.entries(net.training).map(([k, v]) => [`network_${k}`, v])),
    }),
  };
}
