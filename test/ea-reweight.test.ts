// Reweighting spin-glass ensembles in β (single histogram in E(s) + E(t)): exact against enumeration of
// 2×2×2 samples, and, through files, blocked and generated fields reweighted from one ladder temperature
// to its neighbour agree with the blocked and generated fields of the neighbour itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lattice } from "../src/lattice/geometry.js";
import { eaBonds, eaCouplings, overlapField, overlapQ } from "../src/models/ea.js";
import { eaBoltzmann, eaEnumerate, exactMoments } from "../src/models/ea-exact.js";
import { makeEaMultispinSampler } from "../src/mc/ea-multispin-sampler.js";
import { sampleMeans, spinGlassEstimates } from "../src/analysis/spin-glass.js";
import { jackknife } from "../src/analysis/stats.js";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { correlationEstimates, overlapCorrelationRows, spinGlassOfFile } from "../src/jobs/spin-glass.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irg-ea-reweight-"));

function irg(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, IRG_TEST: "1" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("reweighting q^2 of 64 samples of 2x2x2 from beta = 0.8 to 0.7 and 0.9 equals the exact disorder average", () => {
  const lat = lattice(3, 2);
  const betas = Float64Array.of(0.5, 0.8, 1.2);
  const S = 64, N = 6000;
  const smp = makeEaMultispinSampler({ lat, betas, target: 1, samples: S, seed: 7 });
  for (let n = 0; n < 300; n++) smp.sweep();
  const q = new Float64Array(S * N), x = new Float64Array(S * N), sample = new Float64Array(S * N);
  const rho = new Int8Array(lat.V);
  for (let n = 0; n < N; n++) {
    smp.sweep();
    for (let c = 0; c < S; c++) {
      const pt = smp.tempering(c);
      overlapField(smp.copySpins(c, pt.at[1]!), smp.copySpins(c, pt.at[4]!), rho);
      q[n * S + c] = overlapQ(rho);
      x[n * S + c] = pt.energy[pt.at[1]!]! + pt.energy[pt.at[4]!]!;
      sample[n * S + c] = c;
    }
  }
  for (const beta1 of [0.7, 0.9]) {
    const lw = Float64Array.from(x, (e) => -(beta1 - 0.8) * e);
    const rw = sampleMeans(q, sample, (v) => v * v, lw);
    const exact = new Float64Array(S), at08 = new Float64Array(S);
    for (let c = 0; c < S; c++) {
      const E = eaEnumerate(eaBonds(lat, eaCouplings(lat, 7, c)));
      exact[c] = exactMoments(E, eaBoltzmann(E, beta1), lat.V).q2;
      at08[c] = exactMoments(E, eaBoltzmann(E, 0.8), lat.V).q2;
    }
    // Paired over samples (the disorder cancels): reweighted − exact within 4 errors; exact(0.8) − exact(β1) far outside.
    const d = jackknife([Float64Array.from(rw, (v, c) => v - exact[c]!)], (m) => m[0]!, { binSize: 1 });
    const shift = at08.reduce((a, v, c) => a + v - exact[c]!, 0) / S;
    assert.ok(Math.abs(d.value) < 4 * d.error, `beta ${beta1}: reweighted − exact = ${d.value} ± ${d.error}`);
    assert.ok(Math.abs(shift) > 8 * d.error, `beta ${beta1}: the shift ${shift} from beta 0.8 is not resolved at error ${d.error}`);
    // The disorder average through spinGlassEstimates uses the same weights.
    const est = spinGlassEstimates({ q, sample, V: lat.V, L: 2, logWeight: lw }).estimates.q2!;
    assert.ok(Math.abs(est.value - rw.reduce((a, v) => a + v, 0) / S) < 1e-12);
  }
});

test("blocked and generated fields of one ladder temperature, reweighted to the next, agree with that temperature's own", async () => {
  await h5Ready();
  const main0 = join(dir, "rw.h5");
  // T = 1.25 (β 0.8) and T = 1.2 (β 0.8333): neighbours with overlapping energy histograms at L = 4.
  let r = irg("simulate", "ea", "--L", "4", "--temperatures", "1.6,1.25,1.2", "--beta", "0.8", "--store-betas", "0.8333333333333334", "--samples", "128",
    "--sweeps", "3000", "--therm", "1000", "--every", "2", "--save-every", "6", "--seed", "5", "--quiet", "--out", main0);
  assert.equal(r.code, 0, r.stderr);
  const other = join(dir, "rw_beta0.833333.h5");
  const b1 = 1 / 1.2;
  const compare = (a: string, b: string, label: string): void => {
    const ra = openEnsemble(a), rb = openEnsemble(b);
    try {
      const x = spinGlassOfFile(ra, a, b1), y = spinGlassOfFile(rb, b);
      assert.ok(x.overlap! > 0.3, `${label}: histogram overlap ${x.overlap}`);
      for (const k of ["q2", "g"]) {
        const d = x.estimates[k]!.value - y.estimates[k]!.value, e = Math.hypot(x.estimates[k]!.error, y.estimates[k]!.error);
        assert.ok(Math.abs(d) < 4 * e, `${label} ${k}: reweighted ${x.estimates[k]!.value} vs ${y.estimates[k]!.value} ± ${e}`);
      }
      // The overlap correlation G(r) of the stored fields, reweighted the same way (each field weighted by
      // the energy of its own measurement): agrees with the neighbour's.
      const ca = overlapCorrelationRows(a, [1, 2]), cb = overlapCorrelationRows(b, [1, 2]);
      const gx = correlationEstimates(ca!, b1)!, gy = correlationEstimates(cb!)!;
      for (const k of ["G1", "G2"]) {
        const d = gx[k]!.value - gy[k]!.value, e = Math.hypot(gx[k]!.error, gy[k]!.error);
        assert.ok(Math.abs(d) <= 4 * e, `${label} ${k}: reweighted ${gx[k]!.value} vs ${gy[k]!.value} ± ${e}`);
      }
      // Each field is matched with its own measurement: its overlap q equals the q series at its row.
      const q = ra.series("q");
      for (const k of [0, 1, 127, 128, ca!.row.length - 1]) {
        const f = ra.configs(k, k + 1);
        assert.equal(Array.from(f).reduce((t, v) => t + v, 0) / f.length, q[ca!.row[k]!], `${label}: field ${k} and series row ${ca!.row[k]}`);
      }
      // Without reweighting the difference is visible (the test has the power to see the change of β).
      const plain = spinGlassOfFile(ra, a);
      const dq = plain.estimates.q2!.value - y.estimates.q2!.value;
      assert.ok(Math.abs(dq) > 1.5 * Math.abs(x.estimates.q2!.value - y.estimates.q2!.value), `${label}: reweighting did not move [<q^2>] towards the target`);
    } finally {
      ra.close();
      rb.close();
    }
  };
  compare(main0, other, "direct");
  const m = irg("measure", main0, "--beta", String(b1), "--json");
  assert.equal(m.code, 0, m.stderr);
  const j = JSON.parse(m.stdout);
  assert.ok(Math.abs(j.beta - b1) < 1e-12 && j.reweighted_from === 0.8 && j.histogram_overlap > 0.3 && j.histogram_overlap <= 1);
  const far = irg("measure", main0, "--beta", "0.2");
  assert.match(far.stdout, /histogram overlap 0\.0\d\d — WEAK/);
  for (const [f, out] of [[main0, "b0.h5"], [other, "b1.h5"]] as const) {
    r = irg("block", f, "--rule", "overlap", "--out", join(dir, out));
    assert.equal(r.code, 0, r.stderr);
  }
  compare(join(dir, "b0.h5"), join(dir, "b1.h5"), "blocked");
  // One network for both: the map parent → child is the same, so reweighting the parents' weights is exact.
  const net = join(dir, "net.json");
  r = irg("train", "--model", "overlap", "--data", main0, "--out", net, "--epochs", "1", "--hidden", "4", "--kernel", "3", "--workers", "0", "--quiet");
  assert.equal(r.code, 0, r.stderr);
  for (const [f, out] of [[main0, "g0"], [other, "g1"]] as const) {
    r = irg("generate", "--net", net, "--from", f, "--steps", "1", "--seed", "3", "--limit", "6400", "--out", join(dir, out), "--quiet");
    assert.equal(r.code, 0, r.stderr);
  }
  compare(join(dir, "g0_L8.h5"), join(dir, "g1_L8.h5"), "generated");
});
