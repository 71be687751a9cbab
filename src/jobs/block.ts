// Blocking ensembles (b = 2): every stored configuration is mapped by the model's rule (φ⁴ block rule,
// majority with random ties, or the overlap rule for spin-glass overlap fields) and keeps its parent's row and conjugate variable, so that a blocked
// ensemble reweights with the parent's action.

import { lattice } from "../lattice/geometry.js";
import { type Rng, rngFor } from "../lattice/rng.js";
import { isingEnergy } from "../models/ising.js";
import { majorityBlock } from "../rg/majority.js";
import { phi4Block } from "../rg/phi4-block.js";
import { overlapBlock } from "../rg/overlap.js";
import { minWaves, overlapQ, overlapQk2 } from "../models/ea.js";
import { createEnsemble, type EnsembleReader, openEnsemble } from "../io/ensemble.js";
import { UsageError } from "./params.js";
import { SOFTWARE } from "../version.js";

/** Conjugate variable x of the parent with weight e^{−c·x}: Ising c = β, x = E; φ⁴ c = μ², x = Σφ²/2;
 * spin glass c = β, x = E(s) + E(t) (a blocked or generated ea file carries its ancestor's as parent_x). */
export function conjugateSeries(r: EnsembleReader): Float64Array {
  if (r.meta.model === "ea") return r.series(r.meta.observables.includes("energy") ? "energy" : "parent_x");
  return r.meta.model === "ising" ? r.series("energy") : r.series("phi2").map((v) => v / 2);
}

/** The block rules and the model each one applies to. */
export const BLOCK_RULES = { majority: "ising", phi4: "phi4", overlap: "ea" } as const;
export type BlockRule = keyof typeof BLOCK_RULES;

/** The rule for a model: `requested` if it fits, else a one-line UsageError. */
export function blockRuleFor(model: string, requested?: string): BlockRule {
  const fits = (Object.keys(BLOCK_RULES) as BlockRule[]).find((k) => BLOCK_RULES[k] === model);
  if (!fits) throw new UsageError(`no block rule for model "${model}"`);
  if (requested === undefined) return fits;
  if (!(requested in BLOCK_RULES)) throw new UsageError(`--rule must be one of ${Object.keys(BLOCK_RULES).join(", ")}, got ${requested}`);
  if (requested !== fits) throw new UsageError(`--rule ${requested} applies to ${BLOCK_RULES[requested as BlockRule]} ensembles; this one holds ${model} (use --rule ${fits})`);
  return fits;
}

/**
 * Streams the blocked configurations of an ensemble in row order: fn(row, chain, blocked, parentX),
 * `blocked` reused between calls. Reads configurations in chunks of about 8 MB.
 */
export function forEachBlocked(r: EnsembleReader, rng: Rng, fn: (row: number, chain: number, blocked: Int8Array | Float32Array, parentX: number) => void): void {
  const { meta } = r;
  if (meta.L % 2 !== 0 || meta.L < 4) throw new UsageError(`an ensemble with L = ${meta.L} cannot be blocked with b = 2 (needs an even L >= 4)`);
  if (r.configRows === 0) throw new UsageError("the ensemble stores no configurations (written with --save-every 0); rerun with --save-every 1 or small");
  const lat = lattice(meta.dim, meta.L);
  const V = lat.V, Vc = V >> meta.dim;
  const ising = meta.configDtype === "int8";
  const rule = blockRuleFor(meta.model);
  const x = conjugateSeries(r);
  const saveEvery = Number(meta.params.saveEvery ?? 1);
  const out = ising ? new Int8Array(Vc) : new Float32Array(Vc);
  const chunk = Math.max(1, Math.floor((8 << 20) / V));
  for (let start = 0; start < r.configRows; start += chunk) {
    const end = Math.min(r.configRows, start + chunk);
    const block = r.configs(start, end);
    for (let row = start; row < end; row++) {
      const cfg = block.subarray((row - start) * V, (row - start + 1) * V);
      if (rule === "overlap") overlapBlock(lat, cfg as Int8Array, out as Int8Array, rng);
      else if (ising) majorityBlock(lat, cfg as Int8Array, out as Int8Array, { tie: "random", rng });
      else phi4Block(lat, cfg as Float32Array, out as Float32Array, rng);
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

/** What a blocked file of one model records per configuration besides parent_x and parent_index. */
interface BlockedRecord {
  observables: string[];
  rule: string;
  parentX: string;
  /** Fills values[k][chain] for the observables from the blocked configuration of `row`. */
  fill: (blocked: Int8Array | Float32Array, chain: number, row: number, values: Float64Array[]) => void;
}

function blockedRecord(r: EnsembleReader, lc: ReturnType<typeof lattice>): BlockedRecord {
  const { meta } = r;
  if (meta.model === "ea") {
    // q and |q(k_min)|² of the blocked field, so that `irg measure` reads the file; the disorder sample is the parent's.
    const waves = minWaves(lc);
    const saveEvery = Number(meta.params.saveEvery ?? 1);
    const parentSample = meta.observables.includes("sample") ? r.series("sample") : null;
    return {
      observables: ["q", "qk2", "sample"], rule: "overlap: majority of rho = s*t, random ties", parentX: "energy E(s) + E(t)",
      fill(b, chain, row, v) {
        v[0]![chain] = overlapQ(b as Int8Array);
        v[1]![chain] = overlapQk2(b as Int8Array, waves);
        v[2]![chain] = parentSample ? parentSample[Math.floor(row / meta.chains) * saveEvery * meta.chains + chain]! : chain;
      },
    };
  }
  const ising = meta.model === "ising";
  return {
    observables: ising ? ["magnetization", "energy"] : ["magnetization", "phi2"],
    rule: ising ? "majority, random ties" : "phi4: mean of the majority-sign values",
    parentX: ising ? "energy" : "phi2/2",
    fill(b, chain, _row, v) {
      let m = 0, second = 0;
      for (let k = 0; k < b.length; k++) {
        m += b[k]!;
        second += b[k]! * b[k]!;
      }
      v[0]![chain] = m;
      v[1]![chain] = ising ? isingEnergy(lc, b as Int8Array) : second;
    },
  };
}

/** Blocks `input` into the ensemble file `out` (refusing to overwrite unless `force`). */
export function blockFile(input: string, out: string, opts: { seed?: number; force?: boolean; rule?: string } = {}): BlockResult {
  const r = openEnsemble(input);
  try {
    const { meta } = r;
    const Lc = meta.L / 2;
    const lc = lattice(meta.dim, Math.max(2, Math.floor(Lc)));
    blockRuleFor(meta.model, opts.rule);
    const rec = blockedRecord(r, lc);
    const level = Number(meta.params.block_level ?? 0) + 1;
    const observables = [...rec.observables, "parent_x", "parent_index"];
    const C = meta.chains;
    const rng = rngFor({ seed: opts.seed ?? Number(meta.params.seed ?? 1), task: 2000 + level, replica: 0 });
    const values = observables.map(() => new Float64Array(C));
    const outs = Array.from({ length: C }, () => (meta.configDtype === "int8" ? new Int8Array(lc.V) : new Float32Array(lc.V)));
    const ix = rec.observables.length;
    let w: ReturnType<typeof createEnsemble> | null = null;
    try {
      forEachBlocked(r, rng, (row, chain, blocked, parentX) => {
        w ??= createEnsemble(out, {
          model: meta.model, dim: meta.dim, L: Lc, chains: C, observables, configDtype: meta.configDtype, software: SOFTWARE,
          params: { ...meta.params, saveEvery: 1, blocked_from: input, block_rule: rec.rule, block_level: level, parent_x: rec.parentX },
        }, { force: opts.force });
        outs[chain]!.set(blocked as never);
        rec.fill(blocked, chain, row, values);
        values[ix]![chain] = parentX;
        values[ix + 1]![chain] = row;
        // One measurement holds every chain of one stored index, as in the parent.
        if (chain === C - 1) w.measurement(values, outs);
      });
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
