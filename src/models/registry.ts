// The one place that lists the models: every job, reader and report finds a model here by name.

import { eaModel } from "./ea-model.js";
import { isingModel } from "./ising-model.js";
import { type BlockRule, type ModelDescriptor } from "./model.js";
import { decimate } from "../rg/majority.js";
import { type ParamSpecs, UsageError } from "./params.js";
import { phi4Model } from "./phi4-model.js";
import { pottsModel } from "./potts/model.js";

export const MODELS: readonly ModelDescriptor[] = [isingModel, phi4Model, eaModel, pottsModel];
export const MODEL_NAMES: readonly string[] = MODELS.map((m) => m.name);

/** The descriptor of a model, or a one-line UsageError listing the known ones. */
export function modelOf(name: string): ModelDescriptor {
  const m = MODELS.find((d) => d.name === name);
  if (!m) throw new UsageError(`unknown model "${name}"; choose one of ${MODEL_NAMES.join(", ")}`);
  return m;
}

/** The descriptor of a model stored in a file (`what` names the file in the error). */
export function modelOfFile(name: string, what: string): ModelDescriptor {
  const m = MODELS.find((d) => d.name === name);
  if (!m) throw new UsageError(`${what} holds a model "${name}" this version does not know (${MODEL_NAMES.join(", ")})`);
  return m;
}

/** The model whose networks carry `name` (see NetworkSupport.name), or a one-line error. */
export function modelOfNetwork(name: string): ModelDescriptor {
  const m = MODELS.find((d) => d.network?.name === name);
  if (!m) throw new UsageError(`no model has networks named "${name}"; choose one of ${MODELS.filter((d) => d.network).map((d) => d.network!.name).join(", ")}`);
  return m;
}

/**
 * Every model's parameters in one table for a command's help: a flag several models take (--beta,
 * --algorithm) is listed once, its description prefixed by each model's name.
 */
export function unionParams(): ParamSpecs {
  const out: ParamSpecs = {};
  for (const m of MODELS) {
    for (const [key, spec] of Object.entries(m.params)) {
      const prev = out[key];
      out[key] = prev ? { ...prev, description: `${prev.description}; ${m.name}: ${spec.description}` } : { ...spec, description: `${m.name}: ${spec.description}` };
    }
  }
  return out;
}

// A block rule that applies to every model, beside each model's own (majority, the φ⁴ block rule,
// Potts plurality, the overlap rule). Decimation is deterministic and keeps a site of every block, so
// an inverse map that keeps it draws configurations whose probability is computable: the block rule of
// exact inverse RG (irg/decimated.ts).
export const DECIMATION: BlockRule = {
  name: "decimation",
  description: "decimation (b = 2): the value at site 2X of every block (deterministic)",
  apply: (lat, cfg, out) => decimate(lat, cfg as never, out as never),
};
