// The GPU device through WebGPU: Dawn from the `webgpu` package (Vulkan underneath), loaded only when a
// run asks for a GPU so that the CLI starts without it. Finding no adapter is an answer, not an error.

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
  /** The first uncaptured device error, if any (a validation error, an out-of-memory). */
  error(): string | null;
  close(): void;
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
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
    },
  });
  live.add(instance);
  let first: string | null = null;
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    first ??= ev.error.message.split("\n")[0] ?? "device error";
  };
  void device.lost.then((l) => {
    if (l.reason !== "destroyed") first ??= `GPU device lost: ${l.message}`;
  });
  const g = mod.globals as { GPUBufferUsage: GPUBufferUsage; GPUMapMode: GPUMapMode; GPUShaderStage: GPUShaderStage };
  return {
    gpu: {
      device,
      info,
      flags: { BufferUsage: g.GPUBufferUsage, MapMode: g.GPUMapMode, ShaderStage: g.GPUShaderStage },
      error: () => first,
      close: () => {
        device.destroy();
        live.delete(instance);
      },
    },
  };
}
