// Resolves --backend auto|cpu|gpu for a run: which back-end its kernels run on, and the one line a
// user should read when the choice was not what was asked (no GPU, only a software one).

import { type Backend, type BackendChoice, cpuBackend } from "../mc/backend.js";
import { type ModelDescriptor, type SimulateOptions } from "../models/model.js";
import { UsageError } from "../models/params.js";
import { modelOf } from "../models/registry.js";

/** Why this run has no GPU kernel (its model or algorithm has none, or the kernel's condition fails), or undefined. */
function gpuUnmet(d: ModelDescriptor, o: SimulateOptions): string | undefined {
  if (!d.gpu?.algorithms.includes(o.algorithm)) {
    const has = d.gpu ? `; ${d.name}'s GPU kernels: --algorithm ${d.gpu.algorithms.join("|")}` : "";
    return `--backend gpu: ${d.name} --algorithm ${o.algorithm} has no GPU kernel${has}; use --backend cpu`;
  }
  return d.gpu.check?.(o);
}

/** Whether this run's model and algorithm have a GPU kernel. */
export function gpuCapable(d: ModelDescriptor, o: SimulateOptions): boolean {
  return gpuUnmet(d, o) === undefined;
}

/** Whether a run of `model` with these (validated) options will look for a GPU. */
export function wantsGpu(model: string, o: SimulateOptions): boolean {
  return o.backend !== "cpu" && gpuCapable(modelOf(model), o);
}

/** The static checks of --backend gpu (before any device is looked for). */
export function checkBackend(d: ModelDescriptor, o: SimulateOptions): void {
  const unmet = o.backend === "gpu" ? gpuUnmet(d, o) : undefined;
  if (unmet) throw new UsageError(unmet);
}

/**
 * Opens the back-end a run asked for and fixes `o.backend` to where it runs (what is stored):
 * - cpu, or a model/algorithm without a GPU kernel: the CPU;
 * - auto: a hardware GPU if one is found, else the CPU with a notice;
 * - gpu: any GPU adapter (a software one included); none is a usage error, except when resuming a gpu
 *   run, which continues on the CPU reference of its kernel (same numbers, slower) with a notice.
 */
export async function placeRun(d: ModelDescriptor, o: SimulateOptions, resume: boolean, notice: (line: string) => void): Promise<Backend> {
  const asked = o.backend ?? "cpu";
  if (asked === "cpu" || !gpuCapable(d, o)) {
    o.backend = "cpu";
    return cpuBackend;
  }
  const backend = await openBackend(asked, resume, notice);
  // A resumed gpu run on the CPU reference stays "gpu": its numbers are the kernel's.
  o.backend = asked === "gpu" ? "gpu" : backend.name;
  return backend;
}

/** Opens the back-end for `asked` (auto, cpu or gpu): see placeRun. */
export async function openBackend(asked: BackendChoice, resume: boolean, notice: (line: string) => void): Promise<Backend> {
  if (asked === "cpu") return cpuBackend;
  // Probe in a child first: Dawn's native warnings stay out of the terminal when no GPU is used.
  const { probeGpu } = await import("../gpu/probe.js");
  const probe = await probeGpu(asked === "gpu");
  const { openGpuBackend } = await import("../gpu/backend.js");
  const opened = probe.found ? await openGpuBackend({ software: asked === "gpu" }) : probe;
  if ("backend" in opened) {
    notice(`running on the GPU: ${opened.backend.device}`);
    return opened.backend;
  }
  if (asked === "auto") {
    notice(`--backend auto: ${opened.reason}; running on the CPU`);
    return cpuBackend;
  }
  if (resume) {
    notice(`${opened.reason}: this gpu run continues on the CPU reference of its kernel (the same numbers, slower)`);
    return cpuBackend;
  }
  throw new UsageError(`--backend gpu: ${opened.reason}; use --backend cpu or auto`);
}
