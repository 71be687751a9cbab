// `node dist/bench/nn.js`: cost of the IRG network engine — inference per configuration (2D up to 2048²,
// 3D up to 128³) and one training step (forward + backward + Adam), each against the naive reference loops.
//
// Sizes are those of the generated (fine) configuration; the input is the coarse one (half the size).
// Options: --quick (shorter timings, smaller sizes), --out <file.json>. Writes bench/results/nn-<date>.json.

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { rngFor } from "../src/lattice/rng.js";
import { adamInit, adamStep } from "../src/irg/nn/adam.js";
import { headLoss, headSample } from "../src/irg/nn/heads.js";
import { efthymiouSpec, irgNetSpec } from "../src/irg/nn/irgnet.js";
import { type ModelSpec, initParams, paramCount, predict } from "../src/irg/nn/model.js";
import { naiveBackward, naiveForward } from "../src/irg/nn/reference.js";
import { trainStep } from "../src/irg/nn/train.js";
import { type Tensor } from "../src/irg/nn/tensor.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const minMs = quick ? 200 : 1000;
/** Anything expected to take longer than this per call is skipped. */
const SKIP_MS = 20_000;

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

/** One timed call, for what is too slow to repeat (the naive loops on big lattices). */
function timeOnce(step: () => void): number {
  const t = performance.now();
  step();
  return performance.now() - t;
}

function coarseInput(spec: ModelSpec, N: number, Lc: number, seed: number): Tensor {
  const rng = rngFor({ seed });
  const n = N * Lc ** spec.dim;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = spec.head?.type === "bernoulli" ? (rng.double() < 0.5 ? 1 : -1) : rng.normal();
  return { shape: [N, 1, ...Array<number>(spec.dim).fill(Lc)], data };
}

function fineTarget(spec: ModelSpec, n: number, seed: number): Float32Array {
  const rng = rngFor({ seed });
  return Float32Array.from({ length: n }, () => (spec.head?.type === "bernoulli" ? (rng.double() < 0.5 ? 1 : -1) : rng.normal()));
}

interface InferRow { net: string; params: number; dim: number; L: number; forwardMs: number | null; sampleMs: number | null; naiveMs: number | null; speedup: number | null }
interface TrainRow { net: string; params: number; dim: number; batch: number; L: number; stepMs: number; naiveMs: number | null; speedup: number | null }

const nets: { name: string; spec: ModelSpec }[] = [
  { name: "default-2d-bernoulli", spec: irgNetSpec({ dim: 2, head: "bernoulli" }) },
  { name: "default-2d-gmm2", spec: irgNetSpec({ dim: 2, head: "gaussian-mixture", components: 2 }) },
  { name: "wide-2d-bernoulli", spec: irgNetSpec({ dim: 2, head: "bernoulli", hidden: [16, 16] }) },
  { name: "efthymiou-2d", spec: efthymiouSpec(2) },
  { name: "default-3d-bernoulli", spec: irgNetSpec({ dim: 3, head: "bernoulli" }) },
  { name: "default-3d-gmm2", spec: irgNetSpec({ dim: 3, head: "gaussian-mixture", components: 2 }) },
  { name: "wide-3d-bernoulli", spec: irgNetSpec({ dim: 3, head: "bernoulli", hidden: [16, 16] }) },
];
const inferSizes: Record<number, number[]> = quick ? { 2: [128, 512], 3: [32, 64] } : { 2: [128, 512, 2048], 3: [32, 64, 128] };

const inferRows: InferRow[] = [];
for (const { name, spec } of nets) {
  const params = initParams(spec, rngFor({ seed: 1 }));
  // Estimates of the next size's cost (×2^dim per doubling) decide what to skip.
  let lastFwd = 0, lastNaive = 0;
  for (const L of inferSizes[spec.dim]!) {
    const grow = L === inferSizes[spec.dim]![0] ? 0 : 2 ** spec.dim;
    const x = coarseInput(spec, 1, L / 2, 2);
    let forwardMs: number | null = null, sampleMs: number | null = null, naiveMs: number | null = null;
    if (lastFwd * grow < SKIP_MS) {
      // Already optimised by V8 on the smaller sizes: one call suffices where a call takes seconds.
      const time = lastFwd * grow > 2000 ? timeOnce : timeIt;
      forwardMs = time(() => predict(spec, params, x));
      const out = predict(spec, params, x), rng = rngFor({ seed: 3 });
      sampleMs = time(() => headSample(spec.head!, out, rng));
      lastFwd = forwardMs;
    } else lastFwd = Infinity;
    if (lastNaive * grow < SKIP_MS) {
      naiveMs = lastNaive * grow > 2000 ? timeOnce(() => naiveForward(spec, params, x)) : timeIt(() => naiveForward(spec, params, x));
      lastNaive = naiveMs;
    } else lastNaive = Infinity;
    inferRows.push({ net: name, params: params.length, dim: spec.dim, L, forwardMs, sampleMs, naiveMs, speedup: forwardMs && naiveMs ? naiveMs / forwardMs : null });
    console.error(`infer ${name} L=${L}: ${forwardMs?.toFixed(2)} ms (naive ${naiveMs?.toFixed(1)} ms)`);
  }
}

const trainRows: TrainRow[] = [];
const net = (name: string): ModelSpec => nets.find((n) => n.name === name)!.spec;
const trainCases: { name: string; spec: ModelSpec; batch: number; L: number }[] = [
  { name: "default-2d-bernoulli", spec: net("default-2d-bernoulli"), batch: 32, L: 16 },
  { name: "default-2d-gmm2", spec: net("default-2d-gmm2"), batch: 32, L: 16 },
  { name: "wide-2d-bernoulli", spec: net("wide-2d-bernoulli"), batch: 32, L: 16 },
  { name: "efthymiou-2d", spec: net("efthymiou-2d"), batch: 32, L: 16 },
  { name: "default-2d-bernoulli", spec: net("default-2d-bernoulli"), batch: 32, L: 32 },
  { name: "default-3d-bernoulli", spec: net("default-3d-bernoulli"), batch: 8, L: 8 },
  { name: "default-3d-gmm2", spec: net("default-3d-gmm2"), batch: 8, L: 8 },
  { name: "wide-3d-bernoulli", spec: net("wide-3d-bernoulli"), batch: 8, L: 8 },
];
for (const c of trainCases) {
  const params = initParams(c.spec, rngFor({ seed: 4 }));
  const x = coarseInput(c.spec, c.batch, c.L / 2, 5);
  const target = fineTarget(c.spec, c.batch * c.L ** c.spec.dim, 6);
  const adam = adamInit(params.length), opts = { lr: 1e-4 };
  const stepMs = timeIt(() => trainStep(c.spec, params, adam, opts, x, target));
  const nadam = adamInit(params.length);
  const naiveMs = timeIt(() => {
    const vals = naiveForward(c.spec, params, x);
    const { grad } = headLoss(c.spec.head!, vals[vals.length - 1]!, target);
    adamStep(params, naiveBackward(c.spec, params, vals, grad).gradParams, nadam, opts);
  });
  trainRows.push({ net: c.name, params: paramCount(c.spec), dim: c.spec.dim, batch: c.batch, L: c.L, stepMs, naiveMs, speedup: naiveMs / stepMs });
  console.error(`train ${c.name} ${c.batch}×${c.L}^${c.spec.dim}: ${stepMs.toFixed(2)} ms (naive ${naiveMs.toFixed(1)} ms)`);
}

const f = (v: number | null, d = 2): string => (v === null ? "skipped" : v.toFixed(d));
const pad = (s: string, n: number): string => s.padEnd(n);
console.log("inference, one configuration (L = generated size; input L/2):");
console.log(`${pad("net", 22)}${pad("params", 8)}${pad("L", 7)}${pad("forward ms", 12)}${pad("sample ms", 11)}${pad("naive ms", 12)}speed-up`);
for (const r of inferRows) {
  console.log(`${pad(r.net, 22)}${pad(String(r.params), 8)}${pad(`${r.L}^${r.dim}`, 7)}${pad(f(r.forwardMs), 12)}${pad(f(r.sampleMs), 11)}${pad(f(r.naiveMs, 1), 12)}${r.speedup === null ? "-" : `${r.speedup.toFixed(1)}×`}`);
}
console.log("train step (forward + loss + backward + Adam):");
console.log(`${pad("net", 22)}${pad("params", 8)}${pad("batch", 14)}${pad("step ms", 10)}${pad("naive ms", 12)}speed-up`);
for (const r of trainRows) {
  console.log(`${pad(r.net, 22)}${pad(String(r.params), 8)}${pad(`${r.batch}×${r.L}^${r.dim}`, 14)}${pad(r.stepMs.toFixed(2), 10)}${pad(f(r.naiveMs, 1), 12)}${r.speedup === null ? "-" : `${r.speedup.toFixed(1)}×`}`);
}

const result = {
  benchmark: "nn",
  date: new Date().toISOString(),
  node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  notes: "single thread; float32; L is the generated (fine) linear size, input L/2; naive = reference.ts loops (modulo wrap per access)",
  targets: { infer512SqMs: 10, infer128CubeMs: 150, train2dStepMs: 16.8 },
  inference: inferRows,
  train: trainRows,
};
const out = outArg >= 0 ? args[outArg + 1]! : join("bench", "results", `nn-${result.date.slice(0, 10)}.json`);
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2));
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}`);
