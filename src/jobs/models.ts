// What every registered model offers, as plain data for `irg models`: read from the descriptors
// (src/models/registry.ts), so that the command line does not reach past the jobs for it.

import { MODELS } from "../models/registry.js";

/** One plain record per model (the --json output of `irg models`). */
export function modelSummaries(): Record<string, unknown>[] {
  return MODELS.map((m) => ({
    name: m.name,
    title: m.title,
    dims: m.dims,
    algorithms: m.algorithms,
    parameters: Object.values(m.params).map((p) => p.flag.split(" ")[0]),
    coupling: m.coupling,
    config_dtype: m.configDtype,
    block_rule: m.blockRule?.description ?? null,
    network: m.network ? { name: m.network.name, symmetry: m.network.symmetry } : null,
    refinement: m.refine !== undefined,
    pipeline: m.pipeline ? { algorithm: m.pipeline.algorithm, parameters: m.pipeline.params ?? [] } : null,
    disorder: m.disorder === true,
    gpu_algorithms: m.gpu ? [...m.gpu.algorithms] : [],
    // irg exact: needs the action; the heat-bath proposal needs the exact site conditional.
    exact: m.action ? { proposals: m.siteConditional ? ["heat-bath", "network"] : ["network"] } : null,
  }));
}
