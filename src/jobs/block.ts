// Blocking ensembles (b = 2): every stored configuration is mapped by its model's block rule (the
// descriptor's) and keeps its parent's row and conjugate variable, so that a blocked ensemble reweights
// with the parent's action.

import { lattice, type Lattice } from "../lattice/geometry.js";
import { type Rng, rngFor } from "../lattice/rng.js";
import { basename } from "node:path";
import { createEnsemble, type EnsembleMeta, type EnsembleReader, openEnsemble } from "../io/ensemble.js";
import { h5Ready } from "../io/h5.js";
import { UsageError } from "../models/params.js";
import { type BlockRule, type Config, type ModelDescriptor, type StoredParams } from "../models/model.js";
import { DECIMATION, MODELS, modelOfFile } from "../models/registry.js";
import { SOFTWARE } from "../version.js";
import { SAMPLING_KEYS } from "./simulation.js";

/**
 * The parameters of an ensemble derived from `parent` (blocked, generated): the physics stays, while how
 * the parent was sampled (algorithm, sweeps, therm, seed, …) moves to parent_<key>, since the derived
 * file did not run it. The grandparent's parent_<key>, already there, stays: it names the Monte Carlo run.
 */
export function derivedParams(parent: Pick<EnsembleMeta, "params" | "integers">, origin: "blocked" | "generated", from: string): { params: StoredParams; integers: string[] } {
  const params: StoredParams = { ...parent.params, origin, parent: basename(from) };
  const integers = new Set(parent.integers ?? []);
  for (const k of SAMPLING_KEYS) {
    if (params[k] === undefined) continue;
    params[`parent_${k}`] ??= params[k]!;
    if (integers.has(k)) integers.add(`parent_${k}`);
    delete params[k];
  }
  return { params, integers: [...integers] };
}

/** Conjugate variable x of the parent with weight e^{−c·x} (see ModelDescriptor.coupling); a blocked
 * or generated spin-glass file carries its ancestor's as parent_x. */
export function conjugateSeries(r: EnsembleReader): Float64Array {
  return modelOfFile(r.meta.model, "the ensemble").conjugate((name) => r.series(name), r.meta.observables);
}

/** The block rule names and the model each one applies to (decimation applies to every model). */
export const BLOCK_RULES: Record<string, string> = { ...Object.fromEntries(MODELS.filter((m) => m.blockRule).map((m) => [m.blockRule!.name, m.name])), [DECIMATION.name]: "every" };

/**
 * The rule `requested` (default: the model's own), checked against the model: a one-line UsageError if
 * it does not fit. Decimation fits every model.
 */
export function blockRuleFor(model: string, requested?: string): BlockRule {
  const d = modelOfFile(model, "the ensemble");
  if (requested === DECIMATION.name) return DECIMATION;
  if (!d.blockRule) throw new UsageError(`no block rule for model "${model}"`);
  const fits = d.blockRule.name;
  if (requested === undefined) return d.blockRule;
  if (!(requested in BLOCK_RULES)) throw new UsageError(`--rule must be one of ${Object.keys(BLOCK_RULES).join(", ")}, got ${requested}`);
  if (requested !== fits) throw new UsageError(`--rule ${requested} applies to ${BLOCK_RULES[requested]} ensembles; this one holds ${model} (use --rule ${fits} or ${DECIMATION.name})`);
  return d.blockRule;
}

/**
 * Streams the blocked configurations of an ensemble in row order: fn(row, chain, blocked, parentX),
 * `blocked` reused between calls. Reads configurations in chunks of about 8 MB.
 */
export function forEachBlocked(r: EnsembleReader, rng: Rng, fn: (row: number, chain: number, blocked: Config, parentX: number) => void, ruleName?: string): void {
  const { meta } = r;
  if (meta.L % 2 !== 0 || meta.L < 4) throw new UsageError(`an ensemble with L = ${meta.L} cannot be blocked with b = 2 (needs an even L >= 4)`);
  if (r.configRows === 0) throw new UsageError("the ensemble stores no configurations (written with --save-every 0); rerun with --save-every 1 or small");
  const rule = blockRuleFor(meta.model, ruleName);
  const lat = lattice(meta.dim, meta.L);
  const V = lat.V, Vc = V >> meta.dim;
  const x = conjugateSeries(r);
  const saveEvery = Number(meta.params.saveEvery ?? 1);
  const out = meta.configDtype === "int8" ? new Int8Array(Vc) : new Float32Array(Vc);
  const chunk = Math.max(1, Math.floor((8 << 20) / V));
  for (let start = 0; start < r.configRows; start += chunk) {
    const end = Math.min(r.configRows, start + chunk);
    const block = r.configs(start, end);
    for (let row = start; row < end; row++) {
      rule.apply(lat, block.subarray((row - start) * V, (row - start + 1) * V), out, rng, meta.params);
      // Row = stored·chains + chain; the parent's measurement of a stored row is stored·saveEvery.
      const chain = row % meta.chains, stored = Math.floor(row / meta.chains);
      fn(row, chain, out, x[stored * saveEvery * meta.chains + chain]!);
    }
  }
}

export interface BlockResult {
  out: string;
  configurations: number;
  L: number;
}

/** What a blocked file records per configuration besides parent_x and parent_index. */
interface BlockedRecord {
  observables: string[];
  /** Fills values[k][chain] for the observables from the blocked configuration of `row`. */
  fill: (blocked: Config, chain: number, row: number, values: Float64Array[]) => void;
}

function blockedRecord(d: ModelDescriptor, r: EnsembleReader, lc: Lattice): BlockedRecord {
  const { meta } = r;
  const names = [...(d.configObservables ?? [])];
  const observe = d.observe?.(lc, meta.params);
  const tmp = new Float64Array(names.length);
  const saveEvery = Number(meta.params.saveEvery ?? 1);
  // Disorder models: a blocked row belongs to its parent's sample (so that `irg measure` averages over samples).
  const parentSample = d.disorder && meta.observables.includes("sample") ? r.series("sample") : null;
  return {
    observables: d.disorder ? [...names, "sample"] : names,
    fill(b, chain, row, v) {
      observe?.(b, tmp);
      for (let k = 0; k < names.length; k++) v[k]![chain] = tmp[k]!;
      if (d.disorder) v[names.length]![chain] = parentSample ? parentSample[Math.floor(row / meta.chains) * saveEvery * meta.chains + chain]! : chain;
    },
  };
}

/** `irg block <in.h5> --out …`: the flags as given (--seed still text), checked, then `blockFile`. */
export async function blockCommand(input: string, o: { out: string; seed?: string; force?: boolean; rule?: string }): Promise<BlockResult> {
  await h5Ready();
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be a non-negative integer, got ${o.seed}`);
  return blockFile(input, o.out, { seed, force: o.force === true, rule: o.rule });
}

/** Blocks `input` into the ensemble file `out` (refusing to overwrite unless `force`). */
export function blockFile(input: string, out: string, opts: { seed?: number; force?: boolean; rule?: string } = {}): BlockResult {
  const r = openEnsemble(input);
  try {
    const { meta } = r;
    const Lc = meta.L / 2;
    const lc = lattice(meta.dim, Math.max(2, Math.floor(Lc)));
    const rule = blockRuleFor(meta.model, opts.rule);
    const d = modelOfFile(meta.model, input);
    const rec = blockedRecord(d, r, lc);
    const level = Number(meta.params.block_level ?? 0) + 1;
    const observables = [...rec.observables, "parent_x", "parent_index"];
    const C = meta.chains;
    // The parent's seed by default (a blocked parent keeps it as parent_seed).
    const seed = opts.seed ?? Number(meta.params.seed ?? meta.params.parent_seed ?? 1);
    const rng = rngFor({ seed, task: 2000 + level, replica: 0 });
    const derived = derivedParams(meta, "blocked", input);
    const values = observables.map(() => new Float64Array(C));
    const outs = Array.from({ length: C }, () => (meta.configDtype === "int8" ? new Int8Array(lc.V) : new Float32Array(lc.V)));
    const ix = rec.observables.length;
    let w: ReturnType<typeof createEnsemble> | null = null;
    try {
      forEachBlocked(r, rng, (row, chain, blocked, parentX) => {
        w ??= createEnsemble(out, {
          model: meta.model, dim: meta.dim, L: Lc, chains: C, observables, configDtype: meta.configDtype, software: SOFTWARE,
          params: { ...derived.params, saveEvery: 1, blocked_from: input, block_rule: rule.description, block_rule_name: rule.name, block_level: level, block_seed: seed, parent_x: d.conjugateName ?? "parent's conjugate variable" },
          integers: [...derived.integers, "saveEvery", "block_level", "block_seed"],
          arrays: meta.arrays,
        }, { force: opts.force });
        outs[chain]!.set(blocked as never);
        rec.fill(blocked, chain, row, values);
        values[ix]![chain] = parentX;
        values[ix + 1]![chain] = row;
        // One measurement holds every chain of one stored index, as in the parent.
        if (chain === C - 1) w.measurement(values, outs);
      }, rule.name);
      w!.close({ completed: true });
    } catch (e) {
      (w as ReturnType<typeof createEnsemble> | null)?.abort();
      throw e;
    }
    return { out, configurations: r.configRows, L: Lc };
  } finally {
    r.close();
  }
}
