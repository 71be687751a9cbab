// Networks on disk as JSON: format stamp, model and dimension, architecture, head, weights (base64 of
// float32, exact) and training provenance. Written atomically; loading names every problem in one line.

import { existsSync, readFileSync } from "node:fs";
import { type Network } from "../irg/network.js";
import { checkSpec, type ModelSpec, paramCount } from "../nn/model.js";
import { writeFileAtomic } from "./files.js";
import { H5Error } from "./h5.js";
import { MODELS } from "../models/registry.js";

export const NETWORK_FORMAT = "irg-network";
export const NETWORK_VERSION = 1;

export function networkJson(net: Network, software: string): string {
  return JSON.stringify({
    format: NETWORK_FORMAT,
    format_version: NETWORK_VERSION,
    software,
    model: net.model,
    dim: net.dim,
    spec: net.spec,
    parameters: net.params.length,
    input_scale: net.inputScale,
    weights_float32_base64: base64(net.params),
    training: net.training,
    ...(net.stage2 ? { stage2: { spec: net.stage2.spec, parameters: net.stage2.params.length, weights_float32_base64: base64(net.stage2.params), training: net.stage2.training } } : {}),
  }, null, 1);
}

function base64(p: Float32Array): string {
  return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("base64");
}

/** The architecture and weights of one stage, checked (one-line H5Error naming the file). */
function stageOf(path: string, what: string, specJson: unknown, weights: unknown, dim: number): { spec: ModelSpec; params: Float32Array } {
  const spec = specJson as ModelSpec;
  try {
    checkSpec(spec);
    if (!spec.head) throw new RangeError("no output head");
    if (spec.dim !== dim) throw new RangeError("dimension mismatch");
  } catch (e) {
    throw new H5Error(`${path}: corrupt ${what}architecture (${(e as Error).message})`);
  }
  const bytes = Buffer.from(String(weights ?? ""), "base64");
  const want = paramCount(spec);
  if (bytes.length !== 4 * want) throw new H5Error(`${path}: ${bytes.length / 4} ${what}weights stored, the architecture needs ${want}`);
  const params = new Float32Array(want);
  new Uint8Array(params.buffer).set(bytes);
  return { spec, params };
}

export function saveNetwork(path: string, net: Network, software: string): void {
  writeFileAtomic(path, networkJson(net, software));
}

/** Loads and checks a network; `expect` refuses one trained for another model or dimension. */
export function loadNetwork(path: string, expect: { model?: string; dim?: number } = {}): Network {
  if (!existsSync(path)) throw new H5Error(`cannot open ${path}: no such file; train one with irg train`);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    throw new H5Error(`${path} is not a network file (not JSON); train one with irg train`);
  }
  if (j.format !== NETWORK_FORMAT) throw new H5Error(`${path} is not an irg network (no format "${NETWORK_FORMAT}")`);
  if (Number(j.format_version) > NETWORK_VERSION) throw new H5Error(`${path} has network format ${String(j.format_version)}; upgrade irg`);
  const model = j.model as Network["model"], dim = Number(j.dim) as 2 | 3;
  if (!MODELS.some((d) => d.network?.name === model)) throw new H5Error(`${path}: unknown network model ${JSON.stringify(j.model)}`);
  if (expect.model && model !== expect.model) throw new H5Error(`${path} was trained for ${model}, not ${expect.model}; train a network for ${expect.model}`);
  if (expect.dim && dim !== expect.dim) throw new H5Error(`${path} is a ${dim}D network, but the data are ${expect.dim}D`);
  const { spec, params } = stageOf(path, "", j.spec, j.weights_float32_base64, dim);
  const inputScale = j.input_scale === undefined ? 1 : Number(j.input_scale);
  if (!(inputScale > 0)) throw new H5Error(`${path}: corrupt input_scale ${String(j.input_scale)}`);
  const net: Network = { model, dim, spec, params, inputScale, training: (j.training ?? {}) as Record<string, string | number> };
  if (j.stage2 !== undefined) {
    const s2 = j.stage2 as Record<string, unknown>;
    net.stage2 = { ...stageOf(path, "second-stage ", s2.spec, s2.weights_float32_base64, dim), training: (s2.training ?? {}) as Record<string, string | number> };
    if (net.stage2.spec.inChannels !== 2 * spec.inChannels + 1) throw new H5Error(`${path}: corrupt second-stage architecture (${net.stage2.spec.inChannels} input channels, the first stage's ${spec.inChannels} need ${2 * spec.inChannels + 1})`);
  }
  return net;
}
