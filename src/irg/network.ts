// An inverse-RG network: architecture, head and weights plus what it was trained on; the gradient of
// the training loss over a batch of pairs; and the InverseMap that samples fine configurations with it.

import { type Rng, rngFor } from "../lattice/rng.js";
import { type Shape } from "./net/layers.js";
import { backward, checkSpec, forward, initParams, type NetSpec, output } from "./net/model.js";
import { type Head, headChannels, logProb, sampleHead } from "./net/heads.js";
import { type InverseMap } from "./generator.js";
import { augmentPair, cubeSymmetries, type PairSet } from "./dataset.js";

export interface Network {
  model: "phi4" | "ising";
  dim: 2 | 3;
  spec: NetSpec;
  head: Head;
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
  model: "phi4" | "ising";
  hidden?: number;
  kernel?: number;
  components?: number;
}

/**
 * The default generator: ×2 nearest upsampling, a k^d convolution (hidden channels), ReLU, a 1×1
 * convolution, ReLU, and a 3^d convolution to the head's channels — Efthymiou et al.'s architecture
 * narrowed (8 instead of 64/32 channels) so that training and generation run in minutes on a laptop.
 */
export function defaultNetwork(a: ArchOptions, seed: number): Network {
  const head: Head = a.model === "ising" ? { type: "bernoulli" } : { type: "gmm", K: a.components ?? 2 };
  const h = a.hidden ?? 8, k = a.kernel ?? 5;
  const spec: NetSpec = {
    dim: a.dim,
    cin: 1,
    layers: [
      { type: "upsample" },
      { type: "conv", cin: 1, cout: h, k },
      { type: "act", fn: "relu" },
      { type: "conv", cin: h, cout: h, k: 1 },
      { type: "act", fn: "relu" },
      { type: "conv", cin: h, cout: headChannels(head), k: 3 },
    ],
  };
  checkSpec(spec);
  return { model: a.model, dim: a.dim, spec, head, params: initParams(spec, rngFor({ seed, task: 9000 })), inputScale: 1, training: {} };
}

function coarseShape(dim: number, Lc: number): Shape {
  return { D: dim === 3 ? Lc : 1, H: Lc, W: Lc };
}

/** Scratch buffers for augmented pairs of one set. */
export interface Scratch {
  coarse: Float32Array;
  fine: Float32Array;
  symC: Int32Array[];
  symF: Int32Array[];
}

export function scratchFor(set: PairSet): Scratch {
  const Lc = set.L / 2;
  return { coarse: new Float32Array(Lc ** set.dim), fine: new Float32Array(set.L ** set.dim), symC: cubeSymmetries(Lc, set.dim), symF: cubeSymmetries(set.L, set.dim) };
}

/**
 * Adds the gradient of the mean negative log-likelihood per site over `indices` into `grad` and
 * returns the summed negative log-likelihood. With `rng` every pair is augmented by a random lattice
 * symmetry and sign flip; without, pairs are used as they are (validation).
 */
export function batchGradient(net: Network, set: PairSet, indices: ArrayLike<number>, grad: Float32Array | null, scale: number, rng: Rng | null, sc: Scratch): number {
  const Lc = set.L / 2, V = set.L ** set.dim, Vc = Lc ** set.dim;
  const s = coarseShape(set.dim, Lc);
  let nll = 0;
  for (let b = 0; b < indices.length; b++) {
    const k = indices[b]!;
    if (rng) augmentPair(set, k, sc.symC, sc.symF, rng, sc.coarse, sc.fine);
    else {
      sc.coarse.set(set.coarse.subarray(k * Vc, (k + 1) * Vc));
      sc.fine.set(set.fine.subarray(k * V, (k + 1) * V));
    }
    const t = forward(net.spec, net.params, sc.coarse, s, grad !== null);
    const o = output(t).value;
    if (!grad) {
      nll -= logProb(net.head, o, sc.fine, V);
      continue;
    }
    const g = new Float32Array(o.length);
    nll -= logProb(net.head, o, sc.fine, V, g, -scale);
    backward(net.spec, net.params, t, g, grad);
  }
  return nll;
}

/** The network as an inverse map: fine sites drawn independently from the head given the coarse configuration. */
export function networkMap(net: Network): InverseMap {
  return {
    model: net.model,
    dim: net.dim,
    sample(coarse, L, rng, out) {
      const c = Float32Array.from(coarse as ArrayLike<number>, (v) => v * net.inputScale);
      const o = output(forward(net.spec, net.params, c, coarseShape(net.dim, L), false)).value;
      return sampleHead(net.head, o, (2 * L) ** net.dim, rng, out);
    },
    describe: () => ({ generator: "network", network_input_scale: net.inputScale, network_head: net.head.type === "gmm" ? `gmm K=${net.head.K}` : "bernoulli", network_params: net.params.length, ...prefixed(net.training) }),
  };
}

function prefixed(r: Record<string, string | number>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [`network_${k}`, v]));
}
