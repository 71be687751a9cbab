// The architecture of a network as plain data (saved in network files): layers, input channels and
// the output head. Kept apart from model.ts so that the fused inference path can use it without a cycle.

import { type Activation } from "./act.js";
import { type HeadSpec } from "./heads.js";

export type LayerSpec =
  /** Periodic stride-1 convolution, odd k ("same" size); k = 1 is pointwise. */
  | { type: "conv"; cin: number; cout: number; k: number }
  /** Periodic stride-2 transposed convolution, k ≥ 2: doubles every spatial size. */
  | { type: "convT"; cin: number; cout: number; k: number }
  /** Nearest-neighbour ×2 upsampling. */
  | { type: "upsample" }
  | { type: "act"; fn: Activation };

export interface ModelSpec {
  dim: 2 | 3;
  /** Input channels (1 for the IRG: the coarse configuration). */
  inChannels: number;
  layers: LayerSpec[];
  /** What the output channels parameterise; absent for a bare network. */
  head?: HeadSpec;
}
