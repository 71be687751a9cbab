// Exact inverse RG: the decimation-compatible map draws with the probability it reports, and the
// multilevel chain (exact sweeps per size + network exchanges between sizes) reproduces the exact
// distributions of every size — with an untrained network, so exactness does not rest on its quality.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice, type Lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { makeIsingSampler } from "../src/mc/ising-samplers.js";
import { isingEnergy, magnetization } from "../src/models/ising.js";
import { phi4Action, phi4LogZQuadrature, phi4SiteConditional } from "../src/models/phi4.js";
import { makePhi4Sampler } from "../src/mc/phi4-samplers.js";
import { boltzmannProbabilities, kaufman, stateIndex } from "../src/models/ising-exact.js";
import { decimate } from "../src/rg/majority.js";
import { defaultNetwork } from "../src/irg/network.js";
import { decimatedMap, drawnSites, heatBathMap } from "../src/irg/decimated.js";
import { modelOf } from "../src/models/registry.js";
import { makeMultilevel, type MultilevelLevel } from "../src/irg/multilevel.js";
import { essFraction, importanceMean, jackknife } from "../src/analysis/stats.js";
import { gammaQ } from "../src/analysis/chisq.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { adamInit } from "../src/nn/adam.js";
import { trainStep } from "../src/nn/train.js";
import { scalingAt } from "../src/jobs/pipeline.js";
import { type Curves } from "../src/analysis/mcrg.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const irg = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });

/** An untrained Ising network with logits far from 0 (params scaled), so q is far from uniform. */
function roughNetwork(seed: number) {
  const net = defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" }, hidden: 6, kernel: 3 }, seed);
  for (let i = 0; i < net.params.length; i++) net.params[i]! *= 4;
  return net;
}

/** The heat-bath map of an Ising network: the descriptor's exact site conditional at β for the odd sites. */
const heatBath = (net: ReturnType<typeof roughNetwork>, beta: number) => heatBathMap(net, (lat) => modelOf("ising").siteConditional!(lat, { beta }));

for (const kind of ["network", "heat-bath"] as const)
test(`decimation-compatible map (${kind}): draws keep the coarse spins on the decimated sites, ln q sums to 1 over all completions and equals the frequency of the draws (chi-square)`, () => {
  const map = kind === "network" ? decimatedMap(roughNetwork(3)) : heatBath(roughNetwork(3), 0.44);
  assert.equal(map.proposal, kind);
  const coarseCfg = Int8Array.from([1, -1, -1, -1]);
  const fine = lattice(2, 4), free = drawnSites(fine);
  const freeIdx = Array.from(free.keys()).filter((i) => free[i] === 1);
  assert.equal(freeIdx.length, 12);
  // Every completion of the 12 drawn sites: the probabilities sum to one.
  const n = 1 << freeIdx.length, p = new Float64Array(n);
  const cfg = new Int8Array(16);
  let total = 0;
  for (let k = 0; k < n; k++) {
    freeIdx.forEach((site, b) => (cfg[site] = (k >> b) & 1 ? -1 : 1));
    decimatedFill(fine, coarseCfg, cfg);
    total += p[k] = Math.exp(map.logProb(coarseCfg, 2, cfg));
  }
  assert.ok(Math.abs(total - 1) < 1e-9, `sum of q over completions ${total}`);
  // Draws: the decimated sites are the coarse spins, the returned ln q is that of the draw, and the
  // frequencies follow q.
  const rng = rngFor({ seed: 5, task: 1 }), counts = new Float64Array(n), out = new Int8Array(16), blocked = new Int8Array(4);
  const N = 100000;
  for (let t = 0; t < N; t++) {
    const lq = map.sample(coarseCfg, 2, rng, out);
    decimate(fine, out, blocked);
    assert.deepEqual(Array.from(blocked), Array.from(coarseCfg));
    let k = 0;
    freeIdx.forEach((site, b) => (k |= out[site]! < 0 ? 1 << b : 0));
    if (t < 50) assert.ok(Math.abs(lq - Math.log(p[k]!)) < 1e-9);
    counts[k]!++;
  }
  // χ² over states pooled into bins of expected count ≥ 20.
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!);
  let chi2 = 0, bins = 0, accE = 0, accO = 0;
  for (const k of order) {
    accE += N * p[k]!;
    accO += counts[k]!;
    if (accE >= 20) {
      chi2 += (accO - accE) ** 2 / accE;
      bins++;
      accE = accO = 0;
    }
  }
  const pValue = gammaQ((bins - 1) / 2, chi2 / 2);
  assert.ok(pValue > 1e-4, `chi2 = ${chi2.toFixed(1)} over ${bins} bins, p = ${pValue}`);
});

function decimatedFill(fine: Lattice, c: Int8Array, cfg: Int8Array): void {
  const free = drawnSites(fine);
  let X = 0;
  for (let i = 0; i < fine.V; i++) if (!free[i]) cfg[i] = c[X++]!;
}

function isingLevels(sizes: number[], beta: number, sweeps: number[], seed: number): MultilevelLevel[] {
  return sizes.map((L, k) => {
    const lat = lattice(2, L);
    return {
      lat,
      chains: makeIsingSampler({ algorithm: "heatbath", lat, beta, rng: rngFor({ seed, task: 10 + k }) }),
      action: (cfg) => beta * isingEnergy(lat, cfg as Int8Array),
      sweeps: sweeps[k]!,
    };
  });
}

/** Energy, |m| and m² of size k over `rounds` rounds of the chain. */
function runChain(levels: MultilevelLevel[], maps: ReturnType<typeof decimatedMap>[], k: number, rounds: number, seed: number) {
  const ml = makeMultilevel(levels, maps, (lat, f, o) => decimate(lat, f as Int8Array, o as Int8Array), rngFor({ seed, task: 99 }));
  const lat = levels[k]!.lat, cfg = new Int8Array(lat.V);
  for (let t = 0; t < 500; t++) ml.round();
  const e: number[] = [], am: number[] = [], m2: number[] = [], states: number[] = [];
  // The proposals of exchange k: ln w and energy, for the self-normalised importance estimate.
  const logw: number[] = [], pe: number[] = [];
  for (let t = 0; t < rounds; t++) {
    ml.round();
    logw.push(ml.stats(k).lastLogWeight);
    pe.push(isingEnergy(lat, ml.proposal(k) as Int8Array) / lat.V);
    ml.config(k, cfg);
    const m = magnetization(cfg) / lat.V;
    e.push(isingEnergy(lat, cfg) / lat.V);
    am.push(Math.abs(m));
    m2.push(m * m);
    if (lat.V <= 16) states.push(stateIndex(cfg));
  }
  return { ml, e, am, m2, states, logw, pe };
}

const est = (x: number[]) => jackknife([x], ([a]) => a!);

/**
 * A network trained for a few hundred Adam steps on (decimated → original) pairs of exact 4×4 samples
 * at β: good enough for frequent exchanges, far from perfect.
 */
function trainedNetwork(beta: number, seed: number) {
  const net = defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" }, hidden: 8, kernel: 3 }, seed);
  const p = boltzmannProbabilities(lattice(2, 4), beta);
  const cdf = new Float64Array(p.length);
  p.reduce((a, v, k) => (cdf[k] = a + v), 0);
  const rng = rngFor({ seed, task: 77 }), adam = adamInit(net.params.length), B = 64;
  const fine = new Float32Array(B * 16), coarseIn = new Float32Array(B * 4), cfg = new Int8Array(16), c = new Int8Array(4);
  for (let step = 0; step < 400; step++) {
    for (let b = 0; b < B; b++) {
      const u = rng.double();
      let lo = 0, hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      for (let i = 0; i < 16; i++) fine[b * 16 + i] = cfg[i] = (lo >>> i) & 1 ? -1 : 1;
      decimate(lattice(2, 4), cfg, c);
      coarseIn.set(c, b * 4);
    }
    trainStep(net.spec, net.params, adam, { lr: 0.01 }, { shape: [B, 1, 2, 2], data: coarseIn }, fine);
  }
  return net;
}

test("exact chain 2 → 4, network exchanges only (no sweeps at 4x4): <e>, <|m|>, <m^2> equal enumeration at beta = 0.44 within 4 sigma; an acceptance without the coarse action is rejected", () => {
  const beta = 0.44;
  const exact = boltzmannProbabilities(lattice(2, 4), beta);
  const want = { e: 0, am: 0, m2: 0 };
  const s = new Int8Array(16);
  for (let k = 0; k < exact.length; k++) {
    for (let i = 0; i < 16; i++) s[i] = (k >>> i) & 1 ? -1 : 1;
    const m = magnetization(s) / 16;
    want.e += exact[k]! * isingEnergy(lattice(2, 4), s) / 16;
    want.am += exact[k]! * Math.abs(m);
    want.m2 += exact[k]! * m * m;
  }
  const map = decimatedMap(trainedNetwork(beta, 7));
  const r = runChain(isingLevels([2, 4], beta, [1, 0], 21), [map], 1, 60000, 21);
  const acc = r.ml.stats(1).accepted / r.ml.stats(1).proposed;
  console.log(`# exchange acceptance 2 -> 4: ${acc.toFixed(3)}`);
  assert.ok(acc > 0.1, `exchange acceptance ${acc}`);
  for (const [name, series, value] of [["e", r.e, want.e], ["|m|", r.am, want.am], ["m^2", r.m2, want.m2]] as const) {
    const x = est(series as number[]);
    assert.ok(Math.abs(x.value - value) < 4 * x.error, `${name}: ${x.value} ± ${x.error} against exact ${value}`);
  }
  assert.ok(essFraction(r.ml.stats(1).logWeights) > 0 && essFraction(r.ml.stats(1).logWeights) <= 1);
  // The alternative to the chain: self-normalised importance weights over the proposals (coarse states
  // from the exact chain below) give the same energy.
  const is = importanceMean(r.logw, r.pe);
  console.log(`# importance estimate of e at 4x4: ${is.value.toFixed(4)} +- ${is.error.toFixed(4)} (exact ${want.e.toFixed(4)}), ESS/N ${is.essFraction.toFixed(3)}`);
  assert.ok(Math.abs(is.value - want.e) < 4 * is.error, `importance estimate ${is.value} ± ${is.error} against ${want.e}`);
  // Its control: the proposals unweighted are the network's distribution, not the model's.
  const raw = est(r.pe);
  assert.ok(Math.abs(raw.value - want.e) > 4 * raw.error, `unweighted proposals should be biased: ${raw.value} ± ${raw.error}`);
  // The control: leaving the coarse action out of the weight (as if the coarse states were uniform) biases e.
  const wrong = isingLevels([2, 4], beta, [1, 0], 21);
  wrong[0] = { ...wrong[0]!, action: () => 0 };
  const w = runChain(wrong, [map], 1, 60000, 21);
  const we = est(w.e);
  assert.ok(Math.abs(we.value - want.e) > 4 * we.error, `the biased acceptance should fail: ${we.value} ± ${we.error} against ${want.e}`);
});

test("exact chain 2 → 4 → 8: with exchanges only above 2x2 (network proposal, and the heat-bath proposal), and as a mixed kernel (a heat-bath sweep per size), <e> at 8x8 equals Kaufman's within 4 sigma", () => {
  const beta = 0.4406868;
  const net = trainedNetwork(beta, 11);
  const want = kaufman(8, beta).e;
  for (const [sweeps, map] of [[[1, 0, 0], decimatedMap(net)], [[1, 1, 1], decimatedMap(net)], [[1, 0, 0], heatBath(net, beta)]] as const) {
    const r = runChain(isingLevels([2, 4, 8], beta, [...sweeps], 31), [map, map], 2, 40000, 31);
    const x = est(r.e);
    const acc = [1, 2].map((k) => r.ml.stats(k).accepted / r.ml.stats(k).proposed);
    console.log(`# ${map.proposal} proposal, sweeps ${sweeps.join(",")}: exchange acceptance 2->4 ${acc[0]!.toFixed(3)}, 4->8 ${acc[1]!.toFixed(3)}; e(8) = ${x.value.toFixed(4)} +- ${x.error.toFixed(4)} (Kaufman ${want.toFixed(4)})`);
    assert.ok(Math.abs(x.value - want) < 4 * x.error, `sweeps ${sweeps}: e(8) = ${x.value} ± ${x.error} against Kaufman ${want}`);
    for (const k of [1, 2]) assert.ok(r.ml.stats(k).accepted > 100, `exchanges accepted at level ${k}: ${r.ml.stats(k).accepted}`);
  }
});

test("irg exact: a decimation network from irg train --rule decimation runs the chain into an ensemble; a stopped run resumes bit for bit; bad input is one line with exit code 2", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-exact-"));
  const f = (n: string) => join(dir, n);
  assert.equal(irg("simulate", "ising", "--L", "8", "--beta", "0.44", "--algorithm", "wolff", "--sweeps", "400", "--therm", "100", "--every", "2", "--out", f("i8.h5"), "--quiet").status, 0);
  const tr = irg("train", "--model", "ising", "--data", f("i8.h5"), "--rule", "decimation", "--out", f("dec.json"), "--epochs", "3", "--hidden", "4", "--kernel", "3", "--quiet");
  assert.equal(tr.status, 0, tr.stderr);
  assert.equal(irg("train", "--model", "ising", "--data", f("i8.h5"), "--out", f("maj.json"), "--epochs", "2", "--hidden", "4", "--kernel", "3", "--quiet").status, 0);
  const args = ["exact", "ising", "--network", f("dec.json"), "--L", "4", "--to", "16", "--beta", "0.44", "--algorithm", "heatbath", "--sweeps", "300", "--therm", "50", "--level-sweeps", "1,0", "--seed", "3", "--quiet"];
  const full = irg(...args, "--out", f("a.h5"));
  assert.equal(full.status, 0, full.stderr);
  assert.match(full.stdout, /exchange acceptance \(this session\): 4->8 [\d.]+%, 8->16 [\d.]+%/);
  assert.match(full.stdout, /^exchange 8->16 over the file: acceptance [\d.]+%, ESS\/N of the weights [\d.e+-]+$/m);
  assert.match(full.stdout, /^tau_int \(rounds\) of size 16: energy [\d.]+, magnetization [\d.]+$/m);
  assert.match(full.stdout, /^importance weights of the 8->16 proposals \(self-normalised, L=16\): abs_m [\d.]+ ± \S+, m2 [\d.]+ ± \S+, energy -[\d.]+ ± \S+$/m);
  assert.match(full.stdout, /^Markov chain at L=16: energy -[\d.]+ ± [\d.]+, abs_m [\d.]+ ± [\d.]+, m2 [\d.]+ ± [\d.]+$/m);
  const stopped = irg(...args, "--out", f("b.h5"), "--stop-after", "120");
  assert.equal(stopped.status, 3, stopped.stderr);
  const resumed = irg("exact", "--resume", "--out", f("b.h5"), "--quiet");
  assert.equal(resumed.status, 0, resumed.stderr);
  const read = (p: string) => {
    const e = openEnsemble(p);
    try {
      return { origin: e.meta.params.origin, L: e.meta.L, obs: e.meta.observables, configs: Array.from(e.configs(0, e.configRows)), series: e.meta.observables.map((o) => Array.from(e.series(o))) };
    } finally {
      e.close();
    }
  };
  const a = read(f("a.h5"));
  assert.deepEqual(read(f("b.h5")), a);
  assert.equal(a.origin, "exact");
  assert.deepEqual(a.obs, ["energy", "magnetization", "accepted_L8", "logw_L8", "proposal_magnetization_L8", "proposal_energy_L8", "accepted_L16", "logw_L16", "proposal_magnetization_L16", "proposal_energy_L16"]);
  const bad = (expect: RegExp, ...extra: string[]) => {
    const r = irg(...extra);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, expect);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  };
  bad(/trained on majority-blocked pairs; exact sampling needs a decimation-compatible network: train it with irg train --rule decimation/, ...args.map((x) => (x === f("dec.json") ? f("maj.json") : x)), "--out", f("c.h5"));
  bad(/--to 12 must be --L 4 times a power of two/, ...args.map((x) => (x === "16" ? "12" : x)), "--out", f("c.h5"));
  bad(/--proposal must be network or heat-bath, got gibbs/, ...args, "--proposal", "gibbs", "--out", f("c.h5"));
  bad(/--network <net.json> is required/, "exact", "ising", "--L", "4", "--to", "8", "--beta", "0.44", "--out", f("c.h5"));
  bad(/generates ising configurations, not phi4/, "exact", "phi4", "--network", f("dec.json"), "--L", "4", "--to", "8", "--mu2", "-0.95", "--out", f("c.h5"));
});

test("phi^4 exact chain 2 → 4 (mixture head, decimation; network and heat-bath proposals): exchanges only at 4x4; the 2x2 moments equal 4-d quadrature and the 4x4 moments equal direct Monte Carlo, within 4 sigma", () => {
  const c = { mu2: -0.95, lambda: 0.7, kappa: 1 };
  const lat2 = lattice(2, 2), lat4 = lattice(2, 4);
  // Quadrature of the 2x2 system with the code's own action (doubled bonds of the 2-torus included).
  const n = 41, h = 8 / (n - 1), phi = new Float64Array(4);
  let Z = 0, P2 = 0, M2 = 0;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let d = 0; d < n; d++) for (let e = 0; e < n; e++) {
    phi[0] = -4 + a * h; phi[1] = -4 + b * h; phi[2] = -4 + d * h; phi[3] = -4 + e * h;
    const w = Math.exp(-phi4Action(lat2, phi, c));
    const m = (phi[0]! + phi[1]! + phi[2]! + phi[3]!) / 4;
    Z += w;
    P2 += w * (phi[0]! ** 2 + phi[1]! ** 2 + phi[2]! ** 2 + phi[3]! ** 2) / 4;
    M2 += w * m * m;
  }
  const exact2 = { p2: P2 / Z, m2: M2 / Z };
  // Direct Monte Carlo at 4x4 (local updates) as the reference of the fine size, and training pairs.
  const direct = makePhi4Sampler({ algorithm: "local", lat: lat4, couplings: c, rng: rngFor({ seed: 41, task: 1 }) });
  const f = new Float32Array(16), d4: { p2: number[]; m2: number[] } = { p2: [], m2: [] };
  const pairsC: number[] = [], pairsF: number[] = [];
  for (let t = 0; t < 1000; t++) direct.sweep();
  for (let t = 0; t < 60000; t++) {
    direct.sweep();
    direct.config(0, f);
    const m = f.reduce((x, y) => x + y, 0) / 16;
    d4.p2.push(f.reduce((x, y) => x + y * y, 0) / 16);
    d4.m2.push(m * m);
    if (t % 20 === 0) {
      const cc = new Float32Array(4);
      decimate(lat4, f, cc);
      pairsC.push(...cc);
      pairsF.push(...f);
    }
  }
  const net = defaultNetwork({ dim: 2, model: "phi4", head: { type: "gaussian-mixture", components: 2 }, hidden: 8, kernel: 3 }, 5);
  const adam = adamInit(net.params.length), rng = rngFor({ seed: 5, task: 3 }), B = 64, N = pairsC.length / 4;
  for (let step = 0; step < 400; step++) {
    const ci = new Float32Array(B * 4), fi = new Float32Array(B * 16);
    for (let b = 0; b < B; b++) {
      const k = rng.below(N);
      ci.set(pairsC.slice(4 * k, 4 * k + 4), 4 * b);
      fi.set(pairsF.slice(16 * k, 16 * k + 16), 16 * b);
    }
    trainStep(net.spec, net.params, adam, { lr: 0.01 }, { shape: [B, 1, 2, 2], data: ci }, fi);
  }
  for (const map of [decimatedMap(net), heatBathMap(net, (lat) => modelOf("phi4").siteConditional!(lat, c))]) {
  const levels: MultilevelLevel[] = [lat2, lat4].map((lat, k) => ({
    lat,
    chains: makePhi4Sampler({ algorithm: "local", lat, couplings: c, rng: rngFor({ seed: 43, task: k }) }),
    action: (cfg) => phi4Action(lat, cfg, c),
    sweeps: k === 0 ? 1 : 0,
  }));
  const ml = makeMultilevel(levels, [map], (lat, fine, out) => decimate(lat, fine as Float64Array, out as Float64Array), rngFor({ seed: 44, task: 1 }));
  ml.initialize(500);
  const s2 = new Float32Array(4), s4 = new Float32Array(16);
  const got = { p2c: [] as number[], m2c: [] as number[], p2f: [] as number[], m2f: [] as number[] };
  for (let t = 0; t < 60000; t++) {
    ml.round();
    ml.config(0, s2);
    ml.config(1, s4);
    const mc = s2.reduce((x, y) => x + y, 0) / 4, mf = s4.reduce((x, y) => x + y, 0) / 16;
    got.p2c.push(s2.reduce((x, y) => x + y * y, 0) / 4);
    got.m2c.push(mc * mc);
    got.p2f.push(s4.reduce((x, y) => x + y * y, 0) / 16);
    got.m2f.push(mf * mf);
  }
  const acc = ml.stats(1).accepted / ml.stats(1).proposed;
  console.log(`# phi^4 exchange acceptance 2 -> 4 (${map.proposal} proposal): ${acc.toFixed(3)}`);
  assert.ok(acc > 0.05, `acceptance ${acc}`);
  const close = (name: string, x: number[], want: number, wantErr = 0) => {
    const e = est(x);
    const sigma = Math.hypot(e.error, wantErr);
    assert.ok(Math.abs(e.value - want) < 4 * sigma, `${name}: ${e.value} ± ${e.error} against ${want} ± ${wantErr}`);
  };
  close("<phi^2> 2x2", got.p2c, exact2.p2);
  close("<m^2> 2x2", got.m2c, exact2.m2);
  const r4 = { p2: est(d4.p2), m2: est(d4.m2) };
  close("<phi^2> 4x4", got.p2f, r4.p2.value, r4.p2.error);
  close("<m^2> 4x4", got.m2f, r4.m2.value, r4.m2.error);
  }
});

test("phi^4 site conditional: ln Z(h) by Gauss-Hermite (and its table) equals a dense trapezoid rule to 1e-11, exp(ln p) integrates to one, and the rejection draws follow the density (chi-square)", () => {
  const c = { mu2: -0.9515, lambda: 0.7, kappa: 1 }, lat = lattice(2, 4), A = (c.mu2 + 4 * c.kappa) / 2;
  const sc = phi4SiteConditional(lat, c);
  const integrand = (f: number, h: number) => Math.exp(-A * f * f + c.kappa * h * f - (c.lambda / 4) * f ** 4);
  const trapezoid = (g: (f: number) => number) => {
    const n = 40000, a = -14, b = 14, dx = (b - a) / n;
    let t = 0;
    for (let k = 0; k <= n; k++) t += (k === 0 || k === n ? 0.5 : 1) * g(a + k * dx);
    return t * dx;
  };
  const quad = phi4LogZQuadrature(c, 2);
  for (let h = -30; h <= 30; h += 0.0173) assert.ok(Math.abs(sc.logZ(h) - quad(h).logZ) < 1e-11, `table at h = ${h}`);
  for (const h of [-12, -5.3, -1, 0, 0.37, 2, 6.1, 12]) {
    const want = Math.log(trapezoid((f) => integrand(f, h)));
    assert.ok(Math.abs(sc.logZ(h) - want) < 1e-11, `h = ${h}: ln Z ${sc.logZ(h)} vs trapezoid ${want}`);
  }
  // Draws at one site with fixed neighbours (h = 1.7): binned chi-square against the density.
  const cfg = new Float64Array(16).fill(0);
  const nb = [1, 3, 4, 12]; // the four neighbours of site 0 on the 4x4 torus
  [0.9, 0.3, 0.2, 0.3].forEach((v, k) => (cfg[nb[k]!] = v));
  const h = 1.7, rng = rngFor({ seed: 9, task: 2 }), N = 200000, edges = Array.from({ length: 41 }, (_, k) => -2 + (k * 6) / 40);
  const counts = new Float64Array(40);
  for (let t = 0; t < N; t++) {
    const lp = sc.draw(cfg, 0, rng), f = cfg[0]!;
    if (t < 20) assert.ok(Math.abs(lp - (Math.log(integrand(f, h)) - sc.logZ(h))) < 1e-12 && Math.abs(lp - sc.logProb(cfg, 0)) < 1e-12);
    const b = Math.floor(((f + 2) * 40) / 6);
    if (b >= 0 && b < 40) counts[b]!++;
  }
  let chi2 = 0, bins = 0;
  for (let b = 0; b < 40; b++) {
    const p = Math.exp(-sc.logZ(h)) * trapezoidOn(edges[b]!, edges[b + 1]!, (f) => integrand(f, h));
    if (N * p < 20) continue;
    chi2 += (counts[b]! - N * p) ** 2 / (N * p);
    bins++;
  }
  const pValue = gammaQ((bins - 1) / 2, chi2 / 2);
  assert.ok(bins > 20 && pValue > 1e-4, `chi2 = ${chi2.toFixed(1)} over ${bins} bins, p = ${pValue}`);
});

function trapezoidOn(a: number, b: number, g: (f: number) => number): number {
  const n = 400, dx = (b - a) / n;
  let t = 0;
  for (let k = 0; k <= n; k++) t += (k === 0 || k === n ? 0.5 : 1) * g(a + k * dx);
  return t * dx;
}

test("irg pipeline ising 8 -> 32 with the exact step: the exact chains' e and c equal Kaufman's at 16 and 32 within 4 sigma, they agree with direct Monte Carlo in both ranges within 4 sigma, the report has the exchanges and the side-by-side table; a bad --exact-from is one line", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-exact-pipeline-"));
  const r = irg("pipeline", "ising", "--L0", "8", "--target", "32", "--sweeps", "2000", "--direct-sweeps", "2000", "--epochs", "3", "--gen-limit", "200", "--exact", "4000", "--out-dir", dir, "--quiet");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^exact chain 4 -> 32 at beta = [\d.]+ \(4000 rounds\), exchange acceptance: 4->8 [\d.]+%, 8->16 [\d.]+%, 16->32 [\d.]+%$/m);
  for (const L of [16, 32]) {
    // Exact against direct Monte Carlo: every quantity of both ranges within 4 sigma (the verdict word
    // itself uses 3 sigma or 3 %, which small direct runs miss now and then).
    const v = new RegExp(`^exact validation L=${L} at [\\d.]+: long range \\w+ \\(largest (-?[\\d.]+) sigma.*; short range \\w+ \\(largest (-?[\\d.]+) sigma`, "m").exec(r.stdout);
    assert.ok(v && Math.abs(Number(v[1])) < 4 && Math.abs(Number(v[2])) < 4, `exact validation at L = ${L}: ${v?.[0]}`);
    for (const q of ["e", "c"]) {
      const m = new RegExp(`^exact value L=${L} ${q}: exact (-?[\\d.]+) ± ([\\d.]+) at ([\\d.]+), exact (-?[\\d.]+) \\((-?[\\d.]+) sigma\\)$`, "m").exec(r.stdout);
      assert.ok(m, `no exact ${q} line for L = ${L}:\n${r.stdout}`);
      // The reference is Kaufman's solution at the chain's own coupling, computed here independently.
      const k = kaufman(L, Number(m[3]));
      assert.ok(Math.abs(Number(m[4]) - (q === "e" ? k.e : k.c)) < 1e-5);
      assert.ok(Math.abs(Number(m[1]) - Number(m[4])) < 4 * Number(m[2]), `${q} at L = ${L}: ${m[1]} ± ${m[2]} vs Kaufman ${m[4]}`);
    }
  }
  assert.match(r.stdout, /^exact ensembles at [\d.]+: beta\/nu = /m);
  assert.match(r.stdout, /^cost per independent configuration at L=32: cluster MC [\d.]+ ms, exact chain \(mixed kernel\) [\d.]+ ms/m);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  for (const s of ["Exact inverse RG", "Exchange acceptance against the fine size", "approximate IRG (deviation)", "Kaufman"]) assert.ok(html.includes(s), s);
  const bad = irg("pipeline", "ising", "--L0", "8", "--target", "32", "--exact-from", "3", "--out-dir", dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--exact-from 3 must be L0 \(8\) divided by a power of two/);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
});

test("FSS exponents at an estimated coupling carry its error: half their change from c − δc to c + δc, in quadrature with the jackknife's", () => {
  // ⟨|m|⟩ = L^−(b0 + s(c − c0)) and χ = L^(g0 + t(c − c0)) exactly, the jackknife samples off by ±ε: the
  // slopes' coupling part is |s|·δc and |t|·δc.
  const c0 = -0.95, b0 = 0.125, g0 = 1.75, s = 20, t = -45, eps = 1e-3, groups = 8;
  const family = (L: number): { L: number; curves: Curves } => ({
    L,
    curves: {
      V: L * L, range: [c0 - 0.01, c0 + 0.01], groups, extras: [], mean: () => Number.NaN,
      value(o, c, g = -1) {
        const wiggle = g < 0 ? 1 : 1 + eps * (g % 2 === 0 ? 1 : -1) * Math.log(L);
        if (o === "abs_m") return L ** -(b0 + s * (c - c0)) * wiggle;
        if (o === "chi_full") return L ** (g0 + t * (c - c0)) * wiggle;
        return 0.61;
      },
    },
  });
  const fams = [64, 128, 256, 512].map(family), dc = 4.5e-4;
  const exact = scalingAt(fams, "exact coupling", c0);
  assert.ok(Math.abs(exact.betaOverNu.value - b0) < 1e-9 && Math.abs(exact.gammaOverNu.value - g0) < 1e-9);
  assert.deepEqual(exact.fromCoupling, { betaOverNu: 0, gammaOverNu: 0 });
  assert.equal(exact.betaOverNu.error, exact.statistical.betaOverNu);
  assert.ok(exact.statistical.betaOverNu > 0, "the jackknife sees the wiggle");
  const est = scalingAt(fams, "estimated", c0, dc);
  assert.ok(Math.abs(est.fromCoupling.betaOverNu - Math.abs(s) * dc) < 1e-9, `β/ν: ${est.fromCoupling.betaOverNu} from the coupling`);
  assert.ok(Math.abs(est.fromCoupling.gammaOverNu - Math.abs(t) * dc) < 1e-9, `γ/ν: ${est.fromCoupling.gammaOverNu} from the coupling`);
  assert.ok(Math.abs(est.betaOverNu.error - Math.hypot(exact.statistical.betaOverNu, s * dc)) < 1e-12);
  assert.ok(Math.abs(est.gammaOverNu.error - Math.hypot(exact.statistical.gammaOverNu, t * dc)) < 1e-12);
  assert.equal(est.couplingError, dc);
});
