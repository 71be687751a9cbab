// `node dist/bench/exact.js`: the exchange weights of exact inverse RG (src/irg/multilevel.ts) against
// the fine size, for the two decimation-compatible proposals, the network one as the baseline of the same
// run. For each fine size 2L: coarse configurations c from the model's own Monte Carlo at L (its
// pipeline algorithm at the critical coupling), M proposals φ′ ~ q(· | c) each, and
//   ln w = −S_2L(φ′) + S_L(c) − ln q(φ′ | c).
// Reported: ESS/N of the weights; var(ln w) in all and within one c (the network's conditional alone;
// the rest is the coarse action against the decimated marginal of the fine model, and how the network's
// error varies with c); the stationary acceptance of an independence Metropolis–Hastings chain with these
// weights, Σ_ij min(w_i, w_j) / (N Σ_i w_i) (what the exchanges accept; 1/N-like when one weight
// dominates); ms per proposal.
// The network is trained here (irg train --rule decimation) on L0 = 32 Monte Carlo of the model.
// Options: --quick (fewer coarse states, sizes up to 32), --model ising|phi4 (default both), --out <file.json>.

import { mkdtempSync, rmSync } from "node:fs";
import { cpus, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { h5Ready } from "../src/io/h5.js";
import { loadNetwork } from "../src/io/network.js";
import { decimatedMap, heatBathMap, type CompatibleMap } from "../src/irg/decimated.js";
import { essFraction } from "../src/analysis/stats.js";
import { modelOf } from "../src/models/registry.js";
import { runSimulation, simulateOptions } from "../src/jobs/simulation.js";
import { train } from "../src/jobs/train.js";
import { writeBenchResult } from "./common.js";
import { cpuBackend } from "../src/mc/backend.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes("--quick");
const models = (opt("--model") ?? "ising,phi4").split(",");
const sizes = quick ? [4, 8, 16] : [4, 8, 16, 32, 64];
const coarseStates = quick ? 40 : 100, perState = 10;
const critical: Record<string, Record<string, number>> = { ising: { beta: 0.4406868 }, phi4: { mu2: -0.9515 } };

/** Σ_ij min(w_i, w_j) / (N Σ_i w_i): the current state weighted by w, the proposal by 1/N. */
function independenceAcceptance(logW: number[]): number {
  const top = Math.max(...logW), w = logW.map((v) => Math.exp(v - top)).sort((a, b) => a - b), N = w.length;
  let pairs = 0;
  w.forEach((v, k) => (pairs += v * (2 * (N - k) - 1)));
  return pairs / (N * w.reduce((a, v) => a + v, 0));
}

interface Row { model: string; proposal: string; from: number; to: number; essFraction: number; varLogW: number; varWithin: number; acceptance: number; msPerProposal: number }
const rows: Row[] = [];
await h5Ready();
const tmp = mkdtempSync(join(tmpdir(), "irg-bench-exact-"));
try {
  for (const model of models) {
    const d = modelOf(model);
    if (!critical[model]) throw new Error(`bench exact: no critical coupling for ${model}; choose ising or phi4`);
    const params = { ...critical[model]!, ...(model === "phi4" ? { lambda: 0.7, kappa: 1 } : {}) };
    const data = join(tmp, `${model}32.h5`), net = join(tmp, `${model}-dec.json`);
    const o = simulateOptions(model, { ...params, L: 32, sweeps: quick ? 2000 : 4000, therm: 200, saveEvery: 2, algorithm: d.pipeline!.algorithm, out: data, seed: 1 });
    await runSimulation(model, o, { checkpointEvery: 60 }, false, true);
    const tr = await train({ data: [data], model: model as never, out: net, epochs: quick ? 4 : 10, maxPairs: 2000, seed: 1, force: true, patience: 3, rule: "decimation" });
    console.error(`${model}: decimation network trained on ${tr.pairs} pairs of L = 32 in ${tr.seconds.toFixed(0)} s`);
    const network = loadNetwork(net);
    for (const L of sizes) {
      const lc = lattice(2, L), lf = lattice(2, 2 * L);
      const oc = simulateOptions(model, { ...params, L, sweeps: 1, algorithm: d.pipeline!.algorithm, out: join(tmp, "x.h5") });
      const chains = await d.chains(oc as never, rngFor({ seed: 2, task: L }), cpuBackend);
      const coarseAction = d.action!(lc, oc as never), fineAction = d.action!(lf, oc as never);
      for (let t = 0; t < 200; t++) chains.sweep();
      const cfg32 = d.configDtype === "int8" ? new Int8Array(lc.V) : new Float32Array(lc.V);
      const cs: (Int8Array | Float64Array)[] = [];
      for (let n = 0; n < coarseStates; n++) {
        for (let t = 0; t < 4; t++) chains.sweep();
        chains.config(0, cfg32);
        cs.push(d.configDtype === "int8" ? Int8Array.from(cfg32) : Float64Array.from(cfg32));
      }
      const maps: CompatibleMap[] = [decimatedMap(network), heatBathMap(network, (lat) => d.siteConditional!(lat, oc as never))];
      for (const map of maps) {
        const rng = rngFor({ seed: 3, task: L }), out = d.configDtype === "int8" ? new Int8Array(lf.V) : new Float64Array(lf.V);
        const lw: number[] = [];
        const t0 = performance.now();
        for (const c of cs) {
          const sc = coarseAction(c as never);
          for (let m = 0; m < perState; m++) {
            const lq = map.sample(c, L, rng, out);
            lw.push(-fineAction(out as never) + sc - lq);
          }
        }
        const ms = (performance.now() - t0) / lw.length;
        const mean = lw.reduce((a, v) => a + v, 0) / lw.length;
        const varLogW = lw.reduce((a, v) => a + (v - mean) ** 2, 0) / (lw.length - 1);
        let within = 0;
        for (let g = 0; g < lw.length; g += perState) {
          const s = lw.slice(g, g + perState), m = s.reduce((a, v) => a + v, 0) / s.length;
          within += s.reduce((a, v) => a + (v - m) ** 2, 0) / (s.length - 1);
        }
        const acc = independenceAcceptance(lw);
        rows.push({ model, proposal: map.proposal, from: L, to: 2 * L, essFraction: essFraction(lw), varLogW, varWithin: within / coarseStates, acceptance: acc, msPerProposal: ms });
        console.error(`${model} ${L} -> ${2 * L} ${map.proposal}: ESS/N ${essFraction(lw).toExponential(2)}, var ln w ${varLogW.toFixed(2)} (within one c ${(within / coarseStates).toFixed(2)}), acceptance ${acc.toExponential(2)}`);
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`exact-IRG exchange weights at the critical coupling (${coarseStates} coarse states × ${perState} proposals per size; network trained on decimation pairs of L = 32; ratio = network proposal / heat-bath proposal, same run):`);
console.log(`${pad("model", 7)}${pad("exchange", 10)}${pad("proposal", 11)}${pad("ESS/N", 10)}${pad("var ln w", 10)}${pad("within c", 10)}${pad("MH acc.", 9)}${pad("ms/prop", 9)}var ratio`);
for (const r of rows) {
  const base = rows.find((b) => b.model === r.model && b.from === r.from && b.proposal === "network")!;
  console.log(`${pad(r.model, 7)}${pad(`${r.from}→${r.to}`, 10)}${pad(r.proposal, 11)}${pad(r.essFraction.toExponential(1), 10)}${pad(r.varLogW.toFixed(1), 10)}${pad(r.varWithin.toFixed(1), 10)}${pad(r.acceptance.toExponential(1), 9)}${pad(r.msPerProposal.toFixed(2), 9)}${r.proposal === "network" ? "1" : (base.varLogW / r.varLogW).toFixed(1)}×`);
}
writeBenchResult(opt("--out") ?? join("bench", "results", `exact-${new Date().toISOString().slice(0, 10)}.json`), {
  benchmark: "exact", date: new Date().toISOString(), node: process.version,
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  notes: "var ln w: over all proposals; within c: mean over coarse states of the variance among that state's proposals; MH acc.: sum_ij min(w_i, w_j) / (N sum_i w_i), the stationary acceptance of an independence Metropolis-Hastings chain with these weights",
  rows,
});
