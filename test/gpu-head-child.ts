// Child process of gpu.test.ts: the GPU heads' draws. For Bernoulli, categorical and mixture heads it
// reports (a) the largest gap between the ln q the GPU returns and the CPU's ln q of the same values
// under the CPU's forward pass, and (b) z-scores of the draws against the distribution the head defines
// (Bernoulli and categorical frequencies; for the mixture the probability integral transform).
import { childGpu, reportCases } from "./gpu-child-io.js";
import { gpuNetwork } from "../src/gpu/network.js";
import { initParams, predict, type ModelSpec } from "../src/nn/model.js";
import { headLogProb, logScale, type HeadSpec } from "../src/nn/heads.js";
import { rngFor } from "../src/lattice/rng.js";

const dev = await childGpu();
/** Φ(x) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function Phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2, t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
const heads: HeadSpec[] = [{ type: "bernoulli" }, { type: "categorical", classes: 3 }, { type: "gaussian-mixture", components: 2 }];
const cases = [];
for (const head of heads) {
  const C = head.type === "bernoulli" ? 1 : head.type === "categorical" ? head.classes : 3 * head.components;
  const spec: ModelSpec = { dim: 2, inChannels: 1, head, layers: [{ type: "conv", cin: 1, cout: 6, k: 3 }, { type: "act", fn: "tanh" }, { type: "convT", cin: 6, cout: C, k: 2 }] };
  const rng = rngFor({ seed: 9, task: C });
  const params = initParams(spec, rng) as Float32Array;
  for (let i = 0; i < params.length; i++) params[i] = 1.5 * params[i]! + 0.2 * rng.normal();
  const N = 4, Lc = 32, S = (2 * Lc) ** 2;
  const input = { shape: [N, 1, Lc, Lc], data: Float32Array.from({ length: N * Lc * Lc }, () => rng.normal()) };
  const net = gpuNetwork(dev, spec, params);
  const { sample, logProb } = await net.sample(input, [12345, 678]);
  const out = predict(spec, params, input);
  const cpuLq = headLogProb(head, out, sample);
  let lqGap = 0, lqScale = 0;
  for (let b = 0; b < N; b++) {
    lqGap = Math.max(lqGap, Math.abs(cpuLq[b]! - logProb[b]!));
    lqScale = Math.max(lqScale, Math.abs(cpuLq[b]!));
  }
  const z: number[] = [];
  const d = out.data;
  if (head.type === "bernoulli") {
    let num = 0, v = 0;
    for (let j = 0; j < N * S; j++) {
      const m = Math.tanh(d[j]! / 2);
      num += sample[j]! - m;
      v += 1 - m * m;
    }
    z.push(num / Math.sqrt(v));
  } else if (head.type === "categorical") {
    for (let c = 0; c < head.classes; c++) {
      let num = 0, v = 0;
      for (let b = 0; b < N; b++) for (let i = 0; i < S; i++) {
        const base = b * C * S + i;
        let mx = -Infinity;
        for (let k = 0; k < C; k++) mx = Math.max(mx, d[base + k * S]!);
        let zz = 0;
        for (let k = 0; k < C; k++) zz += Math.exp(d[base + k * S]! - mx);
        const p = Math.exp(d[base + c * S]! - mx) / zz;
        num += (sample[b * S + i] === c ? 1 : 0) - p;
        v += p * (1 - p);
      }
      z.push(num / Math.sqrt(v));
    }
  } else {
    const K = head.components, F: number[] = [];
    for (let b = 0; b < N; b++) for (let i = 0; i < S; i++) {
      const base = b * C * S + i;
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, d[base + (2 * K + k) * S]!);
      let den = 0, f = 0;
      for (let k = 0; k < K; k++) {
        const w = Math.exp(d[base + (2 * K + k) * S]! - mx);
        den += w;
        f += w * Phi((sample[b * S + i]! - d[base + k * S]!) / Math.exp(logScale(d[base + (K + k) * S]!)));
      }
      F.push(f / den);
    }
    const n = F.length, mean = F.reduce((a, x) => a + x, 0) / n;
    z.push((mean - 0.5) / Math.sqrt(1 / 12 / n));
    for (const q of [0.1, 0.5, 0.9]) z.push((F.filter((x) => x < q).length - q * n) / Math.sqrt(n * q * (1 - q)));
  }
  cases.push({ head: head.type, sites: N * S, lqGap, lqScale, z });
  net.dispose();
}
reportCases(dev, cases);
