// `irg export --net net.json --out net.onnx`: a trained network as an ONNX model (coarse configuration in,
// per-site head parameters out) for onnxruntime, PyTorch (onnx2torch) and other ONNX consumers.

import { existsSync } from "node:fs";
import { type Command } from "commander";
import { writeFileAtomic } from "../io/files.js";
import { loadNetwork } from "../io/network.js";
import { networkToOnnx, ONNX_INPUT, ONNX_OUTPUT, outputDoc } from "../io/onnx.js";
import { UsageError } from "../models/params.js";

/** Loading and writing problems are the user's: one line, exit 2. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if ((e as Error)?.name === "H5Error") throw new UsageError((e as Error).message);
    throw e;
  }
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .requiredOption("--net <net.json>", "network from irg train")
    .requiredOption("--out <net.onnx>", "ONNX model to write")
    .option("--force", "overwrite an existing output")
    .description("export a trained network to ONNX (input: coarse configuration; output: the head's raw parameters)")
    .action((o: { net: string; out: string; force?: boolean }) => {
      if (!o.force && existsSync(o.out)) throw new UsageError(`${o.out} already exists; overwrite it with --force`);
      const net = asUsage(() => loadNetwork(o.net));
      const bytes = networkToOnnx(net);
      asUsage(() => writeFileAtomic(o.out, bytes));
      process.stdout.write(`wrote ${o.out}: ${net.model} ${net.dim}D, ${net.params.length} weights, ${bytes.length} bytes; input "${ONNX_INPUT}" [N, 1, L…], output "${ONNX_OUTPUT}": ${outputDoc(net)}\n`);
    });
}
