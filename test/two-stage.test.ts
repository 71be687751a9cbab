// The two-stage generator (irg train --stages 2): the first stage draws every site given the coarse
// configuration and keeps the even ones, the second redraws the odd sites given the coarse
// configuration and the even sites. Its ln q sums to one over all fine configurations and equals the
// frequency of its draws (exhaustive on 2×2 from 1×1, Bernoulli and categorical heads); trained, the
// second stage predicts the odd sites better than the first (lower NLL per site), and the whole chain
// train → generate works from the command line, with one-line refusals where two stages do not apply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rngFor } from "../src/lattice/rng.js";
import { defaultNetwork, type Network, networkLogProb, networkMap, stage2Network } from "../src/irg/network.js";
import { initParams } from "../src/nn/model.js";
import { chiSquareTest } from "../src/analysis/chisq.js";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { loadNetwork } from "../src/io/network.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const irg = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
const dir = mkdtempSync(join(tmpdir(), "irg-two-stage-"));

/** An untrained two-stage network with weights scaled up, so that both stages are far from uniform. */
function roughTwoStage(head: "bernoulli" | "categorical"): Network {
  const net = defaultNetwork({ dim: 2, model: head === "bernoulli" ? "ising" : "potts", head: head === "bernoulli" ? { type: "bernoulli" } : { type: "categorical", classes: 3 }, inputStates: head === "bernoulli" ? undefined : 3, hidden: 5, kernel: 3 }, 7);
  const s2 = stage2Network(net, 6, 8);
  // A trained second stage corrects the first; here every weight is random (its output layer included,
  // which training starts at zero).
  const rng = rngFor({ seed: 12 });
  for (let i = 0; i < s2.params.length; i++) s2.params[i] = (rng.double() - 0.5) * 2;
  for (const p of [net.params, s2.params]) for (let i = 0; i < p.length; i++) p[i]! *= 1.5;
  net.stage2 = { spec: s2.spec, params: s2.params, training: {} };
  return net;
}

for (const head of ["bernoulli", "categorical"] as const) {
  test(`two stages (${head}): ln q sums to one over every 2x2 configuration and equals the frequency of the draws (chi-square)`, () => {
    const net = roughTwoStage(head);
    const states = head === "bernoulli" ? [1, -1] : [0, 1, 2];
    const coarse = head === "bernoulli" ? Int8Array.of(-1) : Int8Array.of(2);
    const n = states.length ** 4, p = new Float64Array(n), cfg = new Int8Array(4);
    const decode = (k: number): Int8Array => {
      for (let s = 0, r = k; s < 4; s++, r = Math.floor(r / states.length)) cfg[s] = states[r % states.length]!;
      return cfg;
    };
    let total = 0;
    for (let k = 0; k < n; k++) total += p[k] = Math.exp(networkLogProb(net, coarse, 1, decode(k)));
    assert.ok(Math.abs(total - 1) < 1e-6, `sum of q over all configurations ${total}`);
    const map = networkMap(net), rng = rngFor({ seed: 9 }), out = new Int8Array(4), counts = new Float64Array(n);
    const N = 40000;
    for (let t = 0; t < N; t++) {
      const lq = map.sample(coarse, 1, rng, out);
      let k = 0;
      for (let s = 3; s >= 0; s--) k = k * states.length + states.indexOf(out[s]!);
      if (t < 50) assert.ok(Math.abs(lq - Math.log(p[k]!)) < 1e-6, `ln q of draw ${t}: ${lq} vs ${Math.log(p[k]!)}`);
      counts[k]!++;
    }
    const fit = chiSquareTest(counts, p, 10);
    assert.ok(fit.dof >= 5, `only ${fit.dof + 1} bins`);
    assert.ok(fit.pValue > 1e-3, `chi2 ${fit.chi2.toFixed(1)} over ${fit.dof} degrees of freedom, p = ${fit.pValue}`);
    // The test can fail: a draw from the first stage alone (odd sites not redrawn) is rejected.
    const firstOnly = networkMap({ ...net, stage2: undefined });
    const c2 = new Float64Array(n);
    for (let t = 0; t < N; t++) {
      firstOnly.sample(coarse, 1, rng, out);
      let k = 0;
      for (let s = 3; s >= 0; s--) k = k * states.length + states.indexOf(out[s]!);
      c2[k]!++;
    }
    let chiBad = 0;
    for (let k = 0; k < n; k++) if (N * p[k]! >= 5) chiBad += (c2[k]! - N * p[k]!) ** 2 / (N * p[k]!);
    assert.ok(chiBad > 10 * n, `the first stage alone is not distinguished (chi2 ${chiBad.toFixed(0)})`);
  });
}

test("a fresh second stage (output layer zero) draws the odd sites from the first stage's distribution: ln q equals the first stage's", () => {
  const net = defaultNetwork({ dim: 2, model: "ising", head: { type: "bernoulli" }, hidden: 5, kernel: 3 }, 7);
  const s2 = stage2Network(net, 6, 8);
  assert.ok(s2.params.some((v) => v !== 0) && initParams(s2.spec, rngFor({ seed: 1 })).some((v) => v !== 0));
  const two: Network = { ...net, stage2: { spec: s2.spec, params: s2.params, training: {} } };
  const coarse = Int8Array.from({ length: 16 }, (_, i) => (i * 7) % 3 === 0 ? 1 : -1), fine = Int8Array.from({ length: 64 }, (_, i) => (i * 5) % 7 < 3 ? 1 : -1);
  assert.ok(Math.abs(networkLogProb(two, coarse, 4, fine) - networkLogProb(net, coarse, 4, fine)) < 1e-9);
});

test("irg train --stages 2 on 2D Ising at beta_c: the second stage's NLL per odd site is below the first's per site; generate uses both stages; export and decimation refuse it", async () => {
  await h5Ready();
  const data = join(dir, "ising.h5"), net = join(dir, "net.json");
  let r = irg("simulate", "ising", "--L", "16", "--beta", "0.4406868", "--algorithm", "wolff", "--sweeps", "600", "--therm", "100", "--save-every", "1", "--seed", "2", "--quiet", "--out", data);
  assert.equal(r.status, 0, r.stderr);
  r = irg("train", "--data", data, "--model", "ising", "--out", net, "--epochs", "4", "--hidden", "8", "--kernel", "3", "--stages", "2", "--seed", "3", "--workers", "0", "--quiet");
  assert.equal(r.status, 0, r.stderr);
  const m = /validation NLL ([\d.]+) per site; second stage \d+ epochs \(best \d+\), validation NLL ([\d.]+) per odd site/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[2]) < Number(m[1]) - 0.02, `second stage ${m[2]} is not below the first ${m[1]}`);
  const loaded = loadNetwork(net);
  assert.ok(loaded.stage2 && loaded.training.stages === 2);
  r = irg("generate", "--net", net, "--from", data, "--steps", "1", "--limit", "20", "--seed", "4", "--out", join(dir, "g"), "--quiet");
  assert.equal(r.status, 0, r.stderr);
  const g = openEnsemble(join(dir, "g_L32.h5"));
  try {
    assert.equal(g.meta.params.network_stages, 2);
    assert.equal(g.configRows, 20);
  } finally {
    g.close();
  }
  const ex = irg("export", "--net", net, "--out", join(dir, "net.onnx"));
  assert.equal(ex.status, 2);
  assert.match(ex.stderr, /two-stage network .* train with --stages 1 to export/);
  assert.ok(!existsSync(join(dir, "net.onnx")));
  const dec = irg("train", "--data", data, "--model", "ising", "--out", join(dir, "d.json"), "--rule", "decimation", "--stages", "2", "--quiet");
  assert.equal(dec.status, 2);
  assert.match(dec.stderr, /--stages 2 does not go with --rule decimation/);
  const bad = irg("train", "--data", data, "--model", "ising", "--out", join(dir, "b.json"), "--stages", "3", "--quiet");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--stages/);
  assert.ok(readFileSync(net, "utf8").includes('"stage2"'));
});
