// The inverse RG of the 3D Edwards–Anderson spin glass end to end (Bachtis, "Inverse renormalization group
// of disordered systems", 2023): overlap fields of L0 from parallel tempering at a ladder of temperatures,
// a network trained on (overlap-rule blocked → original) pairs, generation L0 → 2L0 → … → target, direct
// parallel tempering at the validation sizes, and the comparison: curves against T, crossings, FSS.
//
// Why every temperature is generated from its own starting files: the network is one map for all
// temperatures; what distinguishes them is the starting overlap fields, and the crossing of generated and
// direct curves at the same size is the estimate of T_c (the seed's Fig. 3 with T in place of the coupling).

import { basename, join } from "node:path";
import { runPool, type Job } from "../cluster/pool.js";
import { openEnsemble, readEnsembleMeta } from "../io/ensemble.js";
import { fileExists, makeDir, writeReport } from "../io/files.js";
import { h5Ready } from "../io/h5.js";
import { lattice } from "../lattice/geometry.js";
import { makeEaMultispinSampler } from "../mc/ea-multispin-sampler.js";
import { type Crossing, fssSlope, pointMeans, sgDerived, type SizeCurve } from "../analysis/sg-crossings.js";
import { type Estimate } from "../analysis/stats.js";
import { type GenerateResult } from "./generate.js";
import { flag, int, type ParamSpecs, parseParams, UsageError } from "../models/params.js";
import { parseGrid } from "./scan.js";
import { z } from "zod";
import { type GenerateJobParams, runJob, WORKER_URL } from "./registry.js";
import { runSimulation, simulateOptions } from "./simulation.js";
import { eaLadder, eaOptions, eaStored, eaStoredPath } from "../models/ea-model.js";
import { crossingsOf, loadCurves, overlapCorrelation, recordEquilibration, sampleSeries, spinGlassRow, type SpinGlassRow } from "./spin-glass.js";
import { train, type TrainResult } from "./train.js";
import { blockFile } from "./block.js";
import { eaFlow, type EaFlow, type ReweightedCurve, reweightedCurve } from "./ea-flow.js";

export interface EaPipelineOptions {
  outDir: string;
  dim: number;
  /** Starting (training) size, the largest generated size (L0 · 2^k), and the directly simulated validation sizes. */
  L0: number;
  target: number;
  directSizes: number[];
  /** The ladder (temperatures T); every one is stored and generated from. */
  temperatures: number[];
  samples: number;
  directSamples: number;
  sweeps: number;
  therm: number;
  directSweeps: number;
  directTherm: number;
  every: number;
  /** Store the overlap fields of every saveEvery-th measurement (training data and starting fields). */
  saveEvery: number;
  epochs: number;
  maxPairs: number;
  /** Network size (default: train's defaults). */
  hidden?: number;
  /** One network for every temperature, or one per temperature (default: one). */
  networks?: "one" | "per-temperature";
  /** Generator stages (1, or 2: the odd sites redrawn given the even ones; see irg train --stages). */
  stages?: number;
  /** Starting fields per temperature used for generation. */
  genLimit: number;
  seed: number;
  workers?: number;
  /** Go on when a direct ensemble is not equilibrated (its verdict is still reported). */
  allowUnequilibrated?: boolean;
  log?: (msg: string) => void;
  progress?: (label: string, done: number, total: number) => void;
  shouldStop?: () => boolean;
}

/** One comparison of a generated and a direct ensemble at the same L and T. */
export interface EaValidation {
  L: number;
  T: number;
  /** quantity → [generated, direct, (g − d)/σ]; long range: q2, chi_sg, g, xi_l; short range: G1, G2. */
  rows: { quantity: string; range: "long" | "short"; generated: Estimate; direct: Estimate; z: number }[];
  longAgree: boolean;
  shortAgree: boolean | null;
}

export interface EaPipelineResult {
  options: EaPipelineOptions;
  stopped: boolean;
  direct: { L: number; files: string[]; equilibrated: boolean[]; seconds: number }[];
  training: TrainResult | null;
  generated: { L: number; files: string[] }[];
  generateSeconds: number;
  table: (SpinGlassRow & { kind: "direct" | "generated" })[];
  validations: EaValidation[];
  /** Crossings: direct size pairs, and generated vs direct at each validation size. */
  crossings: (Crossing & { label: string })[];
  /** FSS over the generated sizes at every ladder temperature: η from χ_SG ∝ L^{2−η}. */
  eta: { T: number; value: number; error: number }[];
  /** 1/ν from d(ξ/L)/dT ∝ L^{1/ν} between neighbouring ladder temperatures (at their midpoint). */
  inverseNu: { T: number; value: number; error: number }[];
  /**
   * The overlap rule against itself: the direct fields of 2·L0 blocked to L0 beside the direct fields of
   * L0, per temperature ([⟨q²⟩] and g), and where their ξ/L and g curves cross (T*). Generation feeds
   * original L0 fields to a network trained on blocked ones; the two agree only near T*, so the generated
   * systems agree with direct ones only near T*, and away from it they flow (below T* too little order,
   * above too much): the crossing of generated and direct curves estimates T*, the rule's fixed point at
   * these sizes, which approaches T_c as L0 grows.
   */
  rule: { L: number; rows: { T: number; blocked: Estimate; direct: Estimate; gBlocked: Estimate; gDirect: Estimate; z: number }[]; crossings: (Crossing & { label: string })[]; flow: EaFlow } | null;
  /** [⟨q²⟩], χ_SG, g, ξ/L of every direct and generated size, reweighted between the ladder temperatures. */
  curves: ReweightedCurve[];
  /** The slice z = 0 of the first stored field at the middle temperature of every direct and generated size, for the report. */
  slices: { label: string; L: number; slice: Int8Array | Float32Array }[];
  /** Cost estimate of direct PT at the target size against generation (see costEstimate). */
  cost: CostEstimate | null;
  /** Peak resident memory of the process after generation (bytes; the fields stream to their files). */
  peakRss: number;
  seconds: number;
}

const fileT = (T: number): string => `T${T.toFixed(4)}`;

/**
 * What one independent disorder sample would cost by direct parallel tempering at the target size, as an
 * estimate: ladder round-trip times τ_rt (sweeps per round trip of a copy) measured at the direct sizes,
 * extrapolated as a power law L^z; 10 round trips per sample; the sweep cost per sample-spin timed here on
 * one core; the same ladder (a lower bound: larger lattices need more temperatures). Against it, the time
 * per generated field chain L0 → target.
 */
export interface CostEstimate {
  roundTrip: { L: number; sweeps: number }[];
  z: number;
  nsPerSampleSpin: number;
  target: number;
  directSecondsPerSample: number;
  generatedSecondsPerField: number;
  /**
   * The larger start offered against the corrections of L0: direct PT at 2·L0 (training) and 4·L0
   * (validation) with this run's samples, sweeps per sample scaled from the round trips like the target's
   * (10 round trips), on one core: seconds, an estimate.
   */
  largerStart: { L0: number; seconds: number };
}

/** Mean sweeps per ladder round trip of one copy, from a file's cumulative round trips. */
function roundTripSweeps(path: string, temps: number): number {
  const r = openEnsemble(path);
  try {
    const trips = r.series("round_trips"), sample = sampleSeries(r, trips.length);
    const last = new Map<number, number>();
    for (let k = 0; k < trips.length; k++) last.set(sample[k]!, trips[k]!);
    const mean = [...last.values()].reduce((a, v) => a + v, 0) / last.size;
    const sweeps = Number(r.meta.params.sweeps) + Number(r.meta.params.therm);
    return (sweeps * 2 * temps) / Math.max(mean, 1);
  } finally {
    r.close();
  }
}

function costEstimate(o: EaPipelineOptions, direct: EaPipelineResult["direct"], generateSeconds: number): CostEstimate | null {
  if (direct.length < 2) return null;
  const T = o.temperatures.length;
  const roundTrip = direct.map((d) => ({ L: d.L, sweeps: roundTripSweeps(d.files[0]!, T) }));
  const [a, b] = [roundTrip[0]!, roundTrip.at(-1)!];
  const z = Math.log(b.sweeps / a.sweeps) / Math.log(b.L / a.L);
  // One core, the run's ladder, 128 samples of 16^d (the engine's cost per sample-spin hardly depends on L there).
  const lat = lattice(o.dim, 16);
  const betas = Float64Array.from([...o.temperatures].map((t) => 1 / t).sort((x, y) => x - y));
  const smp = makeEaMultispinSampler({ lat, betas, target: T - 1, samples: 128, seed: o.seed });
  for (let k = 0; k < 3; k++) smp.sweep();
  const t0 = performance.now();
  const n = 10;
  for (let k = 0; k < n; k++) smp.sweep();
  const nsPerSampleSpin = ((performance.now() - t0) * 1e6) / (n * 128 * 2 * T * lat.V);
  const sweeps = 10 * b.sweeps * (o.target / b.L) ** z;
  const directSecondsPerSample = sweeps * nsPerSampleSpin * 1e-9 * 2 * T * o.target ** o.dim;
  const perSample = (L: number): number => 10 * b.sweeps * (L / b.L) ** z * nsPerSampleSpin * 1e-9 * 2 * T * L ** o.dim;
  const largerStart = { L0: 2 * o.L0, seconds: o.samples * perSample(2 * o.L0) + o.directSamples * perSample(4 * o.L0) };
  return { roundTrip, z, nsPerSampleSpin, target: o.target, directSecondsPerSample, generatedSecondsPerField: generateSeconds / Math.max(1, o.genLimit * T), largerStart };
}

/** Checks the sizes; returns the generated sizes. */
export function eaPipelineSizes(o: EaPipelineOptions): number[] {
  const steps = Math.log2(o.target / o.L0);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new UsageError(`--target ${o.target} must be L0 = ${o.L0} times a power of two (at least 2 L0)`);
  for (const L of o.directSizes) if (!(L > o.L0 && L <= o.target && Number.isInteger(Math.log2(L / o.L0)))) throw new UsageError(`direct size ${L} must be one of the generated sizes ${o.L0 * 2}…${o.target}`);
  if (o.temperatures.length < 2) throw new UsageError("the ladder needs at least 2 temperatures");
  if (o.samples < 2 || o.directSamples < 2) throw new UsageError("errors are jackknifed over disorder samples: give at least 2 (better hundreds)");
  return Array.from({ length: steps }, (_, k) => o.L0 * 2 ** (k + 1));
}

/** Runs (or finds complete, or resumes) the ladder simulation of one size; returns its files sorted by T. */
async function simulateSize(o: EaPipelineOptions, L: number, samples: number, sweeps: number, therm: number, dir: string): Promise<EaPipelineResult["direct"][number] & { completed: boolean }> {
  const out = join(dir, `ea_L${L}.h5`);
  const opts = eaOptions(simulateOptions("ea", {
    dim: o.dim, L, temperatures: o.temperatures.join(","), storeBetas: "all", samples, sweeps, therm, every: o.every, saveEvery: o.saveEvery,
    seed: o.seed, out, ...(o.workers !== undefined ? { workers: Math.max(1, o.workers) } : {}),
  }));
  const files = eaStored(opts).map((k) => eaStoredPath(opts, k));
  // An earlier run in the same directory must be the same study (ladder, samples, seed), or nothing is reused.
  for (const existing of [out, `${out}.partial`]) {
    if (!fileExists(existing)) continue;
    const p = readEnsembleMeta(existing).params;
    const want = { betas: eaLadder(opts).betas.join(","), samples: samples, seed: o.seed };
    const have = { betas: String(p.betas), samples: Number(p.samples), seed: Number(p.seed) };
    if (want.betas !== have.betas || want.samples !== have.samples || want.seed !== have.seed) {
      throw new UsageError(`${existing} belongs to another study (ladder, samples or seed differ: ${have.samples} samples, seed ${have.seed}, betas ${have.betas}); use another --out-dir or the same options`);
    }
  }
  const byT = (fs: string[]): string[] => [...fs].sort((a, b) => 1 / Number(readEnsembleMeta(a).params.beta) - 1 / Number(readEnsembleMeta(b).params.beta));
  const complete = files.every((f) => fileExists(f) && readEnsembleMeta(f).complete);
  if (complete) {
    o.log?.(`L = ${L}: found complete ensembles in ${dir}`);
    const sorted = byT(files);
    // Judged again (and recorded): the criterion may have changed since the files were written.
    return { L, files: sorted, equilibrated: sorted.map((f) => recordEquilibration(f, sorted.length).equilibrated), seconds: 0, completed: true };
  }
  const resume = fileExists(out) || fileExists(`${out}.partial`);
  o.log?.(`L = ${L}: parallel tempering of ${samples} samples over ${o.temperatures.length} temperatures (${therm} + ${sweeps} sweeps)${resume ? ", resumed" : ""}`);
  const r = await runSimulation("ea", opts, { checkpointEvery: 5, shouldStop: o.shouldStop, progress: (d, t) => o.progress?.(`ea L=${L}`, d, t) }, resume, !resume);
  const sorted = byT(files);
  const verdict = new Map((r.equilibration ?? []).map((v) => [v.file, v.equilibrated]));
  return { L, files: sorted, equilibrated: sorted.map((f) => verdict.get(f) ?? false), seconds: r.seconds, completed: r.completed };
}

/** Generated vs direct at one (L, T): long-range estimates from the series, G(1), G(2) from the fields. */
export function compareEnsembles(gen: string, direct: string): EaValidation {
  const g = spinGlassRow(gen), d = spinGlassRow(direct);
  const rows: EaValidation["rows"] = [];
  const add = (quantity: string, range: "long" | "short", a: Estimate | undefined, b: Estimate | undefined): void => {
    if (!a || !b) return;
    const s = Math.hypot(a.error, b.error);
    rows.push({ quantity, range, generated: a, direct: b, z: s > 0 ? (a.value - b.value) / s : Number.NaN });
  };
  for (const k of ["q2", "chi_sg", "g", "xi_l"]) add(k, "long", g.estimates[k], d.estimates[k]);
  const gc = overlapCorrelation(gen, [1, 2]), dc = overlapCorrelation(direct, [1, 2]);
  if (gc && dc) for (const k of ["G1", "G2"]) add(k, "short", gc[k], dc[k]);
  const agree = (range: string): boolean => rows.filter((r) => r.range === range).every((r) => Math.abs(r.z) <= 2);
  return { L: g.L, T: g.T, rows, longAgree: agree("long"), shortAgree: rows.some((r) => r.range === "short") ? agree("short") : null };
}


/** The numeric flags of `irg pipeline ea` (defaults depend on --full, so they are applied in `eaPipelineOptions`). */
export const EA_PIPELINE_SPECS: ParamSpecs = {
  L0: { flag: "--L0 <L>", description: "starting size", schema: int(4, 4096).refine((v) => v % 2 === 0, { message: "must be even" }) },
  target: { flag: "--target <L>", description: "largest generated size", schema: int(8, 65536) },
  samples: { flag: "--samples <n>", description: "disorder samples at L0", schema: int(2) },
  directSamples: { flag: "--direct-samples <n>", description: "disorder samples at the direct sizes", schema: int(2) },
  sweeps: { flag: "--sweeps <n>", description: "sweeps at L0", schema: int(16) },
  therm: { flag: "--therm <n>", description: "thermalisation sweeps at L0", schema: int(0) },
  directSweeps: { flag: "--direct-sweeps <n>", description: "sweeps at the direct sizes", schema: int(16) },
  directTherm: { flag: "--direct-therm <n>", description: "thermalisation sweeps at the direct sizes", schema: int(0) },
  epochs: { flag: "--epochs <n>", description: "training epochs", schema: int(1) },
  maxPairs: { flag: "--max-pairs <n>", description: "training pairs", schema: int(100) },
  hidden: { flag: "--hidden <n>", description: "hidden channels of the overlap network", schema: int(2) },
  genLimit: { flag: "--gen-limit <n>", description: "starting fields per temperature for generation", schema: int(2) },
  seed: { flag: "--seed <s>", description: "seed", schema: int(0) },
  workers: { flag: "--workers <n>", description: "worker threads", schema: int(1) },
  networks: { flag: "--networks <kind>", description: "one or per-temperature", schema: z.enum(["one", "per-temperature"], { error: "must be one or per-temperature" }) },
  stages: { flag: "--stages <n>", description: "generator stages: 1, or 2 (the odd sites redrawn given the even ones)", schema: int(1, 2) },
  full: { flag: "--full", description: "the full study", schema: flag() },
  allowUnequilibrated: { flag: "--allow-unequilibrated", description: "go on after a failed equilibration check", schema: flag() },
};

/** The options of `irg pipeline ea` from raw flags: the quick study's defaults, or with --full the real one's. */
export function eaPipelineOptions(raw: Record<string, unknown>, how: { outDirDefault: boolean; targetDefault: boolean }): EaPipelineOptions {
  const f = parseParams<Partial<Record<string, number>> & { networks?: "one" | "per-temperature"; full?: boolean; allowUnequilibrated?: boolean }>(EA_PIPELINE_SPECS, raw);
  const full = f.full === true;
  const L0 = f.L0 ?? 8;
  const target = how.targetDefault ? 128 : f.target ?? 128;
  const temperatures = raw.temperatures ? parseGrid("--temperatures", String(raw.temperatures)) : [1.6, 1.45, 1.35, 1.25, 1.18, 1.12, 1.08, 1.04, 1.0, 0.96];
  if (temperatures.some((t) => !(t > 0))) throw new UsageError("--temperatures must be positive");
  return {
    outDir: how.outDirDefault ? join("out", "ea") : String(raw.outDir),
    dim: 3, L0, target,
    directSizes: raw.direct ? parseGrid("--direct", String(raw.direct)) : [2 * L0],
    temperatures,
    samples: f.samples ?? 512, directSamples: f.directSamples ?? (full ? 512 : 256),
    sweeps: f.sweeps ?? (full ? 2 ** 16 : 2 ** 15), therm: f.therm ?? (full ? 2 ** 16 : 2 ** 15),
    directSweeps: f.directSweeps ?? (full ? 2 ** 17 : 2 ** 16), directTherm: f.directTherm ?? (full ? 2 ** 17 : 2 ** 16),
    every: 16, saveEvery: 64,
    epochs: f.epochs ?? (full ? 20 : 8), maxPairs: f.maxPairs ?? (full ? 8000 : 4000), ...(f.hidden !== undefined ? { hidden: f.hidden } : {}), genLimit: f.genLimit ?? (full ? 512 : 128),
    seed: f.seed ?? 1, workers: f.workers, allowUnequilibrated: f.allowUnequilibrated === true,
    networks: f.networks ?? "one",
    stages: f.stages ?? 1,
  };
}

/** Slopes over the generated sizes at every temperature: 2 − η from χ_SG, 1/ν from d(ξ/L)/dT. */
function scaling(curves: SizeCurve[]): { eta: EaPipelineResult["eta"]; inverseNu: EaPipelineResult["inverseNu"] } {
  const T = curves[0]!.T;
  const eta = T.map((t, k) => {
    const s = fssSlope(curves, (c, leave) => c.V * pointMeans(c, k, leave).q2);
    return { T: t, value: 2 - s.value, error: s.error };
  });
  const inverseNu = T.slice(0, -1).map((t, k) => {
    const slope = (c: SizeCurve, leave: number): number => {
      const a = pointMeans(c, k, leave), b = pointMeans(c, k + 1, leave);
      const xa = sgDerived(a.q2, a.q4, a.qk2, c.V, c.L).xiL, xb = sgDerived(b.q2, b.q4, b.qk2, c.V, c.L).xiL;
      return Math.abs((xb - xa) / (c.T[k + 1]! - c.T[k]!));
    };
    const s = fssSlope(curves, slope);
    return { T: (t + T[k + 1]!) / 2, value: s.value, error: s.error };
  });
  return { eta, inverseNu };
}

/** Blocked 2·L0 → L0 against direct L0 (see EaPipelineResult.rule); null without a direct size 2·L0. */
function ruleFixedPoint(o: EaPipelineOptions, direct: EaPipelineResult["direct"], simDir: string, generated: EaPipelineResult["generated"]): EaPipelineResult["rule"] {
  const start = direct[0]!, twice = direct.find((d) => d.L === 2 * o.L0);
  if (!twice) return null;
  const blocked = twice.files.map((f) => blockFile(f, join(simDir, `blocked_${basename(f)}`), { force: true, seed: o.seed }).out);
  const rows = blocked.map((b, k) => {
    const rb = spinGlassRow(b), rd = spinGlassRow(start.files[k]!);
    const q = (r: SpinGlassRow): Estimate => r.estimates.q2!;
    const z = (q(rb).value - q(rd).value) / Math.hypot(q(rb).error, q(rd).error);
    return { T: rd.T, blocked: q(rb), direct: q(rd), gBlocked: rb.estimates.g!, gDirect: rd.estimates.g!, z };
  }).sort((a, b) => a.T - b.T);
  const bc = loadCurves(blocked).get(o.L0), dc = loadCurves(start.files).get(o.L0);
  const c = bc && dc ? crossingsOf(bc, dc) : "";
  const crossings = typeof c === "string" ? [] : c.map((x) => ({ ...x, label: `blocked L = ${twice.L} → ${o.L0} vs direct L = ${o.L0} (the overlap rule's T*)` }));
  // The coupling map T → T′ from [⟨q²⟩], and the generated 2·L0 validated at T′ (jobs/ea-flow.ts).
  const flow = eaFlow(o.L0, start.files, blocked, twice.files, generated.find((g) => g.L === twice.L)?.files ?? []);
  return { L: o.L0, rows, crossings, flow };
}

/** The slice z = 0 of the first stored field of a file (none stored: null). */
function firstSlice(path: string): { L: number; slice: Int8Array | Float32Array } | null {
  const r = openEnsemble(path);
  try {
    if (r.configRows === 0) return null;
    const L = r.meta.L;
    return { L, slice: r.configs(0, 1).subarray(0, L * L) };
  } finally {
    r.close();
  }
}

/** `irg pipeline ea`: the study, and unless it stopped <out-dir>/report.html, the HTML that `render` makes of it. */
export async function eaPipelineCommand(o: EaPipelineOptions, render: (r: EaPipelineResult) => Promise<string>): Promise<{ result: EaPipelineResult; report?: string }> {
  const r = await runEaPipeline(o);
  if (r.stopped) return { result: r };
  const report = join(o.outDir, "report.html");
  writeReport(report, await render(r));
  return { result: r, report };
}

export async function runEaPipeline(o: EaPipelineOptions): Promise<EaPipelineResult> {
  await h5Ready();
  const t0 = performance.now();
  const genSizes = eaPipelineSizes(o);
  const simDir = join(o.outDir, "mc"), genDir = join(o.outDir, "generated");
  makeDir(simDir);
  makeDir(genDir);
  const empty = (direct: EaPipelineResult["direct"], training: TrainResult | null): EaPipelineResult => ({
    options: o, stopped: true, direct, training, generated: [], generateSeconds: 0, table: [], validations: [], crossings: [], eta: [], inverseNu: [], rule: null, cost: null, curves: [], slices: [], peakRss: process.resourceUsage().maxRSS * 1024, seconds: (performance.now() - t0) / 1000,
  });
  // 1. Direct parallel tempering: the starting size, then the validation sizes.
  const direct: EaPipelineResult["direct"] = [];
  for (const [L, samples, sweeps, therm] of [[o.L0, o.samples, o.sweeps, o.therm], ...o.directSizes.map((L) => [L, o.directSamples, o.directSweeps, o.directTherm])] as [number, number, number, number][]) {
    const r = await simulateSize(o, L, samples, sweeps, therm, simDir);
    direct.push({ L: r.L, files: r.files, equilibrated: r.equilibrated, seconds: r.seconds });
    if (!r.completed) return empty(direct, null);
    const bad = r.files.filter((_, k) => !r.equilibrated[k]);
    if (bad.length > 0) {
      const msg = `L = ${L}: equilibration not shown for ${bad.length} of ${r.files.length} temperatures (log binning of [<q^2>] or round trips; see the attributes of ${bad[0]})`;
      if (!o.allowUnequilibrated) throw new UsageError(`${msg}; rerun with more --sweeps/--therm (the runs continue from their files), or pass --allow-unequilibrated to go on anyway`);
      o.log?.(`warning: ${msg}; going on (--allow-unequilibrated)`);
    }
  }
  const start = direct[0]!;
  // 2. The network(s): one for all temperatures, or one per temperature trained on that temperature's
  //    fields alone (a single network for a wide ladder cannot tell which temperature it generates at).
  const perT = o.networks === "per-temperature";
  const nets = perT ? start.files.map((f) => join(o.outDir, `overlap-net_${fileT(1 / Number(readEnsembleMeta(f).params.beta))}.json`)) : [join(o.outDir, "overlap-net.json")];
  let training: TrainResult | null = null;
  for (let k = 0; k < nets.length; k++) {
    o.log?.(perT ? `training the overlap network of T = ${fileT(1 / Number(readEnsembleMeta(start.files[k]!).params.beta))} on L = ${o.L0}` : `training the overlap network on L = ${o.L0} (${start.files.length} temperatures)`);
    const t = await train({
      stages: o.stages,
      data: perT ? [start.files[k]!] : start.files, model: "overlap", out: nets[k]!, epochs: o.epochs, maxPairs: perT ? Math.max(100, Math.round(o.maxPairs / 2)) : o.maxPairs,
      seed: o.seed, force: true, ...(o.hidden !== undefined ? { hidden: o.hidden } : {}), ...(o.workers !== undefined ? { workers: o.workers } : {}),
      progress: (epoch, d, tt) => o.progress?.(`train epoch ${epoch}`, d, tt), shouldStop: o.shouldStop,
    });
    training = training ? { ...t, pairs: training.pairs + t.pairs, seconds: training.seconds + t.seconds } : t;
    if (t.stopped) return empty(direct, training);
  }
  // 3. Generation L0 → … → target from the fields of every temperature (one job each, on all cores).
  const tg = performance.now();
  const jobs: Job<GenerateJobParams>[] = start.files.map((from, id) => ({
    id, kind: "generate",
    params: { net: nets[perT ? id : 0]!, model: "overlap", options: { from, prefix: join(genDir, `ea_${fileT(1 / Number(readEnsembleMeta(from).params.beta))}`), steps: genSizes.length, seed: o.seed + 1 + id, force: true, limit: o.genLimit } },
  }));
  const results = (await runPool(jobs, { workers: o.workers ?? undefined, workerUrl: WORKER_URL, shouldStop: o.shouldStop, onProgress: (id, d, t) => o.progress?.(`generate T = ${fileT(o.temperatures[id] ?? 0)}`, d, t) }, runJob)) as GenerateResult[];
  const generateSeconds = (performance.now() - tg) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const generated = genSizes.map((L) => ({ L, files: results.map((r) => r.files.find((f) => f.L === L)!.path) }));
  // 4. Tables, validation, crossings, finite-size scaling.
  const table = [
    ...direct.flatMap((d) => d.files.map((f) => ({ ...spinGlassRow(f), kind: "direct" as const }))),
    ...generated.flatMap((g) => g.files.map((f) => ({ ...spinGlassRow(f), kind: "generated" as const }))),
  ].sort((a, b) => a.L - b.L || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || a.T - b.T);
  const validations: EaValidation[] = [];
  for (const d of direct.slice(1)) {
    const gen = generated.find((g) => g.L === d.L)!;
    d.files.forEach((f, k) => validations.push(compareEnsembles(gen.files[k]!, f)));
  }
  const crossings: EaPipelineResult["crossings"] = [];
  const directCurves = direct.map((d) => loadCurves(d.files).get(d.L)).filter((c): c is SizeCurve => c !== undefined);
  for (let n = 0; n + 1 < directCurves.length; n++) {
    const c = crossingsOf(directCurves[n]!, directCurves[n + 1]!);
    if (typeof c !== "string") crossings.push(...c.map((x) => ({ ...x, label: `direct L = ${x.L1} and ${x.L2}` })));
  }
  const genCurves = generated.map((g) => loadCurves(g.files).get(g.L)!).filter((c) => c !== undefined);
  for (const dc of directCurves.slice(1)) {
    const gc = genCurves.find((c) => c.L === dc.L);
    const c = gc ? crossingsOf(gc, dc) : "";
    if (typeof c !== "string") crossings.push(...c.map((x) => ({ ...x, label: `generated vs direct, L = ${dc.L}` })));
  }
  const { eta, inverseNu } = genCurves.length >= 2 ? scaling(genCurves) : { eta: [], inverseNu: [] };
  const rule = ruleFixedPoint(o, direct, simDir, generated);
  const cost = costEstimate(o, direct, generateSeconds);
  const slices = [...direct.map((d) => ({ label: `direct L = ${d.L}`, files: d.files })), ...generated.map((g) => ({ label: `generated L = ${g.L}`, files: g.files }))]
    .flatMap(({ label, files }) => {
      const f = files[Math.floor(files.length / 2)];
      const s = f ? firstSlice(f) : null;
      return s ? [{ label, ...s }] : [];
    });
  o.log?.("curves reweighted between the ladder temperatures");
  const curves = [...direct.map((d) => reweightedCurve("direct", d.files)), ...generated.map((g) => reweightedCurve("generated", g.files))];
  return { options: o, stopped: false, direct, training, generated, generateSeconds, table, validations, crossings, eta, inverseNu, rule, cost, curves, slices, peakRss, seconds: (performance.now() - t0) / 1000 };
}
