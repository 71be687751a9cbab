// `irg doctor`: what this machine offers a run: Node, cores, and the GPU adapter that --backend would
// use (or why there is none), probed in a child process.

import { availableParallelism, cpus } from "node:os";
import { probeGpu } from "../gpu/probe.js";

export interface DoctorReport {
  node: string;
  platform: string;
  cores: number;
  cpu: string;
  gpu: { found: boolean; description?: string; software?: boolean; reason?: string; backendAuto: "gpu" | "cpu" };
}

export async function doctorReport(): Promise<DoctorReport> {
  const p = await probeGpu(true);
  const gpu: DoctorReport["gpu"] = p.found
    ? { found: true, description: p.info.description, software: p.info.software, backendAuto: p.info.software ? "cpu" : "gpu" }
    : { found: false, reason: p.reason, backendAuto: "cpu" };
  return { node: process.version, platform: `${process.platform}-${process.arch}`, cores: availableParallelism(), cpu: cpus()[0]?.model ?? "unknown", gpu };
}

/** The report as lines for a terminal. */
export function doctorLines(r: DoctorReport): string[] {
  const g = r.gpu;
  return [
    `node     ${r.node} (${r.platform})`,
    `cpu      ${r.cores} cores, ${r.cpu}`,
    g.found
      ? `GPU      ${g.description}${g.software ? " (software Vulkan: --backend gpu runs on it, slowly; auto does not pick it)" : ""}`
      : `GPU      none: ${g.reason}`,
    `backend  --backend auto runs GPU kernels on the ${g.backendAuto === "gpu" ? "GPU" : "CPU"}`,
  ];
}
