// The inverse-RG study of the seed, end to end: simulate a small lattice at a few couplings, train a
// network on (blocked → original) pairs, generate ever larger lattices, simulate direct Monte Carlo at
// the sizes where that is affordable, validate, locate the critical coupling from the crossing of
// generated and direct ⟨|m|⟩ curves (seed Fig. 3), and extract exponents by finite-size scaling.

import { join } from "node:path";
import { runPool, type Job } from "../cluster/pool.js";
import { openEnsemble, readEnsembleMeta } from "../io/ensemble.js";
import { fileExists, makeDir, removeFile, writeReport } from "../io/files.js";
import { h5Ready } from "../io/h5.js";
import { buildCurves, crossing, type Curves, fssSlope, jackknifed } from "../analysis/mcrg.js";
import { type Estimate, uwerr } from "../analysis/stats.js";
import { type GenerateResult } from "./generate.js";
import { blockedRun, originalRun } from "./mcrg.js";
import { type ExactJobParams, type GenerateJobParams, runJob, WORKER_URL, type SimulateJobParams } from "./registry.js";
import { type ExactSummary } from "./exact.js";
import { measureFile } from "./measure.js";
import { simulateOptions, type SimulationResult } from "./simulation.js";
import { MODELS, modelOf } from "../models/registry.js";
import { int, type ParamSpecs, parseParams } from "../models/params.js";
import { parseGrid } from "./scan.js";
import { type CriticalReference, type StoredParams } from "../models/model.js";
import { train, type TrainResult } from "./train.js";
import { type ConfigRun, configRun, validate, type Validation } from "./validate.js";
import { UsageError } from "../models/params.js";

export interface PipelineOptions {
  /** A model with a `pipeline` in its descriptor (ising, phi4, potts; the spin glass has pipeline-ea.ts). */
  model: string;
  /** Model parameters besides the coupling (potts: q). */
  params?: StoredParams;
  outDir: string;
  /** Size of the simulated starting lattices. */
  L0: number;
  /** Largest generated size (a power-of-two multiple of L0). */
  target: number;
  /** Sizes simulated directly for validation (each a multiple of L0 up to target). */
  directSizes: number[];
  /** Couplings (the model's: μ² for phi4, β for ising and potts). */
  couplings: number[];
  sweeps: number;
  therm: number;
  saveEvery: number;
  directSweeps: number;
  epochs: number;
  maxPairs: number;
  /** Starting configurations used for generation per coupling (default: all stored). */
  genLimit?: number;
  /** Local Monte Carlo sweeps after every generated doubling (see generate.ts). */
  refine: number;
  /** Generator stages (1, or 2: see irg train --stages); default 1. */
  stages?: number;
  /**
   * Exact inverse RG: rounds of the exact chain (irg exact, one cluster sweep per size and round,
   * network exchanges between sizes) from `exactFrom` to every direct size, at the verdict coupling;
   * 0 skips the step. Default: the direct sweeps.
   */
  exactRounds?: number;
  /** The smallest size of the exact chains (default 4), so that the exchanges are measured from there up. */
  exactFrom?: number;
  seed: number;
  workers?: number;
  log?: (msg: string) => void;
  progress?: (label: string, done: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface SizeResult {
  L: number;
  kind: "original" | "generated" | "direct" | "exact";
  curves: Curves;
  files: string[];
  samples: number;
}

export interface PipelineResult {
  options: PipelineOptions;
  training: TrainResult;
  families: SizeResult[];
  validations: Validation[];
  /** Crossings of ⟨|m|⟩ (generated vs direct) per size, and the toolkit's MCRG crossing (original vs blocked). */
  crossings: { label: string; L: number; value: Estimate }[];
  critical: Estimate;
  fssSizes: number[];
  /** Exponents and U₄ per size at the IRG crossing (first) and at an independent reference coupling. */
  scaling: ScalingAt[];
  cost: { L: number; generatedSeconds: number; directSweepSeconds: number; tauInt: number; directSecondsPerIndependent: number; ratio: number } | null;
  /** The first stored configuration of an original and of every generated size, for the report. */
  snapshots: { L: number; kind: string; file: string; config: Int8Array | Float32Array }[];
  /** Known critical values of the model (the descriptor's), for the report. */
  reference?: CriticalReference;
  /** The model's coupling (the name of the curves' axis). */
  coupling: "beta" | "mu2";
  /** The exact inverse-RG step (null when skipped). */
  exact: ExactStudy | null;
  seconds: number;
}

/** Exact inverse RG in the study: chains from `from` to every direct size at `coupling` (the exact critical coupling where known, else the verdict coupling). */
export interface ExactStudy {
  coupling: number;
  /** Where the coupling comes from, in words, and its estimate when it is a crossing. */
  couplingSource: string;
  couplingEstimate?: Estimate;
  from: number;
  rounds: number;
  /** The decimation network's training. */
  training: TrainResult;
  /** One chain per direct size: its exchanges over the whole file (every pair of sizes), cost per round and τ_int. */
  runs: { L: number; file: string; seconds: number; secondsPerRound: number; tauInt: number; exchanges: ExactSummary["exchanges"] }[];
  /** Exact against direct Monte Carlo at `coupling`. */
  validations: Validation[];
  /** Generated against direct Monte Carlo at `coupling` (PipelineResult.validations when that is the verdict coupling), for the side-by-side table. */
  generatedValidations: Validation[];
  /** β/ν, γ/ν and U₄ by finite-size scaling over the original L0 and the exact sizes at `coupling`. */
  scaling: ScalingAt;
  /** Time per effectively independent configuration (2τ_int rounds or sweeps, τ_int the larger of |m| and the conjugate variable). */
  cost: { L: number; directSweepSeconds: number; directTau: number; directSeconds: number; mixedRoundSeconds: number; mixedTau: number; mixedSeconds: number; generatedSeconds: number }[];
  /** Exact finite-size values (2D Ising: Kaufman) against the exact chain (at `coupling`) and direct Monte Carlo (at its coupling). */
  reference: { L: number; kind: "exact" | "direct"; coupling: number; quantity: string; exact: number; estimate: Estimate; z: number }[];
}

/**
 * Defaults: the quick study (L = 32 → 128, a few minutes on two cores) unless a larger target is
 * asked for; `--target 512` is the full study. The numbers are the model's (its descriptor's `pipeline`).
 */
export function pipelineDefaults(model: string, target: number, L0: number, params: StoredParams = {}): Omit<PipelineOptions, "outDir" | "log" | "progress" | "shouldStop"> {
  const p = modelOf(model).pipeline;
  if (!p) throw new UsageError(`there is no inverse-RG pipeline for ${model}`);
  const quick = target <= 128;
  // Quick: direct Monte Carlo at 2·L0 and 4·L0; full: at every generated size (the seed compares at 512).
  const directSizes = quick ? [2 * L0, 4 * L0].filter((L) => L <= target) : Array.from({ length: Math.log2(target / L0) }, (_, k) => L0 * 2 ** (k + 1));
  const d = p.defaults(params, quick);
  return { model, params, L0, target, directSizes, therm: 500, maxPairs: quick ? 2000 : 4000, seed: 1, genLimit: 500, ...d };
}

/** The starting size: 32, or the model's choice for the target (φ⁴: 64 for the full study). */
export function defaultL0(model: string, target: number): number {
  return modelOf(model).pipeline?.L0?.(target) ?? 32;
}

/** The numeric flags of the field-model pipeline (the model's own, e.g. --q, come from its descriptor). */
export const PIPELINE_SPECS: ParamSpecs = {
  target: { flag: "--target <L>", description: "largest generated size", schema: int(16, 65536), default: 128 },
  L0: { flag: "--L0 <L>", description: "size of the simulated starting lattices", schema: int(8, 65536).refine((v) => v % 2 === 0, { message: "must be even" }) },
  genLimit: { flag: "--gen-limit <n>", description: "starting configurations used per coupling", schema: int(10) },
  sweeps: { flag: "--sweeps <n>", description: "sweeps of the starting ensembles", schema: int(100) },
  directSweeps: { flag: "--direct-sweeps <n>", description: "sweeps of the direct ensembles", schema: int(100) },
  epochs: { flag: "--epochs <n>", description: "training epochs", schema: int(1) },
  refine: { flag: "--refine <sweeps>", description: "refinement sweeps per doubling", schema: int(0) },
  exact: { flag: "--exact <rounds>", description: "rounds of the exact inverse-RG chain (decimation network, one cluster sweep per size and round) to every direct size; 0: skip (default: the direct sweeps, at most 4000)", schema: int(0) },
  exactFrom: { flag: "--exact-from <L>", description: "smallest size of the exact chains (default 4)", schema: int(2) },
  stages: { flag: "--stages <n>", description: "generator stages: 1, or 2 (a second network redraws the odd sites given the even ones; see irg train --stages)", schema: int(1, 2), default: 1 },
  seed: { flag: "--seed <s>", description: "seed", schema: int(0) },
  workers: { flag: "--workers <n>", description: "worker threads", schema: int(0) },
};

function firstConfig(file: string): Int8Array | Float32Array {
  const e = openEnsemble(file);
  try {
    return e.configs(0, 1);
  } finally {
    e.close();
  }
}

/** The flags each model's pipeline takes besides the coupling (potts: --q), from its descriptor: for the help and `pipelineOptions`. */
/**
 * Which study `irg pipeline <name>` runs: compatible Monte Carlo (a study of its own, named
 * "compatible", not a model), the disorder-averaged study of a model with quenched disorder (the spin
 * glass), or the field-model study of any other model. Unknown names: the registry's one-line error.
 */
export function pipelineStudy(name: string): "compatible" | "disorder" | "field" {
  if (name === "compatible") return "compatible";
  const desc = MODELS.find((m) => m.name === name && (m.pipeline || m.disorder));
  if (!desc) throw new UsageError(`unknown model "${name}"; choose ${MODELS.filter((m) => m.pipeline || m.disorder).map((m) => m.name).join(", ")} or compatible`);
  return desc.disorder ? "disorder" : "field";
}

export function pipelineModelFlags(): ParamSpecs {
  const extra: ParamSpecs = {};
  for (const m of MODELS) for (const k of m.pipeline?.params ?? []) extra[k] = { ...m.params[k]!, description: `${m.name}: ${m.params[k]!.description}` };
  return extra;
}

/**
 * `irg pipeline <model>`: the study, then <out-dir>/report.html, the HTML that `render` makes of it. A
 * signal stops the study between steps with an error; that is a stop (finished ensembles are kept for
 * the rerun), returned with its reason.
 */
export async function pipelineCommand(o: PipelineOptions, render: (r: PipelineResult) => Promise<string>): Promise<{ stopped: string } | { result: PipelineResult; report: string }> {
  let r: PipelineResult;
  try {
    r = await runPipeline(o);
  } catch (e) {
    if (!o.shouldStop?.()) throw e;
    return { stopped: (e as Error).message };
  }
  const report = join(o.outDir, "report.html");
  writeReport(report, await render(r));
  return { result: r, report };
}

/**
 * The options of `irg pipeline <model>` from raw flags: the model's defaults (its descriptor's
 * `pipeline`), overridden by the flags given; `modelFlags` are every model's extra pipeline flags
 * (a flag of another model is refused).
 */
export function pipelineOptions(model: string, raw: Record<string, unknown>, modelFlags: ParamSpecs = {}): PipelineOptions {
  const desc = MODELS.find((m) => m.name === model && m.pipeline);
  if (!desc) throw new UsageError(`"${model}" has no field-model pipeline; choose ${MODELS.filter((m) => m.pipeline).map((m) => m.name).join(", ")}`);
  const f = parseParams<{ target: number; L0?: number; genLimit?: number; sweeps?: number; directSweeps?: number; epochs?: number; refine?: number; stages: number; exact?: number; exactFrom?: number; seed?: number; workers?: number }>(PIPELINE_SPECS, raw);
  const L0 = f.L0 ?? defaultL0(model, f.target);
  // The model's own parameters (potts: --q), validated by its specs.
  const wanted = desc.pipeline!.params ?? [];
  for (const k of Object.keys(modelFlags)) if (raw[k] !== undefined && !wanted.includes(k)) throw new UsageError(`${modelFlags[k]!.flag.split(" ")[0]} does not apply to ${model}`);
  const params = parseParams<StoredParams>(Object.fromEntries(wanted.map((k) => [k, desc.params[k]!])), raw);
  for (const k of wanted) if (params[k] === undefined) throw new UsageError(`${desc.params[k]!.flag} is required for the ${model} pipeline`);
  const d = pipelineDefaults(model, f.target, L0, params);
  return {
    ...d,
    genLimit: f.genLimit ?? d.genLimit,
    couplings: raw.couplings ? parseGrid("--couplings", String(raw.couplings)) : d.couplings,
    directSizes: raw.direct ? parseGrid("--direct", String(raw.direct)) : d.directSizes,
    sweeps: f.sweeps ?? d.sweeps,
    directSweeps: f.directSweeps ?? d.directSweeps,
    epochs: f.epochs ?? d.epochs,
    refine: f.refine ?? d.refine,
    stages: f.stages,
    // At most 4000 rounds by default: a round of the chain to 512² costs about 6 cluster sweeps (mostly the refused exchanges).
    exactRounds: f.exact ?? Math.min(4000, f.directSweeps ?? d.directSweeps),
    exactFrom: f.exactFrom ?? 4,
    seed: f.seed ?? d.seed,
    workers: f.workers,
    outDir: String(raw.outDir ?? "out"),
  };
}

/** Seconds per sweep of the direct algorithm at size L, from a short run (the file is removed). */
async function timeSweeps(o: PipelineOptions, L: number, c: number, out: string): Promise<number> {
  // The production runs' thermalisation, counted as they count it: the cluster algorithm calibrates its
  // clusters per sweep over the later half of it, so the work of a "sweep" (and the τ_int in sweeps it
  // multiplies) depends on it. With 100 sweeps a 512² φ⁴ run calibrated 2.6× the clusters of the
  // production runs, and the cost per independent configuration came out 2.6× too high.
  const sweeps = 200, therm = o.therm;
  const options = simulateOptions(o.model, {
    ...o.params, L, [couplingName(o.model)]: c, out, task: 999, seed: o.seed, therm, sweeps, saveEvery: sweeps, algorithm: directAlgorithm(o.model),
  });
  const r = (await runJob({ id: 0, kind: "simulate", params: { model: o.model, options, force: true, resume: false } }, { progress: () => {}, shouldStop: () => false })) as SimulationResult;
  removeFile(out);
  return r.seconds / (sweeps + therm);
}

/** Finite-size scaling of the original and generated sizes at one coupling. */
export interface ScalingAt {
  label: string;
  coupling: number;
  /** The coupling's own error (0 where it is exact, e.g. the 2D Ising β_c). */
  couplingError: number;
  /** Errors: the jackknife's and the coupling's (below), added in quadrature. */
  betaOverNu: Estimate;
  gammaOverNu: Estimate;
  /** The jackknife errors alone, and half the change of each exponent from c − δc to c + δc. */
  statistical: { betaOverNu: number; gammaOverNu: number };
  fromCoupling: { betaOverNu: number; gammaOverNu: number };
  binder: { L: number; value: Estimate }[];
}

/**
 * The FSS exponents at c, with c's error δc carried into theirs: at a critical coupling that is itself
 * an estimate, the slopes over L = 64 … 512 move by about their own error per 0.0003 in μ², so
 * jackknife errors alone would claim more than the data hold. The curves reweight to c ± δc.
 */
export function scalingAt(families: readonly { L: number; curves: Curves }[], label: string, c: number, dc = 0): ScalingAt {
  const slopes = (x: number): [Estimate, Estimate] => {
    const am = fssSlope(families, "abs_m", x).slope, chi = fssSlope(families, "chi_full", x).slope;
    return [{ ...am, value: -am.value }, chi];
  };
  const [beta, gamma] = slopes(c);
  let shift = { betaOverNu: 0, gammaOverNu: 0 };
  if (Number.isFinite(dc) && dc > 0) {
    const [b1, g1] = slopes(c + dc), [b0, g0] = slopes(c - dc);
    shift = { betaOverNu: Math.abs(b1.value - b0.value) / 2, gammaOverNu: Math.abs(g1.value - g0.value) / 2 };
  }
  const binder = families.map((f) => ({ L: f.L, value: jackknifed(f.curves.groups, (g) => f.curves.value("binder", c, g)) }));
  return {
    label, coupling: c, couplingError: Number.isFinite(dc) ? dc : 0,
    betaOverNu: { ...beta, error: Math.hypot(beta.error, shift.betaOverNu) },
    gammaOverNu: { ...gamma, error: Math.hypot(gamma.error, shift.gammaOverNu) },
    statistical: { betaOverNu: beta.error, gammaOverNu: gamma.error }, fromCoupling: shift, binder,
  };
}

/**
 * Direct ensembles store at most ~600 configurations (they are needed for G(r) and the curves, and a
 * 512² φ⁴ configuration is 1 MB); the measured series keep every sweep.
 */
export function directSaveEvery(o: Pick<PipelineOptions, "saveEvery" | "directSweeps">): number {
  return Math.max(o.saveEvery, Math.ceil(o.directSweeps / 600));
}

const couplingName = (model: string): "beta" | "mu2" => modelOf(model).coupling;
/** Every Monte Carlo run of the pipeline uses the model's pipeline algorithm (a cluster algorithm). */
function directAlgorithm(model: string): string {
  const p = modelOf(model).pipeline;
  if (!p) throw new UsageError(`there is no inverse-RG pipeline for ${model}`);
  return p.algorithm;
}

const file = (dir: string, model: string, L: number, c: number): string => join(dir, `${model}_L${L}_${couplingName(model)}${c.toFixed(6)}.h5`);

/** Checks the sizes and returns the generated sizes. */
export function pipelineSizes(o: Pick<PipelineOptions, "L0" | "target" | "directSizes" | "exactFrom">): number[] {
  const steps = Math.log2(o.target / o.L0);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--target (${o.target}) must be L0 (${o.L0}) times a power of two`);
  for (const L of o.directSizes) if (!(L > o.L0 && L <= o.target && Number.isInteger(Math.log2(L / o.L0)))) throw new UsageError(`direct size ${L} must be one of the generated sizes ${o.L0 * 2}…${o.target}`);
  if (o.exactFrom !== undefined && !(o.exactFrom <= o.L0 && Number.isInteger(Math.log2(o.L0 / o.exactFrom)))) throw new UsageError(`--exact-from ${o.exactFrom} must be L0 (${o.L0}) divided by a power of two (1, 2, 4, …)`);
  return Array.from({ length: steps }, (_, k) => o.L0 * 2 ** (k + 1));
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  await h5Ready();
  const t0 = performance.now();
  const say = o.log ?? (() => {});
  const sizes = pipelineSizes(o);
  makeDir(o.outDir);
  const simDir = join(o.outDir, "mc"), genDir = join(o.outDir, "generated");
  makeDir(simDir);
  makeDir(genDir);
  const coupling = couplingName(o.model);
  // Each Monte Carlo file's series are read once (crossings, τ_int, costs share them).
  const originals = new Map<string, ReturnType<typeof originalRun>>();
  const originalOf = (f: string): ReturnType<typeof originalRun> => originals.get(f) ?? originals.set(f, originalRun(o.model, f)).get(f)!;
  // The central coupling: refinement, and the fallback for the critical one.
  const central = o.couplings[Math.floor(o.couplings.length / 2)]!;

  // 1. Monte Carlo: the starting ensembles and the direct ensembles, all in one pool.
  const jobs: Job<SimulateJobParams>[] = [];
  let task = 0;
  for (const L of [o.L0, ...o.directSizes]) {
    for (const c of o.couplings) {
      const out = file(simDir, o.model, L, c);
      const t = task++;
      if (fileExists(out) && readEnsembleMeta(out).complete) continue;
      const options = simulateOptions(o.model, {
        ...o.params, L, [coupling]: c, out, task: t, seed: o.seed, therm: o.therm, sweeps: L === o.L0 ? o.sweeps : o.directSweeps,
        saveEvery: L === o.L0 ? o.saveEvery : directSaveEvery(o), algorithm: directAlgorithm(o.model),
      });
      jobs.push({ id: jobs.length, kind: "simulate", params: { model: o.model, options, force: true, resume: false } });
    }
  }
  say(`Monte Carlo: ${jobs.length} runs (L = ${[o.L0, ...o.directSizes].join(", ")}; ${coupling} = ${o.couplings.join(", ")})`);
  const timing = new Map<number, number>();
  const sims = (await runPool(jobs, {
    workers: o.workers, workerUrl: WORKER_URL, shouldStop: o.shouldStop,
    onProgress: (id, d, t) => o.progress?.(`simulate ${jobs[id]!.params.options.L}`, d, t),
  }, runJob)) as SimulationResult[];
  sims.forEach((r, k) => timing.set(k, r.seconds));
  if (sims.some((r) => !r.completed)) throw new UsageError("interrupted during the Monte Carlo runs; rerun the same command to continue");

  // 2. Training on every starting ensemble.
  const startFiles = o.couplings.map((c) => file(simDir, o.model, o.L0, c));
  const netPath = join(o.outDir, "network.json");
  say(`training on ${startFiles.length} ensembles of L = ${o.L0}`);
  const training = await train({
    data: startFiles, model: o.model, out: netPath, epochs: o.epochs, maxPairs: o.maxPairs, seed: o.seed, force: true, patience: 3, workers: o.workers, stages: o.stages ?? 1,
    shouldStop: o.shouldStop, progress: (e, d, t) => o.progress?.(`train epoch ${e + 1}`, d, t),
  });
  if (training.stopped) throw new UsageError("interrupted during training; rerun the same command to continue");

  // 3. Generation from every starting ensemble, one job per coupling on all cores (every
  // configuration's stream is keyed by its row, so the split does not change the result).
  const genFiles = new Map<number, string[]>(sizes.map((L) => [L, []]));
  const genStart = performance.now();
  // One refinement coupling for every parent coupling (the central one), so that the map parent →
  // child is the same for all and the generated ensembles can be combined by reweighting.
  const refineAt = central;
  const genJobs: Job<GenerateJobParams>[] = o.couplings.map((c, id) => ({
    id, kind: "generate",
    params: { net: netPath, model: o.model, options: { from: file(simDir, o.model, o.L0, c), prefix: join(genDir, `${o.model}_from${o.L0}_${coupling}${c.toFixed(6)}`), steps: sizes.length, seed: o.seed, force: true, limit: o.genLimit, refine: o.refine, refineAt } },
  }));
  const gens = (await runPool(genJobs, {
    workers: o.workers, workerUrl: WORKER_URL, shouldStop: o.shouldStop,
    onProgress: (id, d, t) => o.progress?.(`generate from ${coupling}=${o.couplings[id]}`, d, t),
  }, runJob)) as GenerateResult[];
  let generated = 0;
  for (const r of gens) {
    r.files.forEach((f) => genFiles.get(f.L)!.push(f.path));
    generated += r.configurations;
  }
  if (o.shouldStop?.()) throw new UsageError("interrupted during generation; rerun the same command to continue");
  // Cost on one core (the jobs' own times), comparable with the single-threaded Monte Carlo runs.
  const genSeconds = gens.reduce((a, r) => a + r.seconds, 0);
  say(`generated ${generated} configurations per size (${sizes.join(", ")}) in ${((performance.now() - genStart) / 1000).toFixed(1)} s (${genSeconds.toFixed(1)} s on one core)`);

  // 3b. The verdict coupling: the toolkit's own MCRG estimate of the critical point (original L0 vs
  // blocked 2·L0), independent of the generated data (the IRG crossing would make |m| agree by
  // construction), else the central coupling.
  let mcrg: PipelineResult["crossings"][number] | undefined;
  if (o.couplings.length > 1 && o.directSizes.includes(2 * o.L0)) {
    const blocked = o.couplings.map((c, k) => blockedRun(o.model, file(simDir, o.model, 2 * o.L0, c), o.seed, 5000 + k));
    const orig0 = o.couplings.map((c) => originalOf(file(simDir, o.model, o.L0, c)));
    mcrg = { label: `MCRG: original ${o.L0} vs blocked ${2 * o.L0}→${o.L0}`, L: o.L0, value: crossing(buildCurves(orig0, orig0[0]!.V, 16), buildCurves(blocked, blocked[0]!.V, 16), "abs_m") };
  }
  const verdict = mcrg && Number.isFinite(mcrg.value.value) ? mcrg.value : undefined;
  const at = verdict?.value ?? central;
  const startMeta = readEnsembleMeta(startFiles[0]!);
  const reference = modelOf(o.model).reference?.(startMeta.params, startMeta.dim);
  // The exact chains run at the exact critical coupling where the model has one (2D Ising, Potts);
  // else where U₄ of the two largest direct sizes cross (exact Monte Carlo, the smallest corrections to
  // scaling: FSS exponents at 512² move by about 1σ per 0.0003 in μ², more than the MCRG estimate's
  // error); else at the verdict coupling.
  let exactSource = reference?.coupling !== undefined ? `the exact critical coupling (${reference.source})` : "the verdict coupling";
  let exactCrossing: Estimate | undefined;
  if (reference?.coupling === undefined && o.directSizes.length >= 2 && o.couplings.length > 1) {
    const [La, Lb] = [...o.directSizes].sort((a, b) => a - b).slice(-2) as [number, number];
    const curvesOf = (L: number): Curves => {
      const runs = o.couplings.map((c) => originalOf(file(simDir, o.model, L, c)));
      return buildCurves(runs, runs[0]!.V, 16);
    };
    const x = crossing(curvesOf(La), curvesOf(Lb), "binder");
    if (Number.isFinite(x.value)) {
      exactCrossing = x;
      exactSource = `the crossing of U₄ of direct ${La} and ${Lb}`;
    }
  }
  // With its error (0 for an exact coupling, and for the central coupling, which is not an estimate).
  const exactCoupling: Estimate = reference?.coupling !== undefined ? { value: reference.coupling, error: 0, tauInt: Number.NaN } : exactCrossing ?? verdict ?? { value: central, error: 0, tauInt: Number.NaN };
  const exactAt = exactCoupling.value;

  // 3c. Exact inverse RG (jobs/exact.ts): a decimation network, then one exact chain from exactFrom to
  // every direct size, one cluster sweep per size and round, all chains in one pool.
  const exactRounds = o.directSizes.length ? o.exactRounds ?? 0 : 0;
  const from = o.exactFrom ?? 4;
  let exactDone: { training: TrainResult; runs: (SimulationResult & { sizes: number[]; summary: ExactSummary })[]; files: string[] } | null = null;
  if (exactRounds > 0) {
    const decPath = join(o.outDir, "network-decimation.json");
    say(`exact inverse RG: a decimation network, then chains ${from} → ${o.directSizes.join(", ")} at ${coupling} = ${exactAt.toFixed(5)} (${exactRounds} rounds)`);
    const decTraining = await train({
      data: startFiles, model: o.model, out: decPath, epochs: o.epochs, maxPairs: o.maxPairs, seed: o.seed, force: true, patience: 3, workers: o.workers, rule: "decimation",
      shouldStop: o.shouldStop, progress: (e, d, t) => o.progress?.(`train (decimation) epoch ${e + 1}`, d, t),
    });
    if (decTraining.stopped) throw new UsageError("interrupted during training; rerun the same command to continue");
    const exactDir = join(o.outDir, "exact");
    makeDir(exactDir);
    const files = o.directSizes.map((L) => join(exactDir, `${o.model}_exact_from${from}_L${L}.h5`));
    const exactJobs: Job<ExactJobParams>[] = o.directSizes.map((L, id) => ({
      id, kind: "exact",
      params: {
        model: o.model,
        raw: { ...o.params, L: from, [coupling]: exactAt, out: files[id]!, task: 1 + id, seed: o.seed, therm: o.therm, sweeps: exactRounds, saveEvery: directSaveEvery({ saveEvery: o.saveEvery, directSweeps: exactRounds }), algorithm: directAlgorithm(o.model) },
        x: { network: decPath, to: L, levelSweeps: new Array<number>(Math.log2(L / from)).fill(1) },
      },
    }));
    const runs = (await runPool(exactJobs, {
      workers: o.workers, workerUrl: WORKER_URL, shouldStop: o.shouldStop,
      onProgress: (id, d, t) => o.progress?.(`exact ${from} → ${o.directSizes[id]}`, d, t),
    }, runJob)) as (SimulationResult & { sizes: number[]; summary: ExactSummary })[];
    if (runs.some((r) => !r.completed)) throw new UsageError("interrupted during the exact chains; rerun the same command to continue");
    exactDone = { training: decTraining, runs, files };
  }

  // 4. Curves of every family; validation where direct data exist.
  const families: SizeResult[] = [];
  const groups = 16;
  // Each file is read once (configurations are the expensive part) and shared with the validation.
  const cache = new Map<string, ConfigRun>();
  const runsOf = (files: string[]): ConfigRun[] => files.map((f) => cache.get(f) ?? cache.set(f, configRun(f)).get(f)!);
  const orig = runsOf(startFiles);
  families.push({ L: o.L0, kind: "original", curves: buildCurves(orig, o.L0 ** orig[0]!.dim, groups), files: startFiles, samples: orig.reduce((a, r) => a + r.samples, 0) });
  for (const L of sizes) {
    const g = runsOf(genFiles.get(L)!);
    families.push({ L, kind: "generated", curves: buildCurves(g, L ** g[0]!.dim, groups), files: genFiles.get(L)!, samples: g.reduce((a, r) => a + r.samples, 0) });
  }
  for (const L of o.directSizes) {
    const files = o.couplings.map((c) => file(simDir, o.model, L, c));
    const d = runsOf(files);
    families.push({ L, kind: "direct", curves: buildCurves(d, L ** d[0]!.dim, groups), files, samples: d.reduce((a, r) => a + r.samples, 0) });
  }
  exactDone?.files.forEach((f, k) => {
    const e = runsOf([f]);
    families.push({ L: o.directSizes[k]!, kind: "exact", curves: buildCurves(e, o.directSizes[k]! ** e[0]!.dim, groups), files: [f], samples: e[0]!.samples });
  });
  const fam = (L: number, kind: SizeResult["kind"]): SizeResult | undefined => families.find((f) => f.L === L && f.kind === kind);

  // 5. Critical coupling: generated vs direct |m| at each direct size (seed Fig. 3); MCRG cross-check.
  const crossings: PipelineResult["crossings"] = [];
  for (const L of o.directSizes) crossings.push({ label: `generated ${L} vs direct ${L}`, L, value: crossing(fam(L, "generated")!.curves, fam(L, "direct")!.curves, "abs_m") });
  if (mcrg) crossings.push(mcrg);
  const validations = o.directSizes.map((L) => validate(runsOf(fam(L, "generated")!.files), runsOf(fam(L, "direct")!.files), { groups, points: 3, at }));
  const irgCross = crossings.filter((c) => c.label.startsWith("generated") && Number.isFinite(c.value.value)).sort((a, b) => b.L - a.L)[0];
  const critical: Estimate = irgCross?.value ?? { value: central, error: Number.NaN, tauInt: Number.NaN };

  // 6. Exponents by finite-size scaling over the original and generated sizes at the critical coupling.
  const fssFamilies = [fam(o.L0, "original")!, ...sizes.map((L) => fam(L, "generated")!)].map((f) => ({ L: f.L, curves: f.curves }));
  const dim = orig[0]!.dim;
  // Also at a coupling that does not come from the generated data: the exact critical coupling where
  // the model has one (2D Ising, 2D Potts), or this run's MCRG crossing (original L0 vs blocked 2·L0).
  const scaling = [scalingAt(fssFamilies, "IRG crossing", critical.value, critical.error)];
  if (reference?.coupling !== undefined) scaling.push(scalingAt(fssFamilies, `exact ${couplingName(o.model) === "beta" ? "β" : "μ²"}_c`, reference.coupling));
  else if (verdict) scaling.push(scalingAt(fssFamilies, "MCRG crossing", verdict.value, verdict.error));

  // 7. Cost per configuration at the largest direct size: generation vs direct MC with τ_int.
  let cost: PipelineResult["cost"] = null;
  const Ld = Math.max(...o.directSizes, 0);
  if (Ld > 0) {
    const idx = jobs.findIndex((j) => j.params.options.L === Ld);
    const dFiles = fam(Ld, "direct")!.files;
    const tau = Math.max(...dFiles.map((f) => uwerr(originalOf(f).m.map(Math.abs)).tauInt));
    let sweepSeconds = idx >= 0 ? timing.get(idx)! / (o.directSweeps + o.therm) : Number.NaN;
    // Direct ensembles reused from an earlier run carry no timing: time a short run of the same kind.
    if (!Number.isFinite(sweepSeconds)) sweepSeconds = await timeSweeps(o, Ld, central, join(simDir, "timing.h5"));
    // Generation time splits evenly over the sizes in proportion to their volumes.
    const vol = sizes.map((L) => L ** dim);
    const genPer = (genSeconds / generated) * (vol[sizes.indexOf(Ld)]! / vol.reduce((a, b) => a + b, 0));
    const directPer = sweepSeconds * 2 * tau;
    cost = { L: Ld, generatedSeconds: genPer, directSweepSeconds: sweepSeconds, tauInt: tau, directSecondsPerIndependent: directPer, ratio: directPer / genPer };
  }
  // 8. The exact ensembles: validation at the same coupling as the generated ones, FSS over the
  // original L0 and the exact sizes, cost per independent configuration, exact finite-size values.
  let exact: ExactStudy | null = null;
  if (exactDone) {
    const d = modelOf(o.model);
    const vol = sizes.map((L) => L ** dim);
    const runs = exactDone.runs.map((r, k) => {
      const L = o.directSizes[k]!;
      return { L, file: exactDone!.files[k]!, seconds: r.seconds, secondsPerRound: r.seconds / (exactRounds + o.therm), tauInt: originalOf(exactDone!.files[k]!).tauInt ?? Number.NaN, exchanges: r.summary.exchanges };
    });
    const cost: ExactStudy["cost"] = [];
    for (const e of runs) {
      const idx = jobs.findIndex((j) => j.params.options.L === e.L && j.params.options[coupling] === central);
      let sweep = idx >= 0 ? timing.get(idx)! / (o.directSweeps + o.therm) : Number.NaN;
      if (!Number.isFinite(sweep)) sweep = await timeSweeps(o, e.L, central, join(simDir, `timing_L${e.L}.h5`));
      const directTau = originalOf(file(simDir, o.model, e.L, central)).tauInt ?? Number.NaN;
      const generatedSeconds = (genSeconds / generated) * (vol[sizes.indexOf(e.L)]! / vol.reduce((a, b) => a + b, 0));
      cost.push({ L: e.L, directSweepSeconds: sweep, directTau, directSeconds: sweep * 2 * directTau, mixedRoundSeconds: e.secondsPerRound, mixedTau: e.tauInt, mixedSeconds: e.secondsPerRound * 2 * e.tauInt, generatedSeconds });
    }
    const exactValues: ExactStudy["reference"] = [];
    for (const e of runs) {
      const params = readEnsembleMeta(e.file).params;
      const points: { kind: "exact" | "direct"; path: string; params: StoredParams }[] = [
        { kind: "exact", path: e.file, params },
        { kind: "direct", path: file(simDir, o.model, e.L, central), params: readEnsembleMeta(file(simDir, o.model, e.L, central)).params },
      ];
      for (const p of points) {
        const known = d.exactFinite?.(dim, e.L, p.params);
        if (!known) continue;
        const m = measureFile(p.path).observables;
        for (const [q, v] of Object.entries(known)) {
          const est = m[q];
          if (est) exactValues.push({ L: e.L, kind: p.kind, coupling: Number(p.params[coupling]), quantity: q, exact: v, estimate: { value: est.value, error: est.error, tauInt: est.tau_int }, z: (est.value - v) / est.error });
        }
      }
    }
    exact = {
      coupling: exactAt, couplingSource: exactSource, ...(exactCrossing ? { couplingEstimate: exactCrossing } : {}), from, rounds: exactRounds, training: exactDone.training, runs, cost, reference: exactValues,
      validations: o.directSizes.map((L) => validate(runsOf(fam(L, "exact")!.files), runsOf(fam(L, "direct")!.files), { groups, points: 3, at: exactAt })),
      generatedValidations: exactAt === at ? validations : o.directSizes.map((L) => validate(runsOf(fam(L, "generated")!.files), runsOf(fam(L, "direct")!.files), { groups, points: 3, at: exactAt })),
      scaling: scalingAt([fam(o.L0, "original")!, ...o.directSizes.map((L) => fam(L, "exact")!)], "exact ensembles", exactAt, exactCoupling.error),
    };
  }
  const shots = [{ L: o.L0, kind: "original", file: startFiles[Math.floor(startFiles.length / 2)]! }, ...sizes.map((L) => ({ L, kind: "generated", file: genFiles.get(L)![Math.floor(o.couplings.length / 2)]! }))];
  const snapshots = shots.map((s) => ({ ...s, config: firstConfig(s.file) }));
  return {
    ...(reference ? { reference } : {}),
    coupling: couplingName(o.model),
    options: o, training, families, validations, crossings, critical,
    fssSizes: fssFamilies.map((f) => f.L), scaling,
    cost, exact, snapshots, seconds: (performance.now() - t0) / 1000,
  };
}
