// The GPU device through WebGPU: Dawn from the `webgpu` package (Vulkan underneath), loaded only when a
// run asks for a GPU so that the CLI starts without it. Finding no adapter is an answer, not an error.

import { GpuError } from "../mc/backend.js";

/** The adapter a device came from. */
export interface GpuInfo {
  /** One line: vendor, architecture and description as the driver reports them. */
  description: string;
  /** A CPU implementation (Mesa's lavapipe, SwiftShader): correct but slow; `auto` does not pick it. */
  software: boolean;
}

export interface Gpu {
  device: GPUDevice;
  info: GpuInfo;
  /** The WebGPU usage flags (GPUBufferUsage, GPUMapMode, GPUShaderStage) of the loaded implementation. */
  flags: { BufferUsage: GPUBufferUsage; MapMode: GPUMapMode; ShaderStage: GPUShaderStage };
  /** Throws GpuError if the device reported an error (a validation error, an out-of-memory, a loss). */
  check(): void;
  /**
   * Submits `enc` with copies of `parts` into staging buffers (one per part) and resolves to their
   * bytes; errors of the submission are caught in error scopes and thrown as GpuError.
   */
  readBack(enc: GPUCommandEncoder, parts: { buffer: GPUBuffer; offset: number; size: number }[]): Promise<ArrayBuffer[]>;
  close(): void;
}

/**
 * A dispatch of `groups` workgroups as (x, y): x at most 32 768, y the rest, within the device's limit
 * per dimension; kernels rebuild the linear index as gid.x + gid.y · x · workgroup size.
 */
export function grid(device: GPUDevice, groups: number): [number, number] {
  const nx = Math.max(1, Math.min(groups, 32768)), ny = Math.ceil(groups / nx);
  if (ny > device.limits.maxComputeWorkgroupsPerDimension) throw new RangeError(`${groups} workgroups exceed what one dispatch of this GPU holds; run a smaller lattice or fewer samples`);
  return [nx, ny];
}

/** Encodes one compute pass of `pipeline` with bind group 0 (and its dynamic offsets) over `size` workgroups. */
export function encodePass(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, bind: GPUBindGroup, size: readonly number[], offsets: number[] = []): void {
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind, offsets);
  pass.dispatchWorkgroups(size[0]!, size[1] ?? 1, size[2] ?? 1);
  pass.end();
}

/** Instances with an open device (see `openGpu`). */
const live = new Set<GPU>();

export type GpuOpening = { gpu: Gpu } | { reason: string };

function describe(a: GPUAdapter): GpuInfo {
  const i = a.info;
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => typeof s === "string" && s.length > 0);
  const text = parts.join(" ") || "unnamed adapter";
  const fallback = (i as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { description: text, software: fallback || /llvmpipe|lavapipe|swiftshader|software/i.test(text) };
}

/**
 * Opens the first adapter with the largest storage buffers it allows. `software: false` refuses CPU
 * implementations (what `--backend auto` wants); the reason says what was found instead.
 */
export async function openGpu(opts: { software: boolean }): Promise<GpuOpening> {
  let mod: { create(o: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import("webgpu")) as never;
  } catch (e) {
    return { reason: `the webgpu package could not be loaded (${(e as Error).message.split("\n")[0]})` };
  }
  let adapter: GPUAdapter | null, instance: GPU;
  try {
    // The instance must stay referenced while its devices live: once it is garbage-collected, Dawn's
    // event processing touches freed memory and the process dies in native code (exit 134 or 139).
    instance = mod.create([]);
    adapter = await instance.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { reason: `WebGPU could not start (${(e as Error).message.split("\n")[0]})` };
  }
  if (!adapter) return { reason: "no GPU adapter found (Vulkan found no device; on an NVIDIA machine VK_DRIVER_FILES may have to name nvidia_icd.json)" };
  const info = describe(adapter);
  if (info.software && !opts.software) return { reason: `only a software adapter was found (${info.description})` };
  const lim = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
      },
    });
  } catch (e) {
    return { reason: `the GPU (${info.description}) gave no device (${(e as Error).message.split("\n")[0]})` };
  }
  live.add(instance);
  let first: string | null = null;
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    first ??= ev.error.message.split("\n")[0] ?? "device error";
  };
  void device.lost.then((l) => {
    if (l.reason !== "destroyed") first ??= `GPU device lost: ${l.message}`;
    // Only now may the instance go (see above).
    live.delete(instance);
  });
  const g = mod.globals as { GPUBufferUsage: GPUBufferUsage; GPUMapMode: GPUMapMode; GPUShaderStage: GPUShaderStage };
  const check = (): void => {
    if (first) throw new GpuError(`the GPU failed: ${first}`);
  };
  return {
    gpu: {
      device,
      info,
      flags: { BufferUsage: g.GPUBufferUsage, MapMode: g.GPUMapMode, ShaderStage: g.GPUShaderStage },
      check,
      async readBack(enc, parts) {
        device.pushErrorScope("validation");
        device.pushErrorScope("out-of-memory");
        const staging = parts.map((p) => {
          if (p.size > device.limits.maxBufferSize) throw new GpuError(`a read-back of ${p.size} bytes exceeds this GPU's largest buffer (${device.limits.maxBufferSize})`);
          const b = device.createBuffer({ size: Math.max(4, p.size), usage: g.GPUBufferUsage.MAP_READ | g.GPUBufferUsage.COPY_DST });
          enc.copyBufferToBuffer(p.buffer, p.offset, b, 0, p.size);
          return b;
        });
        device.queue.submit([enc.finish()]);
        const [oom, invalid] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
        try {
          const bad = oom ?? invalid;
          if (bad) throw new GpuError(`the GPU failed: ${bad.message.split("\n")[0]}`);
          const out: ArrayBuffer[] = [];
          for (const b of staging) {
            await b.mapAsync(g.GPUMapMode.READ);
            out.push(b.getMappedRange().slice(0));
            b.unmap();
          }
          check();
          return out;
        } catch (e) {
          throw e instanceof GpuError ? e : new GpuError(`the GPU failed: ${(e as Error).message.split("\n")[0]}`);
        } finally {
          for (const b of staging) b.destroy();
        }
      },
      close: () => device.destroy(),
    },
  };
}
