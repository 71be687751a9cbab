// Child process of gpu.test.ts: the WGSL forward pass against nn/model.ts predict for networks with every
// layer type (conv k = 1, 3, 5; convT k = 2, 3, 4; upsample; each activation, fused and alone), 2D and 3D.
import { childGpu, reportCases } from "./gpu-child-io.js";
import { gpuNetwork } from "../src/gpu/network.js";
import { initParams, predict, type ModelSpec } from "../src/nn/model.js";
import { rngFor } from "../src/lattice/rng.js";

const dev = await childGpu();
const specs: [string, ModelSpec, number][] = [
  ["2D conv/convT2/upsample", { dim: 2, inChannels: 1, layers: [{ type: "act", fn: "tanh" }, { type: "conv", cin: 1, cout: 8, k: 3 }, { type: "act", fn: "relu" }, { type: "conv", cin: 8, cout: 6, k: 1 }, { type: "act", fn: "softplus" }, { type: "convT", cin: 6, cout: 4, k: 2 }, { type: "act", fn: "sigmoid" }, { type: "upsample" }, { type: "act", fn: "tanh" }, { type: "conv", cin: 4, cout: 2, k: 5 }] }, 12],
  ["2D convT3, convT4", { dim: 2, inChannels: 2, layers: [{ type: "convT", cin: 2, cout: 3, k: 3 }, { type: "act", fn: "relu" }, { type: "convT", cin: 3, cout: 2, k: 4 }] }, 8],
  ["3D conv/convT2/convT3", { dim: 3, inChannels: 1, layers: [{ type: "conv", cin: 1, cout: 4, k: 3 }, { type: "act", fn: "relu" }, { type: "convT", cin: 4, cout: 3, k: 2 }, { type: "act", fn: "tanh" }, { type: "convT", cin: 3, cout: 2, k: 3 }] }, 4],
];
const cases = [];
for (const [name, spec, L] of specs) {
  const rng = rngFor({ seed: 5, task: L });
  const params = initParams(spec, rng) as Float32Array;
  for (let i = 0; i < params.length; i++) params[i] = params[i]! + 0.05 * rng.normal(); // non-zero biases
  const N = 2, shape = [N, spec.inChannels, ...Array(spec.dim).fill(L)];
  const data = Float32Array.from({ length: N * spec.inChannels * L ** spec.dim }, () => rng.normal());
  const want = predict(spec, params, { shape, data });
  const net = gpuNetwork(dev, spec, params);
  const got = await net.predict({ shape, data });
  let maxDiff = 0, scale = 0;
  for (let i = 0; i < want.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(want.data[i]! - got.data[i]!));
    scale = Math.max(scale, Math.abs(want.data[i]!));
  }
  cases.push({ name, shapeEqual: JSON.stringify(want.shape) === JSON.stringify(got.shape), values: want.data.length, maxDiff, scale });
  net.dispose();
}
reportCases(dev, cases);
