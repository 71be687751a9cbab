// The GPU back-end: the kernels of gpu/ behind mc/backend.ts's interface, on one WebGPU device.

import { type Backend } from "../mc/backend.js";
import { type ModelSpec } from "../nn/spec.js";
import { type Gpu, openGpu } from "./device.js";
import { gpuPackedKernel } from "./packed-checkerboard.js";
import { gpuMsKernel } from "./ea-multispin.js";
import { type GpuNetwork, gpuNetwork } from "./network.js";

export function gpuBackend(gpu: Gpu): Backend {
  // One device copy of each network's weights, made on first use.
  const nets = new WeakMap<Float32Array, GpuNetwork>();
  const netOf = (spec: ModelSpec, params: Float32Array): GpuNetwork => {
    let net = nets.get(params);
    if (!net) nets.set(params, (net = gpuNetwork(gpu, spec, params)));
    return net;
  };
  return {
    name: "gpu",
    device: gpu.info.description,
    packedCheckerboard: gpuPackedKernel(gpu),
    eaMultispin: gpuMsKernel(gpu),
    network: {
      predict: (spec, params, input) => netOf(spec, params).predict(input),
      sample: (spec, params, input, key) => netOf(spec, params).sample(input, key),
    },
    close: () => gpu.close(),
  };
}

/** A GPU back-end, or why there is none; `software` admits CPU implementations of Vulkan (lavapipe). */
export async function openGpuBackend(opts: { software: boolean }): Promise<{ backend: Backend } | { reason: string }> {
  const o = await openGpu(opts);
  return "gpu" in o ? { backend: gpuBackend(o.gpu) } : o;
}
