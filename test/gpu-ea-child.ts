// Child process of gpu.test.ts: the spin-glass multi-spin sampler with the WGSL kernel against the same
// sampler with the TypeScript reference kernel, same seed: checkpoints and measurements must be equal.
import { childGpu, reportCases } from "./gpu-child-io.js";
import { gpuMsKernel } from "../src/gpu/ea-multispin.js";
import { lattice } from "../src/lattice/geometry.js";
import { makeEaMultispinSampler, msKernelFactory } from "../src/mc/ea-multispin-sampler.js";
import { betaLadder } from "../src/mc/parallel-tempering.js";
import { EA_OBSERVABLES } from "../src/mc/ea-samplers.js";

const dev = await childGpu();
const cases = [];
for (const [dim, L, T, samples, first] of [[3, 4, 4, 70, 5], [2, 6, 3, 40, 0], [3, 6, 1, 33, 0]] as const) {
  const betas = betaLadder(0.4, 1.1, T, 1.1);
  const opts = { lat: lattice(dim, L), betas, target: T - 1, samples, firstSample: first, seed: 11, stored: [0, T - 1] };
  const cpu = makeEaMultispinSampler({ ...opts, kernel: msKernelFactory("typescript") });
  const gpu = makeEaMultispinSampler({ ...opts, kernel: gpuMsKernel(dev) as never });
  const n = cpu.chains, outA = EA_OBSERVABLES.map(() => new Float64Array(n)), outB = EA_OBSERVABLES.map(() => new Float64Array(n));
  let measureDiff = 0;
  for (let s = 0; s < 40; s++) {
    cpu.sweep();
    await gpu.sweep();
    if (s % 10 === 9) {
      await gpu.prepare!({ measure: true, config: true, save: false });
      cpu.measure(outA);
      gpu.measure(outB);
      for (let k = 0; k < outA.length; k++) for (let c = 0; c < n; c++) if (outA[k]![c] !== outB[k]![c]) measureDiff++;
    }
  }
  await gpu.prepare!({ measure: false, config: false, save: true });
  const a = cpu.save().spins, b = gpu.save().spins;
  let stateDiff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) stateDiff++;
  cases.push({ name: `${dim}D L=${L} T=${T} samples=${samples}`, stateDiff, measureDiff, words: a.length, acceptance: Array.from(gpu.acceptance()) });
  await gpu.dispose?.();
}
reportCases(dev, cases);
