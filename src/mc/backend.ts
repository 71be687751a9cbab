// Where the kernels that have a GPU version run. The CPU back-end holds their references; the GPU
// back-end (gpu/backend.ts) implements the same factories, equal to them bit for bit.

import { type ModelSpec } from "../nn/spec.js";
import { type Tensor } from "../nn/tensor.js";
import { type MsKernelFactory } from "./ea-multispin-sampler.js";
import { cpuPackedKernel, type PackedKernelFactory } from "./packed-checkerboard.js";

/**
 * A device failed during a run (a validation or out-of-memory error, a lost device): the run's last
 * checkpoint stays valid, so it is kept and the run can resume (exit code 5).
 */
export class GpuError extends Error {
  override name = "GpuError";
}

export const BACKENDS = ["auto", "cpu", "gpu"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface Backend {
  readonly name: "cpu" | "gpu";
  /** The device in words, for logs and benchmark tables. */
  readonly device: string;
  /** The packed checkerboard Ising kernel (2D, 3D; Metropolis and heat bath). */
  readonly packedCheckerboard: PackedKernelFactory;
  /** The spin-glass multi-spin sweep (absent on the CPU: the model then picks its CPU engine itself). */
  readonly eaMultispin?: MsKernelFactory;
  /** A network's forward pass, and with the head's draw (absent on the CPU, where nn/model.ts runs). */
  readonly network?: {
    predict(spec: ModelSpec, params: Float32Array, input: Tensor): Promise<Tensor>;
    sample(spec: ModelSpec, params: Float32Array, input: Tensor, key: readonly [number, number]): Promise<{ sample: Float32Array; logProb: Float64Array }>;
  };
  close(): void;
}

export const cpuBackend: Backend = { name: "cpu", device: "CPU reference", packedCheckerboard: cpuPackedKernel, close() {} };
