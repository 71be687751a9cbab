// Iterated inverse RG: every stored configuration of a small ensemble is mapped L → 2L → 4L … by an
// inverse map, streaming, into one ensemble per size. Each generated configuration keeps the row and
// the reweighting variable of the original it descends from, and the log-probability of its draw.

import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { type InverseMap } from "../irg/generator.js";
import { sampleSeries } from "./spin-glass.js";
import { createEnsemble, type EnsembleWriter, openEnsemble, readEnsembleMeta } from "../io/ensemble.js";
import { loadNetwork } from "../io/network.js";
import { h5Ready } from "../io/h5.js";
import { networkMap } from "../irg/network.js";
import { conjugateSeries, derivedParams } from "./block.js";
import { flag, int, num, oneOf, type ParamSpecs, parseParams, UsageError } from "../models/params.js";
import { BACKENDS, type BackendChoice } from "../mc/backend.js";
import { openBackend } from "./backend.js";
import { z } from "zod";
import { type Config } from "../models/model.js";
import { modelOfFile } from "../models/registry.js";
import { SOFTWARE } from "../version.js";

export interface GenerateOptions {
  from: string;
  /** Output file of size L is `${prefix}_L${L}.h5`. */
  prefix: string;
  steps: number;
  seed: number;
  force?: boolean;
  /** Use at most this many configurations of the input (default: all). */
  limit?: number;
  /**
   * Monte Carlo refinement: local sweeps of the original action (at `refineAt`) applied to
   * every generated configuration at every level (0: none). Local updates relax the short-range
   * structure in a few sweeps while the long-wavelength modes drawn by the network stay.
   */
  refine?: number;
  /**
   * Coupling of the refinement sweeps (β or μ²; default: the input ensemble's). Ensembles generated
   * from parents at several couplings are combined by reweighting with the parents' weights, which is
   * exact only if the map parent → child is the same for all of them: give them all one coupling.
   */
  refineAt?: number;
  /** The network file (stored as the `network` attribute). */
  network?: string;
  /** Where the network's forward passes run (resolved by generateWithNetwork; stored as generation_backend). */
  backend?: BackendChoice;
  /** One-line notices (where the network runs). */
  notice?: (line: string) => void;
  progress?: (done: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface GenerateResult {
  files: { L: number; path: string }[];
  /** Configurations per size that were asked for; fewer were written when the run was stopped. */
  planned: number;
  /** False when stopped: the files hold the first `configurations` rows and are marked incomplete. */
  completed: boolean;
  configurations: number;
  seconds: number;
}

/** The flags of `irg generate` (validated here; the CLI derives its options from them). */
export const GENERATE_SPECS: ParamSpecs = {
  net: { flag: "--net <net.json>", description: "network from irg train", schema: z.string().min(1), required: true },
  from: { flag: "--from <small.h5>", description: "ensemble whose stored configurations are the starting points", schema: z.string().min(1), required: true },
  out: { flag: "--out <prefix>", description: "output prefix: <prefix>_L<size>.h5 per size", schema: z.string().min(1), required: true },
  steps: { flag: "--steps <n>", description: "number of doublings", schema: int(1, 8), default: 1 },
  seed: { flag: "--seed <s>", description: "seed of the generation streams", schema: int(0), default: 1 },
  limit: { flag: "--limit <n>", description: "use only the first n configurations", schema: int(1) },
  refine: { flag: "--refine <sweeps>", description: "local Monte Carlo sweeps after every doubling (0: the network's draw alone)", schema: int(0), default: 0 },
  refineAt: { flag: "--refine-at <coupling>", description: "coupling (beta or mu2) of the refinement sweeps (default: the input's; use one value for every ensemble you will reweight together)", schema: num() },
  force: { flag: "--force", description: "overwrite existing outputs", schema: flag() },
  backend: { flag: "--backend <name>", description: "cpu|gpu|auto: where the network runs; on the GPU a one-stage network also draws there (its own random numbers), a two-stage one draws on the CPU with the CPU's streams", schema: oneOf(BACKENDS), default: "cpu" },
};

/** Validated generation flags: the network and the options of `generate`. */
export function generateOptions(raw: Record<string, unknown>): { net: string; options: GenerateOptions } {
  const o = parseParams<{ net: string; from: string; out: string; steps: number; seed: number; limit?: number; refine: number; refineAt?: number; force?: boolean; backend: BackendChoice }>(GENERATE_SPECS, raw);
  return { net: o.net, options: { from: o.from, prefix: o.out, steps: o.steps, seed: o.seed, limit: o.limit, refine: o.refine, refineAt: o.refineAt, force: o.force === true, backend: o.backend } };
}

/** Generation with a saved network: checks that it was trained for the ensemble's model and dimension. */
export async function generateWithNetwork(net: string, opts: GenerateOptions): Promise<GenerateResult> {
  await h5Ready();
  const meta = readEnsembleMeta(opts.from);
  // An ea ensemble holds overlap fields: it needs a network trained with --model overlap.
  const network = loadNetwork(net, { model: modelOfFile(meta.model, opts.from).network?.name ?? meta.model, dim: meta.dim });
  const backend = await openBackend(opts.backend ?? "cpu", false, opts.notice ?? (() => {}));
  try {
    return await generate(networkMap(network, backend.network), { ...opts, network: net, backend: backend.name });
  } finally {
    backend.close();
  }
}

export function generatedPath(prefix: string, L: number): string {
  return `${prefix}_L${L}.h5`;
}

export async function generate(map: InverseMap, opts: GenerateOptions): Promise<GenerateResult> {
  await h5Ready();
  const t0 = performance.now();
  const r = openEnsemble(opts.from);
  const writers: EnsembleWriter[] = [];
  try {
    const { meta } = r;
    const x = conjugateSeries(r);
    const d = modelOfFile(meta.model, opts.from);
    const netName = d.network?.name ?? meta.model;
    if (netName !== map.model) throw new UsageError(`the network generates ${map.model} configurations but ${opts.from} holds ${meta.model}; train a network for ${netName}`);
    if (meta.dim !== map.dim) throw new UsageError(`the network is ${map.dim}-dimensional but ${opts.from} is ${meta.dim}-dimensional`);
    if (r.configRows === 0) throw new UsageError(`${opts.from} stores no configurations`);
    if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > 8) throw new UsageError(`--steps must be between 1 and 8, got ${opts.steps}`);
    const sizes = Array.from({ length: opts.steps }, (_, k) => meta.L * 2 ** (k + 1));
    const Vmax = sizes[sizes.length - 1]! ** meta.dim;
    if (Vmax > 2 ** 28) throw new UsageError(`${opts.steps} steps from L = ${meta.L} give ${sizes.at(-1)}^${meta.dim} sites, more than this tool generates in memory`);
    // The observables of a configuration (the model's), the ancestor's disorder sample for disorder
    // models (the network itself knows no couplings), and the provenance of every row.
    const own = [...(d.configObservables ?? [])];
    const obs = [...own, ...(d.disorder ? ["sample"] : []), "parent_x", "parent_index", "log_q"];
    const parentSample = d.disorder ? sampleSeries(r, x.length) : null;
    const saveEvery = Number(meta.params.saveEvery ?? 1);
    const n = Math.min(r.configRows, opts.limit ?? Infinity);
    const refine = opts.refine ?? 0;
    if (!Number.isInteger(refine) || refine < 0) throw new UsageError(`--refine must be an integer >= 0, got ${refine}`);
    if (!d.refine && (refine > 0 || opts.refineAt !== undefined)) throw new UsageError(`--refine is not defined for ${meta.model} configurations (they have no local action to sweep); generate without --refine`);
    if (opts.refineAt !== undefined && !Number.isFinite(opts.refineAt)) throw new UsageError(`--refine-at must be a number, got ${opts.refineAt}`);
    const key = d.coupling;
    const refineParams = opts.refineAt === undefined ? meta.params : { ...meta.params, [key]: opts.refineAt };
    const lats = sizes.map((L) => lattice(meta.dim, L));
    const refiners = lats.map((lat) => (refine > 0 ? d.refine!(lat, refineParams, refine) : () => {}));
    const observers = lats.map((lat) => d.observe?.(lat, meta.params));
    const derived = derivedParams(meta, "generated", opts.from);
    for (const L of sizes) {
      writers.push(createEnsemble(generatedPath(opts.prefix, L), {
        model: meta.model, dim: meta.dim, L, chains: 1, observables: obs, configDtype: meta.configDtype, software: SOFTWARE,
        params: {
          ...derived.params, saveEvery: 1, generated_from: opts.from, generated_from_L: meta.L, generation_step: Math.log2(L / meta.L), generation_seed: opts.seed, refine_sweeps: refine, refine_coupling: Number(refineParams[key]),
          ...(opts.network !== undefined ? { network: opts.network } : {}), generation_backend: opts.backend === "gpu" ? "gpu" : "cpu", ...map.describe(),
        },
        integers: [...derived.integers, "saveEvery", "generated_from_L", "generation_step", "generation_seed", "refine_sweeps", "network_params"],
        arrays: meta.arrays,
      }, { force: opts.force }));
    }
    const bufs: Config[] = sizes.map((L) => (meta.configDtype === "int8" ? new Int8Array(L ** meta.dim) : new Float32Array(L ** meta.dim)));
    const values = obs.map(() => new Float64Array(1));
    const tmp = new Float64Array(own.length);
    const V0 = meta.L ** meta.dim;
    const chunk = Math.max(1, Math.floor((8 << 20) / V0));
    let done = 0;
    for (let start = 0; start < n && !opts.shouldStop?.(); start += chunk) {
      const end = Math.min(n, start + chunk);
      const block = r.configs(start, end);
      for (let row = start; row < end; row++) {
        // One stream per original configuration: results do not depend on how rows are split among workers.
        const rng = rngFor({ seed: opts.seed, task: 7000, replica: row });
        let coarse: ArrayLike<number> = block.subarray((row - start) * V0, (row - start + 1) * V0);
        let Lc = meta.L;
        const chain = row % meta.chains, stored = Math.floor(row / meta.chains);
        const parentX = x[stored * saveEvery * meta.chains + chain]!;
        let lq = 0;
        for (const [k, L] of sizes.entries()) {
          const out = bufs[k]!;
          lq += map.sampleAsync ? await map.sampleAsync(coarse, Lc, rng, out) : map.sample(coarse, Lc, rng, out);
          refiners[k]!(out, rng);
          observers[k]?.(out, tmp);
          own.forEach((_, o) => (values[o]![0] = tmp[o]!));
          if (parentSample) values[own.length]![0] = parentSample[stored * saveEvery * meta.chains + chain]!;
          const j = obs.indexOf("parent_x");
          values[j]![0] = parentX;
          values[j + 1]![0] = row;
          values[j + 2]![0] = lq;
          writers[k]!.measurement(values, [out]);
          coarse = out;
          Lc = L;
        }
        done++;
        opts.progress?.(done, n);
      }
      // Let signals and progress through between chunks.
      await new Promise((res) => setImmediate(res));
    }
    writers.forEach((w) => w.close({ completed: done === n }));
    return { files: sizes.map((L) => ({ L, path: generatedPath(opts.prefix, L) })), configurations: done, planned: n, completed: done === n, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    writers.forEach((w) => w.abort());
    throw e;
  } finally {
    r.close();
  }
}
