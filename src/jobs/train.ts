// Training an inverse-RG network on (blocked → original) pairs from ensemble files: Adam on the mean
// negative log-likelihood per site, random lattice symmetries as augmentation, early stopping on a
// validation set, and a checkpoint after every epoch from which training resumes bit-for-bit.

import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { type NetworkModel } from "../irg/generator.js";
import { type PairSet, shuffle, splitIndices } from "../irg/dataset.js";
import { adamInit, adamStep, type AdamState } from "../nn/adam.js";
import { defaultNetwork, type Network, stage2Network } from "../irg/network.js";
import { defaultWorkers } from "../cluster/pool.js";
import { type GradientEngine, inlineEngine, makeShards, threadedEngine } from "./train-shards.js";
import { lockOutput, openEnsemble } from "../io/ensemble.js";
import { h5Ready } from "../io/h5.js";
import { fileExists, readTextFile, removeFile, writeFileAtomic } from "../io/files.js";
import { saveNetwork } from "../io/network.js";
import { files, flag, int, num, type ParamSpecs, parseParams, UsageError } from "../models/params.js";
import { z } from "zod";
import { type StoredParams } from "../models/model.js";
import { modelOfNetwork } from "../models/registry.js";
import { blockRuleFor } from "./block.js";
import { SOFTWARE } from "../version.js";

export interface TrainOptions {
  data: string[];
  /** overlap: pairs (overlap-rule blocked ρ → ρ) from "ea" ensembles, Bernoulli head as for Ising. */
  model: NetworkModel;
  out: string;
  epochs?: number;
  batch?: number;
  lr?: number;
  validation?: number;
  patience?: number;
  seed?: number;
  hidden?: number;
  kernel?: number;
  components?: number;
  /** Use at most this many pairs. */
  maxPairs?: number;
  /** The block rule of the pairs (default: the model's own; "decimation" for exact inverse RG). */
  rule?: string;
  force?: boolean;
  /** Worker threads for the gradients (default: all cores; 0: this thread). Results do not depend on it. */
  workers?: number;
  /** Shards per batch (fixed layout of the data-parallel sum; default 8). */
  shards?: number;
  /** 2: a second network redraws the odd sites given the coarse configuration and the even ones (short range). */
  stages?: number;
  progress?: (epoch: number, done: number, total: number, loss: number) => void;
  shouldStop?: () => boolean;
}

/** The flags of `irg train` (validated here; the CLI derives its options from them). */
export const TRAIN_SPECS: ParamSpecs = {
  data: { flag: "--data <files...>", description: "ensembles with stored configurations (one lattice size)", schema: files(), required: true },
  model: { flag: "--model <name>", description: "what the network generates: phi4, ising, potts, or overlap (spin-glass overlap fields from ea ensembles)", schema: z.string().min(1), required: true },
  out: { flag: "--out <net.json>", description: "network file", schema: z.string().min(1), required: true },
  epochs: { flag: "--epochs <n>", description: "maximum epochs", schema: int(1), default: 30 },
  batch: { flag: "--batch <n>", description: "pairs per Adam step", schema: int(1), default: 32 },
  lr: { flag: "--lr <x>", description: "Adam learning rate", schema: num({ positive: true }), default: 0.003 },
  patience: { flag: "--patience <n>", description: "stop after this many epochs without validation improvement", schema: int(1), default: 5 },
  validation: { flag: "--validation <f>", description: "fraction of pairs held out for validation", schema: num().refine((v) => v > 0 && v < 0.5, { message: "must be between 0 and 0.5" }), default: 0.1 },
  hidden: { flag: "--hidden <n>", description: "hidden channels", schema: int(1), default: 16 },
  kernel: { flag: "--kernel <k>", description: "first convolution's kernel size (odd)", schema: int(1).refine((v) => v % 2 === 1, { message: "must be odd" }), default: 5 },
  components: { flag: "--components <K>", description: "Gaussian mixture components (phi4)", schema: int(1), default: 2 },
  maxPairs: { flag: "--max-pairs <n>", description: "use at most this many configurations", schema: int(10) },
  rule: { flag: "--rule <name>", description: "block rule of the training pairs: the model's own (default) or decimation (a network for exact inverse RG, irg exact)", schema: z.string().min(1) },
  seed: { flag: "--seed <s>", description: "seed (initial weights, split, order, augmentation)", schema: int(0), default: 1 },
  workers: { flag: "--workers <n>", description: "worker threads for the gradients (default: all cores; the result does not depend on it)", schema: int(0) },
  stages: { flag: "--stages <n>", description: "1, or 2: a second network on the fine lattice redraws the odd sites given the coarse configuration and the even ones, for the short-range correlations (about twice the training and generation time)", schema: int(1, 2), default: 1 },
  force: { flag: "--force", description: "overwrite an existing network and ignore a checkpoint", schema: flag() },
};

/** Validated training options from raw flags (UsageError naming the flag). */
export function trainOptions(raw: Record<string, unknown>): TrainOptions {
  const o = parseParams<TrainOptions>(TRAIN_SPECS, raw);
  modelOfNetwork(o.model);
  return o;
}

export interface TrainResult {
  out: string;
  epochs: number;
  bestEpoch: number;
  /** Negative log-likelihood per fine site on the validation set, per epoch. */
  validation: number[];
  training: number[];
  pairs: number;
  L: number;
  seconds: number;
  stopped: boolean;
  /** The second stage's epochs and losses (per odd site), with --stages 2. */
  stage2?: { epochs: number; bestEpoch: number; validation: number[]; training: number[] };
}

/** Pairs from every stored configuration of the files (all of one model, dimension and size), blocked by the model's rule. */
export function loadPairs(files: string[], model: NetworkModel, seed: number, maxPairs = Infinity, ruleName?: string): PairSet & { couplings: string; params: StoredParams; rule: string } {
  const d = modelOfNetwork(model);
  const rule = blockRuleFor(d.name, ruleName);
  const parts: { coarse: Float32Array; fine: Float32Array }[] = [];
  let L = 0, dim: 2 | 3 = 2;
  let params: StoredParams | undefined;
  const couplings: string[] = [];
  files.forEach((file, fi) => {
    const r = openEnsemble(file);
    try {
      const { meta } = r;
      if (meta.model !== d.name) throw new UsageError(`${file} holds ${meta.model} configurations, not ${d.name}${model !== d.name ? ` (${model} networks train on ${d.name} ensembles)` : ""}`);
      if (L && meta.L !== L) throw new UsageError(`training files must have one lattice size: ${file} has L = ${meta.L}, others ${L}`);
      if (meta.L % 2 !== 0 || meta.L < 4) throw new UsageError(`${file}: L = ${meta.L} cannot be blocked with b = 2`);
      const states = d.network?.inputStates?.(meta.params);
      if (params && states !== d.network?.inputStates?.(params)) throw new UsageError(`training files must have one number of states: ${file} has ${states}`);
      params ??= meta.params;
      L = meta.L;
      dim = meta.dim as 2 | 3;
      couplings.push(String(meta.params[d.coupling]));
      const lat = lattice(dim, L), Vc = lat.V >> dim;
      const rng = rngFor({ seed, task: 8000 + fi });
      const n = Math.min(r.configRows, Math.max(0, maxPairs - parts.reduce((a, p) => a + p.fine.length / lat.V, 0)));
      if (n === 0) return;
      const cfg = r.configs(0, n);
      const fine = Float32Array.from(cfg as ArrayLike<number>);
      const coarse = new Float32Array(n * Vc);
      const out = meta.configDtype === "int8" ? new Int8Array(Vc) : new Float32Array(Vc);
      for (let k = 0; k < n; k++) {
        rule.apply(lat, cfg.subarray(k * lat.V, (k + 1) * lat.V), out, rng, meta.params);
        coarse.set(out, k * Vc);
      }
      parts.push({ coarse, fine });
    } finally {
      r.close();
    }
  });
  const n = parts.reduce((a, p) => a + p.fine.length, 0) / L ** dim;
  if (n < 10) throw new UsageError(`only ${n} stored configurations in ${files.join(", ")}; training needs at least 10 (simulate with --save-every small)`);
  const cat = (f: (p: (typeof parts)[number]) => Float32Array): Float32Array => {
    const out = new Float32Array(parts.reduce((a, p) => a + f(p).length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(f(p), o);
      o += f(p).length;
    }
    return out;
  };
  const states = d.network?.symmetry === "permutation" ? d.network.inputStates?.(params!) : undefined;
  return { dim, L, n, coarse: cat((p) => p.coarse), fine: cat((p) => p.fine), couplings: [...new Set(couplings)].join(","), params: params!, rule: rule.name, ...(states ? { states } : {}) };
}

interface TrainCheckpoint {
  epoch: number;
  params: number[];
  best: number[];
  bestLoss: number;
  bestEpoch: number;
  bad: number;
  adam: { m: number[]; v: number[]; step: number };
  validation: number[];
  training: number[];
  settings: string;
}

function checkpointPath(out: string): string {
  return `${out}.checkpoint.json`;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  await h5Ready();
  // One training per network file: two on the same --out would interleave their checkpoints.
  const unlock = lockOutput(o.out);
  try {
    return await trainLocked(o);
  } finally {
    unlock();
  }
}

async function trainLocked(o: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const epochs = o.epochs ?? 30, batch = o.batch ?? 32, lr = o.lr ?? 3e-3, patience = o.patience ?? 5, seed = o.seed ?? 1, stages = o.stages ?? 1;
  for (const [name, v, min] of [["epochs", epochs, 1], ["batch", batch, 1], ["patience", patience, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${v}`);
  }
  if (!(lr > 0)) throw new UsageError(`--lr must be > 0, got ${lr}`);
  if (stages === 2 && o.rule === "decimation") throw new UsageError("--stages 2 does not go with --rule decimation (the exact map draws the non-decimated sites in one stage)");
  if (fileExists(o.out) && !o.force) throw new UsageError(`${o.out} already exists; use --force to overwrite it`);
  const support = modelOfNetwork(o.model).network!;
  const set = loadPairs(o.data, o.model, seed, o.maxPairs, o.rule);
  const net: Network = defaultNetwork({ dim: set.dim, model: o.model, head: support.head(set.params, { components: o.components }), inputStates: support.inputStates?.(set.params), hidden: o.hidden, kernel: o.kernel }, seed);
  const { train: trainIdx, validation: valIdx } = splitIndices(set.n, o.validation ?? 0.1, rngFor({ seed, task: 8100 }));
  const shards = o.shards ?? 8;
  const settings = JSON.stringify({ data: o.data, model: o.model, epochs, batch, lr, patience, seed, hidden: o.hidden, kernel: o.kernel, components: o.components, maxPairs: o.maxPairs, n: set.n, shards, ...(o.rule ? { rule: o.rule } : {}), ...(stages > 1 ? { stages } : {}) });
  // Inputs are not rescaled: at the fixed point blocked and original configurations share their
  // long-wavelength statistics, which the network then carries over exactly; rescaling by
  // rms(blocked)/rms(original) (0.96 for φ⁴) lost 4% of ⟨|m|⟩ per doubling. The short-range excess
  // that unscaled originals cause is removed by the refinement sweeps of generate.ts.
  net.inputScale = 1;
  const fitOpts = { epochs, batch, lr, patience, seed, shards, settings, workers: o.workers, force: o.force, progress: o.progress, shouldStop: o.shouldStop };
  const cpPath = checkpointPath(o.out);
  // Each stage keeps its checkpoint until the network is written: a resumed run skips a finished stage.
  const one = await fit(net, set, trainIdx, valIdx, cpPath, fitOpts);
  const result: TrainResult = { out: o.out, epochs: one.epochs, bestEpoch: one.bestEpoch, validation: one.validation, training: one.training, pairs: set.n, L: set.L, seconds: 0, stopped: one.stopped };
  const provenance = (r: FitResult): Record<string, string | number> => ({
    data: o.data.join(","), couplings: set.couplings, block_rule: set.rule, L: set.L, pairs: set.n, epochs: r.epochs, best_epoch: r.bestEpoch,
    validation_nll_per_site: r.bestLoss, batch, lr, seed, input_scale: net.inputScale, date: new Date().toISOString(),
  });
  let two: FitResult | null = null;
  if (!one.stopped && stages === 2) {
    const second = stage2Network(net, o.hidden, seed);
    two = await fit(second, set, trainIdx, valIdx, `${cpPath}.stage2`, { ...fitOpts, settings: `${settings}:stage2` });
    result.stage2 = { epochs: two.epochs, bestEpoch: two.bestEpoch, validation: two.validation, training: two.training };
    result.stopped = two.stopped;
    if (!two.stopped) net.stage2 = { spec: second.spec, params: second.params, training: { ...provenance(two), validation_nll_per_odd_site: two.bestLoss } };
  }
  result.seconds = (performance.now() - t0) / 1000;
  if (result.stopped) return result;
  net.training = { ...provenance(one), ...(two ? { stages: 2 } : {}) };
  saveNetwork(o.out, net, SOFTWARE);
  removeFile(cpPath);
  if (two) removeFile(`${cpPath}.stage2`);
  return result;
}

interface FitOptions {
  epochs: number;
  batch: number;
  lr: number;
  patience: number;
  seed: number;
  shards: number;
  settings: string;
  workers?: number;
  force?: boolean;
  progress?: TrainOptions["progress"];
  shouldStop?: () => boolean;
}

interface FitResult {
  epochs: number;
  bestEpoch: number;
  bestLoss: number;
  validation: number[];
  training: number[];
  stopped: boolean;
}

/**
 * Adam on `net` (its params end as the best by validation loss) with early stopping, checkpointed to
 * `cpPath` after every epoch (resumed from it when its settings match).
 */
async function fit(net: Network, set: PairSet, trainIdx: Int32Array, valIdx: Int32Array, cpPath: string, f: FitOptions): Promise<FitResult> {
  const { epochs, batch, lr, patience, seed, shards, settings } = f;
  const V = set.L ** set.dim;
  let adam: AdamState = adamInit(net.params.length);
  let best = net.params.slice(), bestLoss = Infinity, bestEpoch = 0, bad = 0, start = 0;
  const validation: number[] = [], trainingLoss: number[] = [];
  if (fileExists(cpPath) && !f.force) {
    const cp = JSON.parse(readTextFile(cpPath)) as TrainCheckpoint;
    if (cp.settings !== settings) throw new UsageError(`${cpPath} belongs to a training with other settings; remove it or use --force`);
    net.params.set(cp.params);
    best = Float32Array.from(cp.best);
    adam = { m: Float64Array.from(cp.adam.m), v: Float64Array.from(cp.adam.v), step: cp.adam.step };
    ({ bestLoss, bestEpoch, bad } = cp);
    start = cp.epoch;
    validation.push(...cp.validation);
    trainingLoss.push(...cp.training);
  }
  const grad = new Float32Array(net.params.length);
  let stopped = false;
  const steps = Math.ceil(trainIdx.length / batch);
  const workers = Math.min(f.workers ?? defaultWorkers(), shards);
  const engine: GradientEngine = workers > 1 ? threadedEngine(net, set, workers) : inlineEngine(net, set);
  let epoch = start;
  try {
    for (; epoch < epochs && bad < patience; epoch++) {
      // Every epoch's order and every shard's augmentation derive from (seed, epoch, step, shard): a
      // resumed run repeats them exactly, and so does a run with another number of workers.
      const order = trainIdx.slice();
      shuffle(order, rngFor({ seed, task: 8200, replica: epoch }));
      let sum = 0;
      for (let s = 0; s < steps; s++) {
        const idx = order.subarray(s * batch, Math.min(order.length, (s + 1) * batch));
        grad.fill(0);
        const replica = (epoch * steps + s) * shards;
        sum += await engine.run(net.params, makeShards(idx, shards, (k) => ({ seed, replica: replica + k })), grad);
        adamStep(net.params, grad, adam, { lr });
        f.progress?.(epoch, s + 1, steps, sum / ((s * batch + idx.length) * V));
        if (engine.workers === 0 && s % 4 === 3) await new Promise((res) => setImmediate(res));
        if (f.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      trainingLoss.push(sum / (trainIdx.length * V));
      let vl = 0;
      for (let a = 0; a < valIdx.length; a += 4 * batch) {
        vl += await engine.run(net.params, makeShards(valIdx.subarray(a, a + 4 * batch), shards, () => null), null);
      }
      vl /= valIdx.length * V;
      validation.push(vl);
      if (vl < bestLoss - 1e-6) {
        bestLoss = vl;
        bestEpoch = epoch + 1;
        best = net.params.slice();
        bad = 0;
      } else bad++;
      const cp: TrainCheckpoint = {
        epoch: epoch + 1, params: Array.from(net.params), best: Array.from(best), bestLoss, bestEpoch, bad,
        adam: { m: Array.from(adam.m), v: Array.from(adam.v), step: adam.step }, validation, training: trainingLoss, settings,
      };
      writeFileAtomic(cpPath, JSON.stringify(cp));
    }
  } finally {
    await engine.close();
  }
  if (!stopped) net.params.set(best);
  return { epochs: epoch, bestEpoch, bestLoss, validation, training: trainingLoss, stopped };
}
