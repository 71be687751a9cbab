// The GPU back-end: the kernels of gpu/ behind mc/backend.ts's interface, on one WebGPU device.

import { type Backend } from "../mc/backend.js";
import { type Gpu, openGpu } from "./device.js";
import { gpuPackedKernel } from "./packed-checkerboard.js";
import { gpuMsKernel } from "./ea-multispin.js";

export function gpuBackend(gpu: Gpu): Backend {
  return { name: "gpu", device: gpu.info.description, packedCheckerboard: gpuPackedKernel(gpu), eaMultispin: gpuMsKernel(gpu), close: () => gpu.close() };
}

/** A GPU back-end, or why there is none; `software` admits CPU implementations of Vulkan (lavapipe). */
export async function openGpuBackend(opts: { software: boolean }): Promise<{ backend: Backend } | { reason: string }> {
  const o = await openGpu(opts);
  return "gpu" in o ? { backend: gpuBackend(o.gpu) } : o;
}
