// Ready-made inverse-RG generators (b = 2): coarse configuration (1 channel, or q one-hot channels, L/2) in, per-site distribution
// parameters of the fine one (L) out. After Efthymiou, Beach & Melko, PRE 99, 063301 (2019).
//
// Why the default runs its hidden layers on the coarse lattice and upsamples last (stride-2
// transposed conv, k = 2): every fine site is still a function of a coarse neighbourhood, but the
// hidden layers touch 2^dim times fewer sites, which is what makes 512² in a few ms possible.

import { type HeadSpec, headChannels } from "./heads.js";
import { type LayerSpec, type ModelSpec, checkSpec } from "./model.js";

export interface IrgNetOptions {
  dim: 2 | 3;
  head: "bernoulli" | "gaussian-mixture" | "categorical";
  /** States of the categorical head (Potts q). */
  classes?: number;
  /** Input channels: 1 (the coarse value) or q (one-hot coarse states). Default 1. */
  inChannels?: number;
  /** Mixture components K (gaussian-mixture only; 1 = a plain Gaussian). Default 2. */
  components?: number;
  /** Hidden channels; the first layer has kernel `kernel`, the others are 1×1. Default DEFAULT_HIDDEN. */
  hidden?: number[];
  /** Kernel of the first hidden conv (odd). Default 3 (a 3^dim coarse neighbourhood). */
  kernel?: number;
  /**
   * "transposed" (default): hidden layers on the coarse lattice, then a stride-2 transposed conv to
   * the head channels. "nearest": ×2 nearest upsampling first, hidden layers and a final conv on the
   * fine lattice (the Efthymiou et al. layout; 2^dim times the work per hidden layer).
   */
  upsample?: "transposed" | "nearest";
  /** Kernel of the output layer: transposed conv (≥ 2, default 2) or final conv (odd, default 3). */
  outKernel?: number;
  /** Hidden activation; default "relu". */
  activation?: "relu" | "tanh" | "softplus";
}

/**
 * [8, 8]: a two-hidden-layer MLP of width 8 on the 3^dim coarse neighbourhood of each block (185
 * parameters in 2D with the Bernoulli head). Chosen for speed: generating a 512² configuration takes
 * ~42 multiply-adds per fine site, which single-threaded JS (~1–2 GMAC/s) turns into the project's 10 ms
 * target; [16, 16] takes ~2.4× the time (bench/nn.ts). Pass `hidden` for more capacity.
 */
export const DEFAULT_HIDDEN: readonly number[] = [8, 8];

export function irgNetSpec(o: IrgNetOptions): ModelSpec {
  const head: HeadSpec = o.head === "bernoulli" ? { type: "bernoulli" } : o.head === "categorical" ? { type: "categorical", classes: o.classes ?? 2 } : { type: "gaussian-mixture", components: o.components ?? 2 };
  const hidden = o.hidden ?? DEFAULT_HIDDEN;
  if (hidden.length === 0) throw new RangeError("irgNetSpec needs at least one hidden layer");
  const k = o.kernel ?? 3, up = o.upsample ?? "transposed", fn = o.activation ?? "relu";
  const layers: LayerSpec[] = [];
  if (up === "nearest") layers.push({ type: "upsample" });
  let c = o.inChannels ?? 1;
  hidden.forEach((h, i) => {
    layers.push({ type: "conv", cin: c, cout: h, k: i === 0 ? k : 1 }, { type: "act", fn });
    c = h;
  });
  const C = headChannels(head);
  if (up === "nearest") layers.push({ type: "conv", cin: c, cout: C, k: o.outKernel ?? 3 });
  else layers.push({ type: "convT", cin: c, cout: C, k: o.outKernel ?? 2 });
  const spec: ModelSpec = { dim: o.dim, inChannels: o.inChannels ?? 1, layers, head };
  checkSpec(spec);
  return spec;
}

/**
 * The Efthymiou et al. (2019) network: ×2 upsampling → conv 5×5 (64) → ReLU → 1×1 (32) → ReLU → 3×3 →
 * head; 4033 parameters in 2D with the Bernoulli head.
 */
export function efthymiouSpec(dim: 2 | 3 = 2, head: IrgNetOptions["head"] = "bernoulli", components?: number): ModelSpec {
  return irgNetSpec({ dim, head, components, hidden: [64, 32], kernel: 5, upsample: "nearest", outKernel: 3 });
}
