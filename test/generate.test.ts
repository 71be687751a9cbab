// Iterated generation and validation plumbing with an exactly known generator (noisy copy): sizes,
// inherited reweighting variables, exact log-probabilities, reproducibility, and a validation that
// passes for two independent direct ensembles and fails for a wrong generator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { h5Ready } from "../src/io/h5.js";
import { openEnsemble } from "../src/io/ensemble.js";
import { noisyCopy } from "../src/irg/generator.js";
import { type Rng } from "../src/lattice/rng.js";
import { generate, generatedPath } from "../src/jobs/generate.js";
import { runSimulation, simulateOptions } from "../src/jobs/simulation.js";
import { twoPoint, validate } from "../src/jobs/validate.js";

const dir = mkdtempSync(join(tmpdir(), "irg-gen-"));

async function direct(L: number, seed: number, sweeps = 3000): Promise<string> {
  const out = join(dir, `direct-${L}-${seed}.h5`);
  await runSimulation("phi4", simulateOptions("phi4", { L, mu2: -0.9515, sweeps, therm: 300, saveEvery: 5, seed, out }), { checkpointEvery: 60 }, false, true);
  return out;
}

test("generation: one ensemble per size, parent weights inherited, exact log q, reproducible", async () => {
  await h5Ready();
  const small = await direct(8, 1, 500);
  const map = noisyCopy(2, 0.3);
  const res = await generate(map, { from: small, prefix: join(dir, "gen"), steps: 2, seed: 4 });
  assert.deepEqual(res.files.map((f) => f.L), [16, 32]);
  const s = openEnsemble(small);
  const g16 = openEnsemble(generatedPath(join(dir, "gen"), 16));
  const g32 = openEnsemble(generatedPath(join(dir, "gen"), 32));
  try {
    assert.equal(g16.configRows, s.configRows);
    assert.equal(g32.meta.L, 32);
    assert.equal(g32.meta.params.mu2, -0.9515);
    const phi2 = s.series("phi2"), px = g32.series("parent_x");
    for (let row = 0; row < s.configRows; row++) assert.equal(px[row], phi2[row * 5]! / 2);
    // ln q of the two steps: Σ over the 16² and 32² sites of the Gaussian log-density of the noise.
    const c8 = s.configs(0, 1), c16 = g16.configs(0, 1), c32 = g32.configs(0, 1);
    let lq = 0;
    const add = (fine: ArrayLike<number>, coarse: ArrayLike<number>, L: number): void => {
      for (let i = 0; i < 4 * L * L; i++) {
        const X = (i % (2 * L)) >> 1, Y = Math.floor(i / (2 * L)) >> 1;
        const eps = fine[i]! - coarse[X + L * Y]!;
        lq += -0.5 * Math.log(2 * Math.PI * 0.09) - (eps * eps) / (2 * 0.09);
      }
    };
    add(c16, c8, 8);
    add(c32, c16, 16);
    assert.ok(Math.abs(g32.series("log_q")[0]! - lq) < 1e-3 * Math.abs(lq), `${g32.series("log_q")[0]} vs ${lq}`);
  } finally {
    s.close();
    g16.close();
    g32.close();
  }
  const again = await generate(map, { from: small, prefix: join(dir, "again"), steps: 2, seed: 4 });
  const a = openEnsemble(again.files[1]!.path), b = openEnsemble(res.files[1]!.path);
  try {
    assert.deepEqual(Array.from(a.configs(0, a.configRows)), Array.from(b.configs(0, b.configRows)));
  } finally {
    a.close();
    b.close();
  }
});

test("G(r) of a hand-made configuration", () => {
  // 4×4 stripes along y: φ = +1 on even x, −1 on odd x.
  const cfg = Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const g = twoPoint(cfg, 4, 2, [1, 2]);
  // r = 1: x-bonds −1, y-bonds +1 → 0; r = 2: all +1.
  assert.deepEqual(Array.from(g), [0, 1]);
});

test("validation: two independent direct ensembles agree, a wrongly normalised generator is rejected", async () => {
  await h5Ready();
  const a = await direct(16, 11), b = await direct(16, 12);
  const ok = validate([a], [b], { groups: 16 });
  const worst = Math.max(...ok.rows.map((r) => Math.abs(r.z)));
  assert.ok(worst < 4.5, `independent ensembles differ by ${worst.toFixed(2)} sigma`);
  // The action density of the validation, at the run's own coupling, is the mean of the action the
  // sampler recorded for the stored configurations.
  const all = validate([a], [a], { groups: 16, at: -0.9515 }).rows.find((r) => r.quantity === "energy" && r.coupling === -0.9515)!;
  const ra = openEnsemble(a);
  try {
    const action = ra.series("action");
    let sum = 0, n = 0;
    for (let k = 0; k < action.length; k += 5, n++) sum += action[k]! / 256;
    assert.ok(Math.abs(all.direct.value - sum / n) < 1e-9, `action density ${all.direct.value} vs recorded ${sum / n}`);
  } finally {
    ra.close();
  }
  const small = await direct(8, 13, 3000);
  // A generator with a 30% too large field normalisation must be rejected on |m|.
  const base = noisyCopy(2, 0.3);
  const wrong = { ...base, sample: (c: ArrayLike<number>, L: number, r: Rng, out: Float32Array | Int8Array) => base.sample(Array.from(c, (v) => 1.3 * v), L, r, out) };
  const gen = await generate(wrong, { from: small, prefix: join(dir, "bad"), steps: 1, seed: 5 });
  const bad = validate([gen.files[0]!.path], [b], { groups: 16 });
  const mid = bad.rows.filter((r) => r.quantity === "abs_m").sort((p, q) => Math.abs(p.coupling + 0.9515) - Math.abs(q.coupling + 0.9515))[0]!;
  assert.ok(Math.abs(mid.z) > 5, `a wrongly normalised generator must fail on <|m|> (z = ${mid.z})`);
});

test("refinement: sweeps at --refine-at (default the input's coupling), recorded in the file", async () => {
  await h5Ready();
  const small = await direct(8, 21, 400);
  const map = noisyCopy(2, 0.3);
  const read = (prefix: string): { cfg: number[]; at: unknown; sweeps: unknown } => {
    const r = openEnsemble(generatedPath(prefix, 16));
    try {
      return { cfg: Array.from(r.configs(0, r.configRows)), at: r.meta.params.refine_coupling, sweeps: r.meta.params.refine_sweeps };
    } finally {
      r.close();
    }
  };
  const p = (name: string): string => join(dir, name);
  await generate(map, { from: small, prefix: p("r0"), steps: 1, seed: 2 });
  await generate(map, { from: small, prefix: p("rd"), steps: 1, seed: 2, refine: 3 });
  await generate(map, { from: small, prefix: p("rs"), steps: 1, seed: 2, refine: 3, refineAt: -0.9515 });
  await generate(map, { from: small, prefix: p("ro"), steps: 1, seed: 2, refine: 3, refineAt: -0.5 });
  const [r0, rd, rs, ro] = [read(p("r0")), read(p("rd")), read(p("rs")), read(p("ro"))];
  assert.notDeepEqual(rd.cfg, r0.cfg, "refinement must change the configurations");
  assert.deepEqual(rs.cfg, rd.cfg, "--refine-at equal to the input's coupling is the default");
  assert.notDeepEqual(ro.cfg, rd.cfg, "another refinement coupling gives other configurations");
  assert.equal(rd.at, -0.9515);
  assert.equal(ro.at, -0.5);
  assert.equal(rd.sweeps, 3);
  // Local sweeps at μ² = −0.5 (disordered side) shrink the field: ⟨φ²⟩ drops.
  const phi2 = (c: number[]): number => c.reduce((a, v) => a + v * v, 0) / c.length;
  assert.ok(phi2(ro.cfg) < phi2(rd.cfg), `phi2 ${phi2(ro.cfg)} vs ${phi2(rd.cfg)}`);
});
