// `irg bench` (and `npm run bench -- --only gpu`): the GPU kernels against the CPU, measured in one process.
// 1. The packed checkerboard Ising kernel (Metropolis at the critical coupling) in spin updates per ns,
//    2D and 3D: on the GPU; on the CPU its reference and the 32-lane multi-spin sampler (the baseline).
//    GPU: batches of sweeps for at least 1 s (0.3 s with quick), timed to the device's completion.
// 2. The 3D EA spin glass, ps per sample-spin update of a full parallel-tempering sweep (16 temperatures
//    × 2 replicas, exchanges on the host): the WGSL sweep, and the CPU engine on one core (the baseline).
// 3. Network inference, ms per configuration (coarse L/2 → fine L, one configuration per call): the forward
//    pass read back to the host, and with the head's draw and ln q, for the networks irg train builds by
//    default and an Efthymiou-type net; on the GPU and on one CPU core (nn/model.ts, the baseline).
// Targets: ≥ 500 updates/ns at L ≥ 16384 (2D), then past 900; EA < 30 ps per sample-spin; inference
// ≥ 100 configurations per second at 512². On a software adapter (lavapipe) the sizes are small: a check.

import { hostname } from "node:os";
import { defaultNetwork } from "../irg/network.js";
import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { type Backend, BACKENDS, type BackendChoice } from "../mc/backend.js";
import { UsageError } from "../models/params.js";
import { makeEaMultispinSampler, type MsKernelFactory, msKernelFactory } from "../mc/ea-multispin-sampler.js";
import { makeIsingSampler } from "../mc/ising-samplers.js";
import { cpuPackedKernel, MASK, packedLayout, packedTable, type PackedKernelFactory } from "../mc/packed-checkerboard.js";
import { betaLadder } from "../mc/parallel-tempering.js";
import { EA_BETA_C_3D } from "../models/ea.js";
import { BETA_C_2D, BETA_C_3D } from "../models/ising.js";
import { type HeadSpec, headSample } from "../nn/heads.js";
import { efthymiouSpec } from "../nn/irgnet.js";
import { initParams, type ModelSpec, predict } from "../nn/model.js";
import { openBackend } from "./backend.js";
import { writeFileAtomic } from "../io/files.js";

export interface GpuBenchOptions {
  backend: BackendChoice;
  quick: boolean;
  /** A further 2D size for the Ising table (GPU only). */
  L?: number;
  notice?: (line: string) => void;
}

export interface GpuBenchResult {
  host: string;
  gpu: string | null;
  quick: boolean;
  ising: { dim: number; L: number; device: string; kernel: string; updatesPerNs: number }[];
  ea: { L: number; samples: number; device: string; engine: string; psPerSampleSpin: number }[];
  inference: { net: string; L: number; device: string; forwardMs: number; drawMs: number; configsPerSecond: number }[];
  targets: { updatesPerNs2D: [number, number]; eaPsPerSampleSpin: number; inferenceConfigsPerSecond512: number };
}

const TEMPS = 16;
const beta = { 2: BETA_C_2D, 3: BETA_C_3D } as const;

/** ms per call of `call` (awaited), over at least `minMs` and `least` calls, after one warm-up call. */
async function msPer(call: () => unknown, minMs: number, least = 2): Promise<number> {
  await call();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < least) {
    await call();
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Spin updates per ns of a packed kernel, in batches of `batch` sweeps timed to their completion. */
async function packedRate(make: PackedKernelFactory, dim: 2 | 3, L: number, batch: number, minMs: number): Promise<number> {
  const lay = packedLayout(dim, L), rng = rngFor({ seed: 1, task: L });
  const k = await make({ lay, key: [1, 2], table: packedTable(dim, beta[dim], "metropolis") });
  k.write(new Uint32Array(lay.words).map(() => (rng.u32() & MASK) >>> 0));
  let from = 0;
  const ms = await msPer(async () => {
    await k.sweeps(from, batch);
    from += batch;
    await k.finish();
  }, minMs, 1);
  k.dispose();
  return (batch * L ** dim) / (ms * 1e6);
}

async function eaRate(kernel: MsKernelFactory, L: number, samples: number, minMs: number): Promise<number> {
  const lat = lattice(3, L);
  const smp = makeEaMultispinSampler({ lat, betas: betaLadder(0.4, EA_BETA_C_3D, TEMPS, EA_BETA_C_3D), target: TEMPS - 1, samples, seed: 3, kernel });
  const ms = await msPer(() => smp.sweep(), minMs, 3);
  await smp.dispose?.();
  return (ms * 1e9) / (samples * 2 * TEMPS * lat.V);
}

export async function gpuBench(o: GpuBenchOptions): Promise<GpuBenchResult> {
  const minMs = o.quick ? 300 : 1000;
  let gpu: Backend | null = null;
  if (o.backend !== "cpu") {
    const b = await openBackend(o.backend, false, o.notice ?? (() => {}));
    if (b.name === "gpu") gpu = b;
  }
  const software = gpu !== null && /llvmpipe|lavapipe|software/i.test(gpu.device);
  const small = software || o.quick;
  const cpu1 = "CPU, 1 core";
  const res: GpuBenchResult = {
    host: hostname(), gpu: gpu?.device ?? null, quick: o.quick, ising: [], ea: [], inference: [],
    targets: { updatesPerNs2D: [500, 900], eaPsPerSampleSpin: 30, inferenceConfigsPerSecond512: 100 },
  };
  try {
    for (const dim of [2, 3] as const) {
      const sizes = dim === 2 ? (small ? [256, 1024] : [1024, 4096, 16384, ...(o.L ? [o.L] : [])]) : small ? [32, 64] : [128, 256, 512];
      if (gpu) for (const L of sizes) res.ising.push({ dim, L, device: gpu.device, kernel: "packed (WGSL)", updatesPerNs: await packedRate(gpu.packedCheckerboard, dim, L, software ? 4 : 64, minMs) });
      const L = dim === 2 ? (o.quick ? 256 : 1024) : o.quick ? 32 : 64;
      res.ising.push({ dim, L, device: cpu1, kernel: "packed (CPU reference)", updatesPerNs: await packedRate(cpuPackedKernel, dim, L, 1, minMs) });
      const lat = lattice(dim, L), smp = makeIsingSampler({ algorithm: "multispin", lat, beta: beta[dim], rng: rngFor({ seed: 1 }) });
      res.ising.push({ dim, L, device: cpu1, kernel: "multispin 32 lanes (baseline)", updatesPerNs: (lat.V * 32) / ((await msPer(() => smp.sweep(), minMs)) * 1e6) });
    }
    if (gpu) for (const L of small ? [8] : [8, 16, 32]) res.ea.push({ L, samples: software ? 128 : 4096, device: gpu.device, engine: "multi-spin (WGSL)", psPerSampleSpin: await eaRate(gpu.eaMultispin!, L, software ? 128 : 4096, minMs) });
    for (const L of o.quick ? [8] : [8, 16]) res.ea.push({ L, samples: 128, device: cpu1, engine: "multi-spin (CPU, baseline)", psPerSampleSpin: await eaRate(msKernelFactory("auto"), L, 128, minMs) });
    const PHI4_HEAD: HeadSpec = { type: "gaussian-mixture", components: 2 };
    const nets: { name: string; spec: ModelSpec }[] = [
      { name: "phi4-default (gmm2)", spec: defaultNetwork({ dim: 2, model: "phi4", head: PHI4_HEAD }, 1).spec },
      { name: "ising-default (bern)", spec: defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" } }, 1).spec },
      { name: "efthymiou-2d", spec: efthymiouSpec(2) },
    ];
    for (const { name, spec } of nets) {
      const params = initParams(spec, rngFor({ seed: 1 })) as Float32Array;
      for (const L of small ? [128, 512] : [512, 2048]) {
        const rng = rngFor({ seed: 2, task: L });
        const input = { shape: [1, spec.inChannels, L / 2, L / 2], data: Float32Array.from({ length: spec.inChannels * (L / 2) ** 2 }, () => rng.normal()) };
        if (gpu) {
          const dev = gpu.network!;
          const forwardMs = await msPer(() => dev.predict(spec, params, input), minMs);
          const drawMs = await msPer(() => dev.sample(spec, params, input, [1, 2]), minMs);
          res.inference.push({ net: name, L, device: gpu.device, forwardMs, drawMs, configsPerSecond: 1000 / drawMs });
        }
        if (L <= 512 || !o.quick) {
          const forwardMs = await msPer(() => predict(spec, params, input), minMs);
          const drawMs = await msPer(() => headSample(spec.head!, predict(spec, params, input), rng), minMs);
          res.inference.push({ net: name, L, device: `${cpu1} (baseline)`, forwardMs, drawMs, configsPerSecond: 1000 / drawMs });
        }
      }
    }
  } finally {
    gpu?.close();
  }
  return res;
}

/** The benchmark's options from its flags (`irg bench`, `npm run bench -- --only gpu`); UsageError names a bad one. */
export function benchOptions(raw: { backend: string; quick?: boolean; L?: string }, notice: (line: string) => void): GpuBenchOptions {
  if (!(BACKENDS as readonly string[]).includes(raw.backend)) throw new UsageError(`--backend must be ${BACKENDS.join(", ")}, got ${raw.backend}`);
  const L = raw.L === undefined ? undefined : Number(raw.L);
  if (L !== undefined && !(Number.isInteger(L) && L >= 16 && L % 16 === 0)) throw new UsageError(`--L must be a multiple of 16, got ${raw.L}`);
  return { backend: raw.backend as BackendChoice, quick: raw.quick === true, L, notice };
}

/** `irg bench`: runs the benchmark and writes it as JSON to `out` when given. */
export async function benchCommand(raw: { backend: string; quick?: boolean; L?: string; out?: string }, notice: (line: string) => void): Promise<GpuBenchResult> {
  const r = await gpuBench(benchOptions(raw, notice));
  if (raw.out) writeFileAtomic(raw.out, JSON.stringify(r, null, 2));
  return r;
}

const fix = (v: number, w: number): string => v.toPrecision(4).padStart(w);
const dev = (d: string): string => d.slice(0, 40).padEnd(40);

/** The three tables, each with a ratio to its CPU baseline. */
export function gpuBenchLines(r: GpuBenchResult): string[] {
  const out = [`GPU: ${r.gpu ?? "none (CPU figures only)"}; host ${r.host}`, "", "packed checkerboard Ising, Metropolis at the critical coupling"];
  out.push("dim      L  device                                   kernel                          updates/ns   x baseline");
  for (const x of r.ising) {
    const b = r.ising.find((q) => q.dim === x.dim && q.kernel.includes("baseline"))!.updatesPerNs;
    out.push(`${String(x.dim).padStart(3)} ${String(x.L).padStart(6)}  ${dev(x.device)} ${x.kernel.padEnd(31)} ${fix(x.updatesPerNs, 10)}   ${(x.updatesPerNs / b).toPrecision(3).padStart(10)}`);
  }
  out.push("", `3D EA spin glass, parallel-tempering sweep of ${TEMPS} temperatures x 2 replicas`);
  out.push("    L  samples  device                                   engine                        ps/sample-spin   baseline/this");
  for (const x of r.ea) {
    const b = r.ea.find((q) => q.L === x.L && q.engine.includes("baseline"))?.psPerSampleSpin;
    out.push(`${String(x.L).padStart(5)} ${String(x.samples).padStart(8)}  ${dev(x.device)} ${x.engine.padEnd(29)} ${fix(x.psPerSampleSpin, 14)}   ${b ? (b / x.psPerSampleSpin).toPrecision(3).padStart(13) : "            -"}`);
  }
  out.push("", "network inference, one configuration per call: the forward pass, and with the head's draw and ln q");
  out.push("net                        L  device                                    forward ms    +draw ms   configs/s   baseline/this");
  for (const x of r.inference) {
    const b = r.inference.find((q) => q.net === x.net && q.L === x.L && q.device.includes("baseline"));
    out.push(`${x.net.padEnd(22)} ${String(x.L).padStart(6)}  ${dev(x.device)} ${fix(x.forwardMs, 10)} ${fix(x.drawMs, 11)} ${fix(x.configsPerSecond, 11)}   ${b ? (b.drawMs / x.drawMs).toPrecision(3).padStart(13) : "            -"}`);
  }
  return out;
}
