// The Edwards–Anderson spin glass's descriptor: the parallel-tempering ladder, both engines (multi-spin
// and the one-spin reference, threads over samples), one file per stored temperature (see model.ts).

import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { lattice } from "../lattice/geometry.js";
import { makeEaSampler, type EaSampler } from "../mc/ea-samplers.js";
import { makeEaMultispinSampler, msKernelFactory } from "../mc/ea-multispin-sampler.js";
import { betaLadder, nearestIndex } from "../mc/parallel-tempering.js";
import { overlapBlock } from "../rg/overlap.js";
import { startThreadedEaSampler } from "../cluster/ea-threads.js";
import { EA_BETA_C_3D, minWaves, overlapQ, overlapQk2 } from "./ea.js";
import { isSpinConfig } from "./ising.js";
import { type ModelDescriptor, type OptionsWith, type SimulateOptions, type StoredParams } from "./model.js";
import { int, num, oneOf, UsageError } from "./params.js";
import { z } from "zod";

/** Local algorithms inside parallel tempering: multi-spin coded (default) or one spin at a time (the reference). */
export const EA_ALGORITHMS = ["multispin", "metropolis"] as const;
/** Kernels of the multi-spin engine (results are identical; only the speed differs). */
export const EA_KERNELS = ["auto", "wasm", "typescript"] as const;

const list = (description: string, physics = true): { flag: string; description: string; schema: z.ZodType; physics: boolean } =>
  ({ flag: "", description, schema: z.string().min(1, { message: "must not be empty" }), physics });

/** The spin glass's options after `complete` (eaDefaults): the ladder, the samples and the disorder seed are set. */
export type EaOptions = OptionsWith<"beta" | "betaMin" | "betaMax" | "temps" | "samples" | "firstSample" | "disorderSeed">;

/** Spin-glass options that went through `complete` (simulateOptions("ea", …)); throws if they did not. */
export function eaOptions(o: SimulateOptions): EaOptions {
  for (const k of ["beta", "betaMin", "betaMax", "temps", "samples", "firstSample", "disorderSeed"] as const) {
    if (o[k] === undefined) throw new Error(`spin-glass options without ${k}: they did not go through the model's complete()`);
  }
  return o as EaOptions;
}

export const eaModel: ModelDescriptor<EaOptions> = {
  name: "ea",
  title: "Edwards-Anderson +-J spin glass: two replicas, parallel tempering, overlap field",
  dims: [2, 3],
  defaultDim: 3,
  configDtype: "int8",
  algorithms: EA_ALGORITHMS,
  coupling: "beta",
  params: {
    dim: { flag: "--dim <d>", description: "lattice dimension, 2 or 3 (default 3)", schema: int(2, 3), physics: true },
    beta: { flag: "--beta <b>", description: `the measured and stored temperature of the ladder (3D critical: ${EA_BETA_C_3D.toFixed(4)}; with --betas/--temperatures default: the coldest)`, schema: num({ positive: true }), physics: true },
    betaMin: { flag: "--beta-min <b>", description: "hottest inverse temperature of the parallel-tempering ladder (default 0.4)", schema: num({ positive: true }), physics: true },
    betaMax: { flag: "--beta-max <b>", description: "coldest inverse temperature of the ladder (default: --beta)", schema: num({ positive: true }), physics: true },
    temps: { flag: "--temps <n>", description: "temperatures of the ladder, evenly spaced in T; the one nearest --beta is moved onto it (default 8)", schema: int(2, 256), physics: true },
    betas: { ...list("the ladder given explicitly as inverse temperatures, e.g. 0.5,0.6,0.7,0.8,0.9075 (must contain --beta)"), flag: "--betas <list>" },
    temperatures: { ...list("the ladder given explicitly as temperatures T = 1/beta, e.g. 2.0,1.6,1.3,1.1019 (must contain 1/--beta)", false), flag: "--temperatures <list>" },
    samples: { flag: "--samples <n>", description: "disorder samples (couplings from (disorder seed, sample) only)", schema: int(1, 1000000), physics: true },
    firstSample: { flag: "--first-sample <k>", description: "index of the first disorder sample (split samples over runs)", schema: int(0, 2 ** 40), physics: true },
    disorderSeed: { flag: "--disorder-seed <s>", description: "seed of the couplings (default: --seed)", schema: int(0), physics: true },
    algorithm: { flag: "--algorithm <name>", description: `${EA_ALGORITHMS.join("|")} with parallel tempering (default multispin)`, schema: oneOf(EA_ALGORITHMS), physics: true },
    storeBetas: { ...list("multispin: further ladder temperatures (beta values, or all) whose overlaps are stored, each in <out>_beta<b>.h5 beside --out"), flag: "--store-betas <list|all>" },
    workers: { flag: "--workers <n>", description: "multispin: worker threads over the disorder samples (default: all cores; the result does not depend on it)", schema: int(1, 1024) },
    kernel: { flag: "--kernel <name>", description: `multispin: ${EA_KERNELS.join("|")} (auto: WebAssembly SIMD where it loads, else TypeScript; identical results)`, schema: oneOf(EA_KERNELS) },
  },
  complete: eaDefaults,
  // The GPU kernel is the multi-spin engine's sweep, bit for bit: a gpu run equals a cpu run of the same seed.
  gpu: { algorithms: ["multispin"] },
  async chains(o, _rng, backend) {
    const ea = { lat: lattice(o.dim, o.L), ...eaLadder(o), samples: o.samples, firstSample: o.firstSample, seed: o.seed, disorderSeed: o.disorderSeed };
    // Every stream of the spin glass is keyed by (seed, sample, replica); --task does not enter.
    if (o.algorithm === "metropolis") return makeEaSampler(ea);
    if (backend.eaMultispin) return makeEaMultispinSampler({ ...ea, kernel: backend.eaMultispin, stored: eaStored(o) });
    const workers = o.workers ?? 1;
    if (workers > 1 && o.samples > 32) return startThreadedEaSampler({ ...ea, engine: o.kernel ?? "auto", workers, stored: eaStored(o) });
    return makeEaMultispinSampler({ ...ea, kernel: msKernelFactory(o.kernel ?? "auto"), stored: eaStored(o) });
  },
  fileChains: (o) => o.samples,
  attributes(o) {
    const { betas, target } = eaLadder(o);
    return {
      betas: Array.from(betas).join(","),
      target_index: target,
      couplings: "J = +-1 per bond (site, +direction), stream (disorderSeed, task 2^32 + sample, replica 0)",
      couplings_seed: o.disorderSeed,
      stored: "overlap field rho = s*t of the two replicas at beta; row = stored*samples + (sample - firstSample)",
    };
  },
  // The ladder as numbers, for readers of the file; `betas` keeps it as the --betas list a resume re-reads.
  attributeArrays: (o) => ({ beta_ladder: Array.from(eaLadder(o).betas) }),
  integerAttributes: ["target_index", "couplings_seed"],
  outputs(o, params) {
    const { betas } = eaLadder(o);
    const stored = eaStored(o);
    return stored.map((k, n) => ({ path: eaStoredPath(o, k), params: n === 0 ? params : { ...params, beta: betas[k]!, target_index: k, main_file: basename(o.out) } }));
  },
  status(chains) {
    const trips = (chains as EaSampler).roundTrips();
    return `${trips.length} samples, fewest round trips ${trips.reduce((a, t) => Math.min(a, t), Infinity)}`;
  },
  notes: (chains) => temperingNotes(chains as EaSampler),
  disorder: true,
  resumeParams(merged) {
    // The file's ladder, exactly as it ran (every ea file stores it as "betas").
    if (typeof merged.betas !== "string") return;
    delete merged.betaMin;
    delete merged.betaMax;
    delete merged.temps;
  },
  conjugate: (series, observables) => series(observables.includes("energy") ? "energy" : "parent_x"),
  // The disorder sample of a blocked row is its parent's (added by the block job for disorder models).
  configObservables: ["q", "qk2"],
  observe(lat) {
    const waves = minWaves(lat);
    return (cfg, out) => {
      out[0] = overlapQ(cfg as Int8Array);
      out[1] = overlapQk2(cfg as Int8Array, waves);
    };
  },
  conjugateName: "energy E(s) + E(t)",
  // Overlap fields are ±1 like spins; they have no local action of their own (no `refine`).
  network: { name: "overlap", head: () => ({ type: "bernoulli" }), symmetry: "sign" },
  blockRule: {
    name: "overlap",
    description: "overlap rule (b = 2): majority of the overlap field over each block, a zero sum broken by a fair coin",
    apply: (lat, cfg, out, rng) => overlapBlock(lat, cfg as Int8Array, out as Int8Array, rng),
  },
  checkConfig: (cfg) => (isSpinConfig(cfg) ? undefined : "overlap fields must hold +-1 values"),
  label: (p: StoredParams) => `beta=${p.beta}`,
};

/** Spin-glass options: the ladder must contain --beta; every sample index must fit its stream key. */
function eaDefaults(o: SimulateOptions): void {
  o.dim ??= 3;
  if (o.beta === undefined && (o.betas !== undefined || o.temperatures !== undefined)) {
    // With an explicit ladder the measured temperature defaults to its coldest one.
    const values = String(o.betas ?? o.temperatures).split(",").map(Number).filter((v) => v > 0);
    if (values.length > 0) o.beta = o.betas !== undefined ? Math.max(...values) : 1 / Math.min(...values);
  }
  if (o.beta === undefined) throw new UsageError(`--beta <b> is required for ea: the temperature that is measured and stored (3D critical point: ${EA_BETA_C_3D.toFixed(4)})`);
  o.algorithm ??= "multispin";
  if (o.L < 4) throw new UsageError(`--L must be at least 4 for ea (a 2^d torus couples each pair of sites twice), got ${o.L}`);
  if (o.kernel !== undefined && o.algorithm !== "multispin") throw new UsageError("--kernel applies to --algorithm multispin only");
  if (o.backend === "gpu" && (o.kernel !== undefined || o.workers !== undefined)) throw new UsageError("--kernel and --workers choose the CPU engine: drop them with --backend gpu (one GPU sweeps every sample)");
  if (o.workers !== undefined && o.algorithm !== "multispin") throw new UsageError("--workers applies to --algorithm multispin only (the one-spin reference runs in one thread)");
  if (o.algorithm === "multispin") {
    o.kernel ??= "auto";
    o.workers ??= availableParallelism();
  }
  if (o.betas !== undefined || o.temperatures !== undefined) explicitLadder(o, o.beta);
  o.betaMin ??= Math.min(0.4, o.beta);
  o.betaMax ??= o.beta;
  o.temps ??= 8;
  o.samples ??= 1;
  o.firstSample ??= 0;
  o.disorderSeed ??= o.seed;
  if (!(o.betaMin < o.betaMax) && o.temps > 1) throw new UsageError(`--beta-min (${o.betaMin}) must be below --beta-max (${o.betaMax})`);
  if (o.beta < o.betaMin || o.beta > o.betaMax) throw new UsageError(`--beta ${o.beta} lies outside the ladder [--beta-min ${o.betaMin}, --beta-max ${o.betaMax}]`);
  if (o.storeBetas !== undefined) {
    if (o.algorithm !== "multispin") throw new UsageError("--store-betas applies to --algorithm multispin only");
    const { betas, target } = eaLadder(eaOptions(o));
    const want = o.storeBetas.trim() === "all" ? Array.from(betas) : o.storeBetas.split(",").map((x) => Number(x.trim()));
    const idx = new Set<number>();
    for (const b of want) {
      const k = Array.from(betas).findIndex((x) => Math.abs(x - b) <= 1e-6 * x);
      if (!Number.isFinite(b) || k < 0) throw new UsageError(`--store-betas: ${b} is not on the ladder (${Array.from(betas, (x) => x.toFixed(6)).join(", ")}); give ladder values or "all"`);
      if (k !== target) idx.add(k);
    }
    o.storeBetas = [...idx].sort((a, b) => a - b).map((k) => String(betas[k])).join(",");
  }
}

/** --betas or --temperatures: parsed, checked (positive, distinct, containing --beta) and stored as an ascending β list. */
function explicitLadder(o: SimulateOptions, beta: number): void {
  if (o.betas !== undefined && o.temperatures !== undefined) throw new UsageError("give the ladder once: --betas or --temperatures, not both");
  for (const k of ["betaMin", "betaMax", "temps"] as const) {
    if (o[k] !== undefined) throw new UsageError(`${eaModel.params[k]!.flag.split(" ")[0]} does not go with an explicit ladder (--betas / --temperatures)`);
  }
  const flag = o.betas !== undefined ? "--betas" : "--temperatures";
  const items = String(o.betas ?? o.temperatures).split(",").map((x) => x.trim());
  const values = items.map(Number);
  values.forEach((v, k) => {
    if (items[k] === "" || !Number.isFinite(v) || !(v > 0)) throw new UsageError(`${flag}: "${items[k]}" is not a positive number (a comma-separated list, e.g. 0.5,0.7,0.9075)`);
  });
  const betas = values.map((v) => (o.betas !== undefined ? v : 1 / v)).sort((a, b) => a - b);
  if (betas.length < 2) throw new UsageError(`${flag}: parallel tempering needs at least 2 temperatures, got ${betas.length}`);
  if (betas.length > 256) throw new UsageError(`${flag}: at most 256 temperatures, got ${betas.length}`);
  for (let k = 1; k < betas.length; k++) if (!(betas[k]! > betas[k - 1]!)) throw new UsageError(`${flag}: temperature ${1 / betas[k]!} appears twice`);
  const at = betas.findIndex((b) => Math.abs(b - beta) <= 1e-9 * beta);
  if (at < 0) throw new UsageError(`${flag}: the ladder does not contain the measured --beta ${beta} (T = ${(1 / beta).toPrecision(6)}); add it to the list`);
  betas[at] = beta;
  o.betas = betas.map((b) => String(b)).join(",");
  o.temperatures = undefined;
  o.betaMin = betas[0];
  o.betaMax = betas.at(-1);
  o.temps = betas.length;
}

/** The β ladder of an ea run and the index of the measured temperature on it. */
export function eaLadder(o: EaOptions): { betas: Float64Array; target: number } {
  const betas = o.betas !== undefined ? Float64Array.from(o.betas.split(","), Number) : betaLadder(o.betaMin, o.betaMax, o.temps, o.beta);
  return { betas, target: nearestIndex(betas, o.beta) };
}

/** Ladder indices stored by an ea run: the measured temperature first, then those of --store-betas. */
export function eaStored(o: EaOptions): number[] {
  const { betas, target } = eaLadder(o);
  const extra = o.storeBetas ? o.storeBetas.split(",").map((b) => Array.from(betas).indexOf(Number(b))) : [];
  return [target, ...extra];
}

/** The file of stored ladder index k (the --out file for the measured temperature). */
export function eaStoredPath(o: EaOptions, k: number): string {
  const { betas, target } = eaLadder(o);
  if (k === target) return o.out;
  return `${o.out.replace(/\.h5$/, "")}_beta${betas[k]!.toFixed(6)}.h5`;
}

/** Acceptance per ladder pair and round trips per sample, as printed after a spin-glass run. */
export function temperingNotes(smp: EaSampler): string[] {
  const acc = Array.from(smp.acceptance(), (a) => a.toFixed(2));
  const trips = smp.roundTrips();
  const min = trips.length ? Math.min(...trips) : 0;
  const total = trips.reduce((a, t) => a + t, 0);
  const betas = Array.from(smp.betas, (b) => b.toFixed(4)).join(", ");
  return [
    `parallel tempering: ${smp.betas.length} temperatures, beta = ${betas} (measured: ${smp.betas[smp.target]!.toFixed(4)})`,
    `swap acceptance per pair (hot -> cold): ${acc.join(" ") || "-"}`,
    `ladder round trips: ${total} in total over ${trips.length} samples (2 x ${smp.betas.length} copies each), fewest in one sample ${min}${min < 10 && smp.betas.length > 1 ? " — fewer than 10: run longer before trusting the averages" : ""}`,
  ];
}
