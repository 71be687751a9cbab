// `irg export --net net.json --out net.onnx`: a trained network as an ONNX model (coarse configuration in,
// per-site head parameters out) for onnxruntime, PyTorch (onnx2torch) and other ONNX consumers.

import { type Command } from "commander";
import { exportNetwork } from "../jobs/export.js";

export function registerExport(program: Command): void {
  program
    .command("export")
    .requiredOption("--net <net.json>", "network from irg train")
    .requiredOption("--out <net.onnx>", "ONNX model to write")
    .option("--force", "overwrite an existing output")
    .description("export a trained network to ONNX (input: coarse configuration; output: the head's raw parameters)")
    .action((o: { net: string; out: string; force?: boolean }) => {
      const r = exportNetwork(o.net, o.out, { force: o.force });
      process.stdout.write(`wrote ${r.out}: ${r.model} ${r.dim}D, ${r.weights} weights, ${r.bytes} bytes; input "${r.input}" [N, 1, L…], output "${r.output}": ${r.doc}\n`);
    });
}
