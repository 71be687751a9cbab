// `npm run bench -- --only gpu [--backend auto|gpu] [--quick] [--L 16384]`: the packed checkerboard
// Ising kernel (Metropolis, 4 bits per spin, Philox) in spin updates per ns, 2D and 3D, on the GPU and,
// in the same process, the CPU figures: the CPU reference of the same kernel and our fastest CPU local
// update (the 32-lane multi-spin Metropolis, mc/multispin.ts), the baseline of the ratio column.
// GPU: mean over ≥ 1 s (0.3 s with --quick) of batches of sweeps, timed to the device's completion.
// --backend auto uses a hardware GPU only; gpu also a software one (lavapipe: a check, not a speed).
// Second table: the 3D EA spin glass, ps per sample-spin update of a full parallel-tempering sweep (16
// temperatures × 2 replicas, exchanges on the host): the WGSL multi-spin sweep (gpu/ea-multispin.ts) and,
// in the same process, the CPU engine (WebAssembly SIMD where it loads) on one core, the baseline.
// Third table: network inference, ms per configuration (coarse L/2 → fine L, one configuration per
// call): the forward pass read back to the host, and the forward pass with the head's draw and ln q for the networks irg train builds by default and the
// Efthymiou-type net, on the GPU and, in the same process, on one CPU core (nn/model.ts predict).
// Writes bench/results/gpu-<date>.json. Targets: ≥ 500 updates/ns at L ≥ 16384 (2D), then past 900;
// EA < 30 ps per sample-spin; inference ≥ 100 configurations per second at 512².

import { hostname } from "node:os";
import { join } from "node:path";
import { openGpuBackend } from "../src/gpu/backend.js";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { BETA_C_2D, BETA_C_3D } from "../src/models/ising.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";
import { cpuPackedKernel, MASK, packedLayout, packedTable, type PackedKernelFactory } from "../src/mc/packed-checkerboard.js";
import { bestMsPerCall, writeBenchResult } from "./common.js";
import { EA_BETA_C_3D } from "../src/models/ea.js";
import { makeEaMultispinSampler, type MsKernelFactory, msKernelFactory } from "../src/mc/ea-multispin-sampler.js";
import { betaLadder } from "../src/mc/parallel-tempering.js";
import { defaultNetwork } from "../src/irg/network.js";
import { type HeadSpec, headSample } from "../src/nn/heads.js";
import { efthymiouSpec } from "../src/nn/irgnet.js";
import { initParams, type ModelSpec, predict } from "../src/nn/model.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const backendArg = opt("--backend") ?? "auto";
if (!["auto", "gpu", "cpu"].includes(backendArg)) {
  console.error(`bench gpu: --backend must be auto, cpu or gpu, got ${backendArg}`);
  process.exit(2);
}
const minMs = quick ? 300 : 1000;
const beta = { 2: BETA_C_2D, 3: BETA_C_3D } as const;

/** Spin updates per ns of `sweeps` on a packed kernel: timed batches of sweeps until `minMs` have passed. */
async function packedRate(make: PackedKernelFactory, dim: 2 | 3, L: number, batch: number): Promise<number> {
  const lay = packedLayout(dim, L), rng = rngFor({ seed: 1, task: L });
  const k = await make({ lay, key: [1, 2], table: packedTable(dim, beta[dim], "metropolis") });
  k.write(new Uint32Array(lay.words).map(() => (rng.u32() & MASK) >>> 0));
  let from = 0;
  await k.sweeps(from, batch);
  from += batch;
  await k.finish();
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || done === 0) {
    await k.sweeps(from, batch);
    from += batch;
    done += batch;
  }
  await k.finish();
  const ms = performance.now() - t0;
  k.dispose();
  return (done * L ** dim) / (ms * 1e6);
}

/** The CPU baseline: the 32-lane multi-spin Metropolis sampler, updates per ns. */
function multispinRate(dim: 2 | 3, L: number): number {
  const lat = lattice(dim, L);
  const smp = makeIsingSampler({ algorithm: "multispin", lat, beta: beta[dim], rng: rngFor({ seed: 1 }) });
  return (lat.V * 32) / (bestMsPerCall(() => smp.sweep(), minMs) * 1e6);
}

const rows: { dim: number; L: number; device: string; kernel: string; updatesPerNs: number }[] = [];
let gpuName: string | null = null, why = "";
if (backendArg !== "cpu") {
  const o = await openGpuBackend({ software: backendArg === "gpu" });
  if ("backend" in o) {
    const b = o.backend;
    gpuName = b.device;
    const software = /llvmpipe|lavapipe|software/i.test(b.device);
    const sizes: Record<2 | 3, number[]> = software || quick ? { 2: [256, 1024], 3: [32, 64] } : { 2: [1024, 4096, 16384, ...(opt("--L") ? [Number(opt("--L"))] : [])], 3: [128, 256, 512] };
    for (const dim of [2, 3] as const) {
      for (const L of sizes[dim]) {
        rows.push({ dim, L, device: b.device, kernel: "packed (WGSL)", updatesPerNs: await packedRate(b.packedCheckerboard, dim, L, software ? 4 : 64) });
      }
    }
    b.close();
  } else {
    why = o.reason;
    console.log(`no GPU: ${why}; CPU figures only`);
  }
}
for (const dim of [2, 3] as const) {
  const L = dim === 2 ? (quick ? 256 : 1024) : quick ? 32 : 64;
  rows.push({ dim, L, device: "CPU, 1 core", kernel: "packed (CPU reference)", updatesPerNs: await packedRate(cpuPackedKernel, dim, L, 1) });
  rows.push({ dim, L, device: "CPU, 1 core", kernel: "multispin 32 lanes (baseline)", updatesPerNs: multispinRate(dim, L) });
}
// The spin glass: ps per sample-spin of a PT sweep.
const eaRows: { L: number; samples: number; device: string; engine: string; psPerSampleSpin: number }[] = [];
const TEMPS = 16;
const ladder = betaLadder(0.4, EA_BETA_C_3D, TEMPS, EA_BETA_C_3D);
async function eaRate(kernel: MsKernelFactory, L: number, samples: number, device: boolean): Promise<number> {
  const lat = lattice(3, L);
  const smp = makeEaMultispinSampler({ lat, betas: ladder, target: TEMPS - 1, samples, seed: 3, kernel });
  for (let k = 0; k < 3; k++) await smp.sweep();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 3) {
    await smp.sweep();
    n++;
  }
  const ms = (performance.now() - t0) / n;
  if (device) await smp.dispose?.();
  return (ms * 1e9) / (samples * 2 * TEMPS * lat.V);
}
if (gpuName !== null) {
  const o = await openGpuBackend({ software: true });
  if ("backend" in o) {
    const software = /llvmpipe|lavapipe|software/i.test(o.backend.device);
    for (const L of software || quick ? [8] : [8, 16, 32]) {
      const samples = software ? 128 : 4096;
      eaRows.push({ L, samples, device: o.backend.device, engine: "multi-spin (WGSL)", psPerSampleSpin: await eaRate(o.backend.eaMultispin!, L, samples, true) });
    }
    o.backend.close();
  }
}
for (const L of quick ? [8] : [8, 16]) {
  eaRows.push({ L, samples: 128, device: "CPU, 1 core", engine: "multi-spin (CPU, baseline)", psPerSampleSpin: await eaRate(msKernelFactory("auto"), L, 128, false) });
}

const base = (dim: number): number => rows.find((r) => r.dim === dim && r.kernel.startsWith("multispin"))!.updatesPerNs;
console.log(`\npacked checkerboard Ising, Metropolis at the critical coupling (host ${hostname()})`);
console.log("dim      L  device                                   kernel                          updates/ns   × baseline");
for (const r of rows) {
  console.log(`${String(r.dim).padStart(3)} ${String(r.L).padStart(6)}  ${r.device.slice(0, 40).padEnd(40)} ${r.kernel.padEnd(31)} ${r.updatesPerNs.toPrecision(4).padStart(10)}   ${(r.updatesPerNs / base(r.dim)).toPrecision(3).padStart(10)}`);
}
// Network inference: ms per configuration.
const PHI4_HEAD: HeadSpec = { type: "gaussian-mixture", components: 2 };
const nets: { name: string; spec: ModelSpec }[] = [
  { name: "phi4-default (gmm2)", spec: defaultNetwork({ dim: 2, model: "phi4", head: PHI4_HEAD }, 1).spec },
  { name: "ising-default (bern)", spec: defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" } }, 1).spec },
  { name: "efthymiou-2d", spec: efthymiouSpec(2) },
];
const nnRows: { net: string; L: number; device: string; forwardMs: number; drawMs: number; configsPerSecond: number }[] = [];
async function msPer(call: () => Promise<unknown> | unknown): Promise<number> {
  await call();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 2) {
    await call();
    n++;
  }
  return (performance.now() - t0) / n;
}
const nnGpu = gpuName !== null ? await openGpuBackend({ software: true }) : null;
for (const { name, spec } of nets) {
  const params = initParams(spec, rngFor({ seed: 1 })) as Float32Array;
  const software = gpuName !== null && /llvmpipe|lavapipe|software/i.test(gpuName);
  for (const L of software || quick ? [128, 512] : [512, 2048]) {
    const rng = rngFor({ seed: 2, task: L });
    const input = { shape: [1, spec.inChannels, L / 2, L / 2], data: Float32Array.from({ length: spec.inChannels * (L / 2) ** 2 }, () => rng.normal()) };
    if (nnGpu && "backend" in nnGpu) {
      const dev = nnGpu.backend.network!;
      const forwardMs = await msPer(() => dev.predict(spec, params, input));
      const drawMs = await msPer(() => dev.sample(spec, params, input, [1, 2]));
      nnRows.push({ net: name, L, device: nnGpu.backend.device, forwardMs, drawMs, configsPerSecond: 1000 / drawMs });
    }
    if (L <= 512 || !quick) {
      const forwardMs = await msPer(() => predict(spec, params, input));
      const drawMs = await msPer(() => headSample(spec.head!, predict(spec, params, input), rng));
      nnRows.push({ net: name, L, device: "CPU, 1 core (baseline)", forwardMs, drawMs, configsPerSecond: 1000 / drawMs });
    }
  }
}
if (nnGpu && "backend" in nnGpu) nnGpu.backend.close();
console.log("\nnetwork inference, one configuration per call: the forward pass, and with the head's draw and ln q");
console.log("net                        L  device                                    forward ms    +draw ms   configs/s   baseline/this");
for (const r of nnRows) {
  const b = nnRows.find((q) => q.net === r.net && q.L === r.L && q.device.includes("baseline"));
  console.log(`${r.net.padEnd(22)} ${String(r.L).padStart(6)}  ${r.device.slice(0, 40).padEnd(40)} ${r.forwardMs.toPrecision(4).padStart(10)} ${r.drawMs.toPrecision(4).padStart(11)} ${r.configsPerSecond.toPrecision(4).padStart(11)}   ${b ? (b.drawMs / r.drawMs).toPrecision(3).padStart(13) : "            -"}`);
}

const eaBase = (L: number): number | undefined => eaRows.find((r) => r.L === L && r.engine.includes("baseline"))?.psPerSampleSpin;
console.log(`\n3D EA spin glass, parallel-tempering sweep of ${TEMPS} temperatures x 2 replicas`);
console.log("    L  samples  device                                   engine                        ps/sample-spin   baseline/this");
for (const r of eaRows) {
  const b = eaBase(r.L);
  console.log(`${String(r.L).padStart(5)} ${String(r.samples).padStart(8)}  ${r.device.slice(0, 40).padEnd(40)} ${r.engine.padEnd(29)} ${r.psPerSampleSpin.toPrecision(4).padStart(14)}   ${b ? (b / r.psPerSampleSpin).toPrecision(3).padStart(13) : "            -"}`);
}
const stamp = new Date().toISOString().slice(0, 10);
writeBenchResult(opt("--out") ?? join("bench", "results", `gpu-${stamp}.json`), { host: hostname(), gpu: gpuName, noGpuReason: why || undefined, quick, rows, ea: eaRows, inference: nnRows, targets: { updatesPerNs2D: [500, 900], eaPsPerSampleSpin: 30, inferenceConfigsPerSecond512: 100 } });
