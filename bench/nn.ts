// `node dist/bench/nn.js`: cost of the IRG network engine — inference per configuration (2D up to 2048², 3D up to
// 128³), training steps and epochs, each against plain direct loops of the same multiply-adds, and peak RSS of streamed generation.
//
// Sizes are those of the generated (fine) configuration; the input is the coarse one (half the size).
// The baseline is reference.ts: the textbook direct convolution loops (modulo wrap at every access) of the
// same network, so it does exactly the same multiply-adds; speed-up = baseline time / engine time, both
// timed in this process. Peak RSS: one child process per N runs `irg generate`'s streaming loop
// (src/jobs/generate.ts) on N coarse 256² φ⁴ configurations into N generated 512² ones, reading
// process.resourceUsage().maxRSS; if RSS stays flat as N grows tenfold, nothing accumulates per configuration.
// Options: --quick (shorter timings, smaller sizes), --out <file.json>, --gen <N,N,…> (default 200,2000;
// quick 20,200; 10⁴ needs ~13 GB in /tmp). Writes bench/results/nn-<date>.json (temporary file, then rename).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rngFor } from "../src/lattice/rng.js";
import { adamInit, adamStep } from "../src/nn/adam.js";
import { headLoss, headSample } from "../src/nn/heads.js";
import { efthymiouSpec, irgNetSpec } from "../src/nn/irgnet.js";
import { type ModelSpec, forward, initParams, paramCount, predict } from "../src/nn/model.js";
import { naiveBackward, naiveForward } from "../src/nn/reference.js";
import { trainStep } from "../src/nn/train.js";
import { inferKernel } from "../src/nn/infer.js";
import { type Tensor } from "../src/nn/tensor.js";
import { type PairSet, shuffle } from "../src/irg/dataset.js";
import { batchGradient, defaultNetwork, type Network, networkMap, scratchFor } from "../src/irg/network.js";
import { type HeadSpec } from "../src/nn/heads.js";

/** The head `irg train` gives phi4 networks (models/phi4-model.ts). */
const PHI4_HEAD: HeadSpec = { type: "gaussian-mixture", components: 2 };
import { createEnsemble } from "../src/io/ensemble.js";
import { loadOnnxRuntime, networkToOnnx } from "../src/io/onnx.js";
import { h5Ready } from "../src/io/h5.js";
import { generate } from "../src/jobs/generate.js";
import { SOFTWARE } from "../src/version.js";
import { writeBenchResult } from "./common.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

// ---------- child mode: one streamed generation, prints its peak RSS as JSON ----------

interface GenResult { N: number; seconds: number; msPerConfig: number; rssBeforeMB: number; peakRssMB: number; rssEndMB: number; outputMB: number }

/** Generates `limit` 512² configurations from `from` (256²) into `prefix`; RSS before and after. */
async function genChild(from: string, prefix: string, limit: number): Promise<GenResult> {
  await h5Ready();
  const net = defaultNetwork({ dim: 2, model: "phi4", head: PHI4_HEAD }, 1);
  const rssBeforeMB = process.resourceUsage().maxRSS / 1024;
  const r = await generate(networkMap(net), { from, prefix, steps: 1, seed: 1, limit, force: true });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  // Peak RSS also counts garbage not yet collected; the RSS at the end shows what stays resident.
  const rssEndMB = process.memoryUsage().rss / 2 ** 20;
  return { N: r.configurations, seconds: r.seconds, msPerConfig: (1000 * r.seconds) / r.configurations, rssBeforeMB, peakRssMB, rssEndMB, outputMB: statSync(r.files[0]!.path).size / 2 ** 20 };
}

if (args[0] === "--gen-child") {
  process.stdout.write(`${JSON.stringify(await genChild(args[1]!, args[2]!, Number(args[3])))}\n`);
  process.exit(0);
}

const quick = args.includes("--quick");
const minMs = quick ? 200 : 1000;
/** Anything expected to take longer than this per call is skipped (except the default networks' baseline). */
const SKIP_MS = quick ? 5_000 : 20_000;

/**
 * Median ms per call: warm-up calls for a quarter of minMs (so that V8 has optimised every path), then
 * timed calls until minMs have passed (at least 3). The median resists other processes on a shared box.
 */
function timeIt(step: () => void): number {
  const w0 = performance.now();
  do step();
  while (performance.now() - w0 < minMs / 4);
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || performance.now() - t0 < minMs) {
    const t = performance.now();
    step();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/**
 * Median ms per call of ours and of theirs (onnxruntime's session.run), called in turn: both see the same
 * state of the machine (cache, clock, the other core's load), which moves either median by up to 2×
 * between runs on a shared box.
 */
async function timePair(ours: () => void, theirs: () => Promise<unknown>): Promise<[number, number]> {
  const w0 = performance.now();
  do {
    ours();
    await theirs();
  } while (performance.now() - w0 < minMs / 4);
  const a: number[] = [], b: number[] = [];
  const t0 = performance.now();
  while (a.length < 3 || performance.now() - t0 < 2 * minMs) {
    let t = performance.now();
    ours();
    a.push(performance.now() - t);
    t = performance.now();
    await theirs();
    b.push(performance.now() - t);
  }
  const med = (v: number[]): number => v.sort((p, q) => p - q)[v.length >> 1]!;
  return [med(a), med(b)];
}

/** One timed call, for what is too slow to repeat (the naive loops on big lattices). */
function timeOnce(step: () => void): number {
  const t = performance.now();
  step();
  return performance.now() - t;
}

/** Multiply-adds of one forward pass on a coarse lattice of linear size Lc (the same for engine and baseline). */
function macs(spec: ModelSpec, Lc: number): number {
  let sites = Lc ** spec.dim, total = 0;
  for (const l of spec.layers) {
    if (l.type === "conv" || l.type === "convT") total += sites * l.cout * l.cin * l.k ** spec.dim;
    if (l.type === "convT" || l.type === "upsample") sites *= 2 ** spec.dim;
  }
  return total;
}

const isBernoulli = (spec: ModelSpec): boolean => spec.head?.type === "bernoulli";

function coarseInput(spec: ModelSpec, N: number, Lc: number, seed: number): Tensor {
  const rng = rngFor({ seed });
  const n = N * Lc ** spec.dim;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = isBernoulli(spec) ? (rng.double() < 0.5 ? 1 : -1) : rng.normal();
  return { shape: [N, 1, ...Array<number>(spec.dim).fill(Lc)], data };
}

function fineTarget(spec: ModelSpec, n: number, seed: number): Float32Array {
  const rng = rngFor({ seed });
  return Float32Array.from({ length: n }, () => (isBernoulli(spec) ? (rng.double() < 0.5 ? 1 : -1) : rng.normal()));
}

const f = (v: number | null, d = 2): string => (v === null ? "skipped" : v.toFixed(d));
const pad = (s: string, n: number): string => s.padEnd(n);
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null ? a / b : null);
const times = (r: number | null): string => (r === null ? "-" : `${r.toFixed(1)}×`);

// ---------- inference ----------

interface InferRow { net: string; params: number; dim: number; L: number; mmac: number; forwardMs: number | null; trainForwardMs: number | null; trainForwardRatio: number | null; ortMs: number | null; ortRatio: number | null; sampleMs: number | null; naiveMs: number | null; speedup: number | null }

// onnxruntime-node running the same network exported to ONNX (irg export), on one thread like ours;
// optional (not a dependency): see loadOnnxRuntime.
const ort = await loadOnnxRuntime();
if (!ort) console.error("onnxruntime-node not found: the ort column is skipped (ONNXRUNTIME_NODE_INSTALL=skip npm i --no-save onnxruntime-node@1.30.0, or IRG_ONNXRUNTIME_NODE=<dir>)");

/** The networks `irg train` builds by default (defaultNetwork: hidden [16, 16], kernel 5), then other architectures. */
const phi4Net = defaultNetwork({ dim: 2, model: "phi4", head: PHI4_HEAD }, 1).spec;
const isingNet = defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" } }, 1).spec;
const nets: { name: string; spec: ModelSpec; always?: boolean }[] = [
  { name: "phi4-default (gmm2)", spec: phi4Net, always: true },
  { name: "ising-default (bern)", spec: isingNet, always: true },
  { name: "small-2d-bernoulli", spec: irgNetSpec({ dim: 2, head: "bernoulli" }) },
  { name: "small-2d-gmm2", spec: irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2 }) },
  { name: "efthymiou-2d", spec: efthymiouSpec(2) },
  { name: "phi4-default-3d", spec: defaultNetwork({ dim: 3, model: "phi4", head: PHI4_HEAD }, 1).spec },
  { name: "small-3d-bernoulli", spec: irgNetSpec({ dim: 3, head: "bernoulli" }) },
];
const inferSizes: Record<number, number[]> = quick ? { 2: [128, 512], 3: [32, 64] } : { 2: [128, 512, 2048], 3: [32, 64, 128] };

const inferRows: InferRow[] = [];
for (const { name, spec, always } of nets) {
  const params = initParams(spec, rngFor({ seed: 1 }));
  const session = ort && spec.inChannels === 1 && spec.head
    ? await ort.InferenceSession.create(networkToOnnx({ model: isBernoulli(spec) ? "ising" : "phi4", dim: spec.dim as 2 | 3, spec, params: params as Float32Array, inputScale: 1, training: {} }), { intraOpNumThreads: 1, interOpNumThreads: 1 })
    : null;
  // Estimates of the next size's cost (×2^dim per doubling) decide what to skip.
  let lastFwd = 0, lastNaive = 0;
  for (const L of inferSizes[spec.dim]!) {
    const grow = L === inferSizes[spec.dim]![0] ? 0 : 2 ** spec.dim;
    const x = coarseInput(spec, 1, L / 2, 2);
    let forwardMs: number | null = null, trainForwardMs: number | null = null, ortMs: number | null = null, sampleMs: number | null = null, naiveMs: number | null = null;
    if (lastFwd * grow < SKIP_MS) {
      // Already optimised by V8 on the smaller sizes: one call suffices where a call takes seconds.
      const time = lastFwd * grow > 2000 ? timeOnce : timeIt;
      forwardMs = time(() => predict(spec, params, x));
      // The training path's forward pass: double sums over float32 storage (the engine before nn/infer.ts).
      trainForwardMs = time(() => forward(spec, params, x));
      const out = predict(spec, params, x), rng = rngFor({ seed: 3 });
      sampleMs = time(() => headSample(spec.head!, out, rng));
      if (session) {
        const feeds = { coarse: new ort!.Tensor("float32", x.data as Float32Array, x.shape) };
        if (lastFwd * grow > 2000) {
          const t = performance.now();
          await session.run(feeds);
          ortMs = performance.now() - t;
        } else [forwardMs, ortMs] = await timePair(() => predict(spec, params, x), () => session.run(feeds));
      }
      lastFwd = forwardMs;
    } else lastFwd = Infinity;
    // The default networks get their baseline at every size (2048²: one call of ~20 s).
    if (always || lastNaive * grow < SKIP_MS) {
      naiveMs = lastNaive * grow > 2000 ? timeOnce(() => naiveForward(spec, params, x)) : timeIt(() => naiveForward(spec, params, x));
      lastNaive = naiveMs;
    } else lastNaive = Infinity;
    inferRows.push({ net: name, params: params.length, dim: spec.dim, L, mmac: macs(spec, L / 2) / 1e6, forwardMs, trainForwardMs, trainForwardRatio: ratio(trainForwardMs, forwardMs), ortMs, ortRatio: ratio(forwardMs, ortMs), sampleMs, naiveMs, speedup: ratio(naiveMs, forwardMs) });
    console.error(`infer ${name} L=${L}: ${forwardMs?.toFixed(2)} ms (training forward ${trainForwardMs?.toFixed(2)} ms, onnxruntime ${ortMs?.toFixed(2) ?? "-"} ms, naive ${naiveMs?.toFixed(1)} ms)`);
  }
}

// ---------- training: single steps, and whole epochs through the real training path ----------

interface TrainRow { net: string; params: number; dim: number; batch: number; L: number; stepMs: number; naiveMs: number | null; speedup: number | null }
const trainRows: TrainRow[] = [];
const net = (name: string): ModelSpec => nets.find((n) => n.name === name)!.spec;
const trainCases: { name: string; spec: ModelSpec; batch: number; L: number }[] = [
  { name: "phi4-default (gmm2)", spec: phi4Net, batch: 32, L: 32 },
  { name: "ising-default (bern)", spec: isingNet, batch: 32, L: 32 },
  { name: "small-2d-bernoulli", spec: net("small-2d-bernoulli"), batch: 32, L: 16 },
  { name: "small-2d-gmm2", spec: net("small-2d-gmm2"), batch: 32, L: 16 },
  { name: "efthymiou-2d", spec: net("efthymiou-2d"), batch: 32, L: 16 },
  { name: "phi4-default-3d", spec: net("phi4-default-3d"), batch: 8, L: 8 },
  { name: "small-3d-bernoulli", spec: net("small-3d-bernoulli"), batch: 8, L: 8 },
];
/** One naive training step: reference forward, head loss, reference backward, Adam. */
function naiveStep(spec: ModelSpec, params: Float32Array, adam: ReturnType<typeof adamInit>, x: Tensor, target: ArrayLike<number>): void {
  const vals = naiveForward(spec, params, x);
  const { grad } = headLoss(spec.head!, vals[vals.length - 1]!, target);
  adamStep(params, naiveBackward(spec, params, vals, grad).gradParams, adam, { lr: 1e-4 });
}
for (const c of trainCases) {
  const params = initParams(c.spec, rngFor({ seed: 4 })) as Float32Array;
  const x = coarseInput(c.spec, c.batch, c.L / 2, 5);
  const target = fineTarget(c.spec, c.batch * c.L ** c.spec.dim, 6);
  const adam = adamInit(params.length), opts = { lr: 1e-4 };
  const stepMs = timeIt(() => trainStep(c.spec, params, adam, opts, x, target));
  const nadam = adamInit(params.length);
  const naiveMs = timeIt(() => naiveStep(c.spec, params, nadam, x, target));
  trainRows.push({ net: c.name, params: paramCount(c.spec), dim: c.spec.dim, batch: c.batch, L: c.L, stepMs, naiveMs, speedup: naiveMs / stepMs });
  console.error(`train ${c.name} ${c.batch}×${c.L}^${c.spec.dim}: ${stepMs.toFixed(2)} ms (naive ${naiveMs.toFixed(1)} ms)`);
}

interface EpochRow { net: string; pairs: number; L: number; batch: number; epochS: number; naiveS: number; speedup: number }

/** n random pairs of size L (targets ±1 or normal; the coarse input is every other site, its content does not change the cost). */
function pairSet(spec: ModelSpec, n: number, L: number, seed: number): PairSet {
  const fine = fineTarget(spec, n * L * L, seed), Lc = L / 2, coarse = new Float32Array(n * Lc * Lc);
  for (let k = 0; k < n; k++) for (let y = 0; y < Lc; y++) for (let x = 0; x < Lc; x++) coarse[(k * Lc + y) * Lc + x] = fine[(k * L + 2 * y) * L + 2 * x]!;
  return { dim: 2, L, coarse, fine, n };
}

/** One epoch as src/jobs/train.ts runs it: shuffled batches, random symmetry per pair, gradient, Adam. */
function epoch(nw: Network, set: PairSet, batch: number, e: number): void {
  const order = Int32Array.from({ length: set.n }, (_, i) => i), sc = scratchFor(set), grad = new Float32Array(nw.params.length), adam = adamInit(nw.params.length);
  shuffle(order, rngFor({ seed: 1, task: 8200, replica: e }));
  const aug = rngFor({ seed: 1, task: 8300, replica: e });
  for (let s = 0; s < set.n; s += batch) {
    grad.fill(0);
    batchGradient(nw, set, order.subarray(s, Math.min(set.n, s + batch)), grad, 1, aug, sc);
    adamStep(nw.params, grad, adam, { lr: 1e-4 });
  }
}

/** The same batches through the reference loops (no augmentation: a permutation costs nothing next to them). */
function naiveEpoch(nw: Network, set: PairSet, batch: number): void {
  const adam = adamInit(nw.params.length), V = set.L ** 2, Vc = V / 4;
  for (let s = 0; s < set.n; s += batch) {
    const n = Math.min(batch, set.n - s);
    const x: Tensor = { shape: [n, 1, set.L / 2, set.L / 2], data: set.coarse.subarray(s * Vc, (s + n) * Vc) };
    naiveStep(nw.spec, nw.params, adam, x, set.fine.subarray(s * V, (s + n) * V));
  }
}

const epochRows: EpochRow[] = [];
const epochPairs = quick ? 256 : 1000, epochL = 32, epochBatch = 32;
for (const [name, model] of [["phi4-default (gmm2)", "phi4"], ["ising-default (bern)", "ising"]] as const) {
  const nw = defaultNetwork({ dim: 2, model, head: model === "phi4" ? PHI4_HEAD : { type: "bernoulli" } }, 1), set = pairSet(nw.spec, epochPairs, epochL, 7);
  // Median of three epochs (the first also warms V8 up); the baseline once: it takes seconds.
  const ts = [0, 1, 2].map((e) => timeOnce(() => epoch(nw, set, epochBatch, e))).sort((a, b) => a - b);
  const naiveMs = timeOnce(() => naiveEpoch(nw, set, epochBatch));
  epochRows.push({ net: name, pairs: epochPairs, L: epochL, batch: epochBatch, epochS: ts[1]! / 1000, naiveS: naiveMs / 1000, speedup: naiveMs / ts[1]! });
  console.error(`epoch ${name}: ${(ts[1]! / 1000).toFixed(2)} s (naive ${(naiveMs / 1000).toFixed(1)} s)`);
}

// ---------- peak RSS of streamed generation (child processes) ----------

async function makeInput(path: string, n: number): Promise<void> {
  await h5Ready();
  const L = 256, rng = rngFor({ seed: 11 }), cfg = new Float32Array(L * L);
  const obs = ["action", "magnetization", "phi2", "phi4", "hopping"];
  const w = createEnsemble(path, { model: "phi4", dim: 2, L, chains: 1, observables: obs, configDtype: "float32", software: SOFTWARE, params: { mu2: -0.95, lambda: 0.7, kappa: 1, saveEvery: 1 } }, { force: true });
  const values = obs.map(() => new Float64Array(1));
  for (let k = 0; k < n; k++) {
    let p2 = 0;
    for (let i = 0; i < cfg.length; i++) p2 += (cfg[i] = rng.normal()) ** 2;
    values[2]![0] = p2;
    w.measurement(values, [cfg]);
  }
  w.close({ completed: true });
}

const genNs = (opt("--gen") ?? (quick ? "20,200" : "200,2000")).split(",").map(Number).filter((n) => n > 0);
const genRows: GenResult[] = [];
if (genNs.length > 0) {
  const tmp = mkdtempSync(join(tmpdir(), "irg-bench-gen-")), input = join(tmp, "coarse256.h5");
  try {
    await makeInput(input, Math.max(...genNs));
    const self = fileURLToPath(import.meta.url);
    for (const N of genNs) {
      const prefix = join(tmp, `gen${N}`);
      const r = spawnSync(process.execPath, [self, "--gen-child", input, prefix, String(N)], { encoding: "utf8" });
      rmSync(`${prefix}_L512.h5`, { force: true });
      if (r.status !== 0) throw new Error(`generation child for N = ${N} failed: ${r.stderr}`);
      const g = JSON.parse(r.stdout.trim()) as GenResult;
      genRows.push(g);
      console.error(`generate N=${N} 512²: peak RSS ${g.peakRssMB.toFixed(0)} MB (before ${g.rssBeforeMB.toFixed(0)} MB), ${g.msPerConfig.toFixed(1)} ms/config`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------- report ----------

console.log(`inference, one configuration (L = generated size; input L/2; predict with the ${inferKernel() === "wasm" ? "WebAssembly SIMD float32 engine (nn/infer.ts)" : "scalar twin of the float32 engine (WebAssembly not built)"}; train fwd = the training path's forward, double sums; ort = onnxruntime-node on one thread, the same network exported to ONNX, timed in turn with predict; naive = direct loops, same multiply-adds):`);
console.log(`${pad("net", 22)}${pad("params", 8)}${pad("L", 8)}${pad("MMAC", 9)}${pad("predict ms", 12)}${pad("train fwd", 10)}${pad("ratio", 8)}${pad("ort ms", 9)}${pad("fwd/ort", 9)}${pad("sample ms", 11)}${pad("naive ms", 12)}speed-up`);
for (const r of inferRows) {
  console.log(`${pad(r.net, 22)}${pad(String(r.params), 8)}${pad(`${r.L}^${r.dim}`, 8)}${pad(r.mmac.toFixed(1), 9)}${pad(f(r.forwardMs), 12)}${pad(f(r.trainForwardMs), 10)}${pad(times(r.trainForwardRatio), 8)}${pad(r.ortMs === null ? "-" : r.ortMs.toFixed(2), 9)}${pad(times(r.ortRatio), 9)}${pad(f(r.sampleMs), 11)}${pad(f(r.naiveMs, 1), 12)}${times(r.speedup)}`);
}
console.log("train step (forward + loss + backward + Adam):");
console.log(`${pad("net", 22)}${pad("params", 8)}${pad("batch", 14)}${pad("step ms", 10)}${pad("naive ms", 12)}speed-up`);
for (const r of trainRows) {
  console.log(`${pad(r.net, 22)}${pad(String(r.params), 8)}${pad(`${r.batch}×${r.L}^${r.dim}`, 14)}${pad(r.stepMs.toFixed(2), 10)}${pad(f(r.naiveMs, 1), 12)}${times(r.speedup)}`);
}
console.log("training epoch (the irg train loop: shuffle, random symmetries, batch gradient, Adam; no validation pass):");
console.log(`${pad("net", 22)}${pad("pairs", 14)}${pad("batch", 7)}${pad("epoch s", 10)}${pad("naive s", 10)}speed-up`);
for (const r of epochRows) console.log(`${pad(r.net, 22)}${pad(`${r.pairs}×${r.L}²`, 14)}${pad(String(r.batch), 7)}${pad(r.epochS.toFixed(2), 10)}${pad(r.naiveS.toFixed(1), 10)}${times(r.speedup)}`);
if (genRows.length > 0) {
  console.log("streamed generation, phi4-default 256² → 512² into HDF5 (one child process per N; 1 MB per generated configuration):");
  console.log(`${pad("N", 8)}${pad("ms/config", 11)}${pad("output MB", 11)}${pad("RSS before MB", 15)}${pad("peak RSS MB", 13)}RSS at end MB`);
  for (const g of genRows) console.log(`${pad(String(g.N), 8)}${pad(g.msPerConfig.toFixed(1), 11)}${pad(g.outputMB.toFixed(0), 11)}${pad(g.rssBeforeMB.toFixed(0), 15)}${pad(g.peakRssMB.toFixed(0), 13)}${g.rssEndMB.toFixed(0)}`);
}

const result = {
  benchmark: "nn",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  notes: "single thread (onnxruntime too: intraOpNumThreads 1); float32; L is the generated (fine) linear size, input L/2; naive = reference.ts direct loops (modulo wrap per access), same multiply-adds; peak RSS = process.resourceUsage().maxRSS of a child running src/jobs/generate.ts",
  targets: { infer512SqMs: 10, infer128CubeMs: 150, train2dStepMs: 16.8 },
  inference: inferRows,
  train: trainRows,
  epoch: epochRows,
  generation: genRows,
};
const out = opt("--out") ?? join("bench", "results", `nn-${result.date.slice(0, 10)}.json`);
writeBenchResult(out, result);
