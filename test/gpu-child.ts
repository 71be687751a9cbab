// Child process of gpu.test.ts: runs the WGSL packed checkerboard kernel and its CPU reference from the
// same start and prints, as one JSON line, how many words and sums differ.
import { childGpu, reportCases } from "./gpu-child-io.js";
import { gpuPackedKernel } from "../src/gpu/packed-checkerboard.js";
import { cpuPackedKernel, packedLayout, packedTable, MASK, type PackedRule } from "../src/mc/packed-checkerboard.js";
import { rngFor } from "../src/lattice/rng.js";

const dev = await childGpu();
const cases = [];
for (const [dim, L, beta] of [[2, 32, 0.44], [2, 48, 0.3], [3, 16, 0.22], [3, 32, 0.25], [2, 4, 0.44], [2, 6, 0.3], [3, 2, 0.2], [3, 4, 0.25]] as const) {
  for (const rule of ["metropolis", "heatbath"] as PackedRule[]) {
    const lay = packedLayout(dim, L), table = packedTable(dim, beta, rule), key: [number, number] = [0x9e3779b9, L * 7 + dim];
    const rng = rngFor({ seed: 77, task: L, replica: dim });
    const w = new Uint32Array(lay.words).map(() => (rng.u32() & MASK & lay.valid) >>> 0);
    const cpu = cpuPackedKernel({ lay, key, table }), gpu = await gpuPackedKernel(dev)({ lay, key, table });
    cpu.write(w);
    gpu.write(w);
    // Sweep numbers past 2^32 half-sweeps exercise the counter's high word.
    for (const [from, n] of [[0, 70], [2 ** 31 + 5, 3]]) {
      await cpu.sweeps(from, n);
      await gpu.sweeps(from, n);
    }
    const a = await cpu.read(), b = await gpu.read();
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    const sa = await cpu.sums(), sb = await gpu.sums();
    cases.push({ name: `${dim}D L=${L} ${rule}`, diffWords: diff, sumsEqual: sa.up === sb.up && sa.bonds === sb.bonds });
    gpu.dispose();
  }
}
reportCases(dev, cases);
