// `irg exact`: exact inverse RG. The multilevel chain of irg/multilevel.ts over L0, 2L0, …, L (exact
// Monte Carlo of L0, network exchanges between neighbouring sizes, optional own sweeps of every size)
// run through the simulation's run loop: the ensemble of size L is an exact Markov chain of the model,
// with checkpoints and resume, and per exchange whether it was accepted and its importance weight.

import { fileExists } from "../io/files.js";
import { lattice } from "../lattice/geometry.js";
import { rngFor } from "../lattice/rng.js";
import { loadNetwork } from "../io/network.js";
import { h5Ready } from "../io/h5.js";
import { openEnsemble, readEnsembleMeta, partialPath } from "../io/ensemble.js";
import { uwerr } from "../analysis/autocorr.js";
import { type Estimate, essFraction, importanceMean } from "../analysis/stats.js";
import { decimatedMap, heatBathMap } from "../irg/decimated.js";
import { makeMultilevel, multilevelChains, type MultilevelLevel } from "../irg/multilevel.js";
import { decimate } from "../rg/majority.js";
import { UsageError } from "../models/params.js";
import { DECIMATION, modelOf, modelOfNetwork } from "../models/registry.js";
import { runChainsToEnsemble, type SessionOptions, simulateOptions, type SimulationResult, storedRunFlags } from "./simulation.js";
import { cpuBackend } from "../mc/backend.js";

export interface ExactOptions {
  /** The network (trained with --rule decimation). */
  network: string;
  /** The largest size; --L is the smallest (L0), and L / L0 a power of two. */
  to: number;
  /** Own sweeps per round of every size above L0 (one entry per size, or one for all); default 0. */
  levelSweeps?: number[];
  /**
   * "heat-bath" (default where the model has an exact site conditional, e.g. Ising): the network draws
   * the even sites and the conditional the odd ones; "network": the network draws every site.
   */
  proposal?: "network" | "heat-bath";
}

/** Sizes L0, 2L0, …, to; a one-line UsageError unless to/L0 is a power of two ≥ 2. */
export function exactSizes(L0: number, to: number): number[] {
  const r = to / L0;
  if (!(Number.isInteger(r) && r >= 2 && (r & (r - 1)) === 0)) throw new UsageError(`--to ${to} must be --L ${L0} times a power of two (2, 4, 8, …)`);
  const out = [L0];
  while (out.at(-1)! < to) out.push(2 * out.at(-1)!);
  return out;
}

/** Parses --level-sweeps "n" or "n1,n2,…" (one per size above L0). */
export function parseLevelSweeps(text: string | undefined, sizes: number): number[] {
  if (text === undefined) return new Array<number>(sizes).fill(0);
  const v = String(text).split(",").map((x) => Number(x.trim()));
  if (v.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--level-sweeps must be non-negative integers, got ${text}`);
  if (v.length === 1) return new Array<number>(sizes).fill(v[0]!);
  if (v.length !== sizes) throw new UsageError(`--level-sweeps needs one number or ${sizes} (one per size above --L), got ${v.length}`);
  return v;
}

/**
 * Runs (or resumes) the exact chain. `raw` holds the simulation flags of the model at L0 (couplings,
 * algorithm of the L0 sampler and of the sizes' own sweeps, --sweeps rounds, --therm rounds, --every,
 * --save-every, --seed, --out).
 */
/**
 * Per exchange over the whole file: acceptance, ESS/N of the importance weights, and the self-normalised
 * importance estimates of the fine size's per-site observables from the proposals (|m|, m², and the
 * model's other configuration observables per site); τ_int and the Markov-chain estimates of the same
 * observables at the largest size.
 */
export interface ExactSummary {
  exchanges: { from: number; to: number; acceptance: number; essFraction: number; importance: Record<string, Estimate> }[];
  tauInt: Record<string, number>;
  chain: Record<string, Estimate>;
}

/** Per-site quantities of a configuration observable series: |m| and m² for the magnetisation, o/V otherwise. */
function perSite(name: string, series: Float64Array, V: number): [string, Float64Array][] {
  if (name === "magnetization") return [["abs_m", series.map((v) => Math.abs(v) / V)], ["m2", series.map((v) => (v / V) ** 2)]];
  return [[name, series.map((v) => v / V)]];
}

/** The summary of a complete or stopped exact run, from its file. */
export function exactSummary(path: string, sizes: number[]): ExactSummary {
  const r = openEnsemble(path);
  try {
    const exchanges = sizes.slice(1).map((L, k) => {
      const acc = r.series(`accepted_L${L}`), lw = r.series(`logw_L${L}`);
      const importance: Record<string, Estimate> = {};
      const suffix = `_L${L}`;
      for (const o of r.meta.observables.filter((x) => x.startsWith("proposal_") && x.endsWith(suffix))) {
        for (const [q, x] of perSite(o.slice("proposal_".length, -suffix.length), r.series(o), L ** r.meta.dim)) importance[q] = importanceMean(lw, x);
      }
      return { from: sizes[k]!, to: L, acceptance: acc.reduce((a, v) => a + v, 0) / Math.max(1, acc.length), essFraction: essFraction(Array.from(lw).filter(Number.isFinite)), importance };
    });
    const tauInt: Record<string, number> = {}, chain: Record<string, Estimate> = {};
    const own = r.meta.observables.filter((o) => !o.startsWith("accepted_") && !o.startsWith("logw_") && !o.startsWith("proposal_"));
    const top = exchanges.at(-1)!;
    for (const name of own) {
      const s = r.series(name);
      if (s.length >= 16) tauInt[name] = uwerr(s).tauInt;
      for (const [q, x] of perSite(name, s, r.meta.L ** r.meta.dim)) if (q in top.importance && x.length >= 16) chain[q] = uwerr(x);
    }
    return { exchanges, tauInt, chain };
  } finally {
    r.close();
  }
}

export async function runExact(model: string, raw: Record<string, unknown>, x: ExactOptions, session: SessionOptions, resume: boolean, force: boolean): Promise<SimulationResult & { sizes: number[]; acceptance: number[]; summary: ExactSummary }> {
  await h5Ready();
  const d = modelOf(model);
  if (!d.action) throw new UsageError(`exact sampling needs the action of the model; ${d.name} has none`);
  const net = loadNetwork(x.network);
  const nd = modelOfNetwork(net.model);
  if (nd.name !== d.name) throw new UsageError(`${x.network} generates ${net.model} configurations, not ${d.name}; train one on ${d.name} ensembles`);
  const rule = String(net.training.block_rule ?? nd.blockRule?.name ?? "");
  if (rule !== DECIMATION.name) throw new UsageError(`${x.network} was trained on ${rule || "majority"}-blocked pairs; exact sampling needs a decimation-compatible network: train it with irg train --rule decimation`);
  const o0 = simulateOptions(model, raw);
  if (net.dim !== o0.dim) throw new UsageError(`${x.network} is a ${net.dim}D network; this run is ${o0.dim}D`);
  const sizes = exactSizes(o0.L, x.to);
  const own = x.levelSweeps ?? new Array<number>(sizes.length - 1).fill(0);
  if (own.length !== sizes.length - 1) throw new UsageError(`--level-sweeps needs ${sizes.length - 1} entries`);
  const levels: MultilevelLevel[] = [];
  for (const [k, L] of sizes.entries()) {
    const o = { ...o0, L, out: o0.out };
    const lat = lattice(o.dim, L);
    // Every size's own stream: (seed, task 60 + k + 100·--task); the exchanges use 59 + 100·--task.
    const chains = (await d.chains(o, rngFor({ seed: o.seed, task: 60 + k + 100 * (o0.task ?? 0), replica: 0 }), cpuBackend)) as never;
    const observe = d.observe && d.configObservables ? { names: d.configObservables, measure: d.observe(lat, o as never) } : undefined;
    levels.push({ lat, chains, action: d.action(lat, o as never), sweeps: k === 0 ? 1 : own[k - 1]!, ...(observe ? { observe } : {}) });
  }
  const proposal = x.proposal ?? (d.siteConditional ? "heat-bath" : "network");
  if (proposal === "heat-bath" && !d.siteConditional) throw new UsageError(`--proposal heat-bath needs an exact single-site conditional, which ${d.name} does not have; use --proposal network`);
  const map = proposal === "heat-bath" ? heatBathMap(net, (lat) => d.siteConditional!(lat, o0 as never)) : decimatedMap(net);
  const rng = rngFor({ seed: o0.seed, task: 59 + 100 * (o0.task ?? 0), replica: 0 });
  const ml = makeMultilevel(levels, sizes.slice(1).map(() => map), (lat, f, out) => decimate(lat, f as never, out as never), rng, { keepWeights: false });
  if (!resume) ml.initialize(Math.max(o0.therm, 100));
  const chains = multilevelChains(ml, rng);
  const top = { ...o0, L: x.to };
  const res = await runChainsToEnsemble(d.name, top, chains as unknown as Parameters<typeof runChainsToEnsemble>[2], session, resume, force, {
    params: { origin: "exact", exact_L0: o0.L, exact_network: x.network, exact_level_sweeps: own.join(","), exact_rule: DECIMATION.description, exact_proposal: proposal },
    integers: ["exact_L0"],
  });
  return { ...res, sizes, acceptance: sizes.slice(1).map((_, k) => ml.stats(k + 1).accepted / Math.max(1, ml.stats(k + 1).proposed)), summary: exactSummary(res.out, sizes) };
}

/** The options of an exact run stored in its file, for --resume (the physics from the file, as for simulations). */
export async function exactResumeOptions(out: string): Promise<{ model: string; raw: Record<string, unknown>; x: ExactOptions }> {
  await h5Ready();
  const path = fileExists(out) ? out : partialPath(out);
  if (!fileExists(path)) throw new UsageError(`cannot resume ${out}: no such file`);
  const meta = readEnsembleMeta(path);
  if (meta.params.origin !== "exact") throw new UsageError(`${out} is not an irg exact run; resume simulations with irg simulate --resume`);
  const raw = storedRunFlags(modelOf(meta.model), meta, Number(meta.params.exact_L0), { out });
  // Files written before the heat-bath proposal existed used the network for every site.
  const proposal = meta.params.exact_proposal === "heat-bath" ? "heat-bath" : "network";
  return { model: meta.model, raw, x: { network: String(meta.params.exact_network), to: meta.L, levelSweeps: String(meta.params.exact_level_sweeps).split(",").map(Number), proposal } };
}
