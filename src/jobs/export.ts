// Exporting a trained network to ONNX: load, check that the graph can express it, write atomically.

import { fileExists, writeFileAtomic } from "../io/files.js";
import { loadNetwork } from "../io/network.js";
import { networkToOnnx, ONNX_INPUT, ONNX_OUTPUT, outputDoc } from "../io/onnx.js";
import { UsageError } from "../models/params.js";

export interface ExportResult {
  out: string;
  model: string;
  dim: number;
  weights: number;
  bytes: number;
  input: string;
  output: string;
  /** What the output channels mean. */
  doc: string;
}

/** Loading and writing problems are the user's: one line, exit 2. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if ((e as Error)?.name === "H5Error" || e instanceof RangeError) throw new UsageError((e as Error).message);
    throw e;
  }
}

export function exportNetwork(netPath: string, out: string, opts: { force?: boolean } = {}): ExportResult {
  if (!opts.force && fileExists(out)) throw new UsageError(`${out} already exists; overwrite it with --force`);
  const net = asUsage(() => loadNetwork(netPath));
  if (net.stage2) throw new UsageError(`${netPath} is a two-stage network (--stages 2); ONNX export covers one-stage networks: train with --stages 1 to export`);
  const bytes = asUsage(() => networkToOnnx(net));
  asUsage(() => writeFileAtomic(out, bytes));
  return { out, model: net.model, dim: net.dim, weights: net.params.length, bytes: bytes.length, input: ONNX_INPUT, output: ONNX_OUTPUT, doc: outputDoc(net) };
}
