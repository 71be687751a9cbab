// The registry drives these tests: every model's descriptor is exercised the same way (options,
// chains, configurations, block rule, network support, refinement), so a model added to the registry
// is checked without writing anything here but its minimal parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor } from "../src/lattice/rng.js";
import { headChannels } from "../src/nn/heads.js";
import { MODELS, modelOf, modelOfNetwork } from "../src/models/registry.js";
import { makeChains, SIMULATION_SCHEMA, simulateOptions } from "../src/jobs/simulation.js";

/** The parameters each model needs besides the common ones (the only per-model data in this file). */
const MINIMAL: Record<string, Record<string, unknown>> = {
  ising: { beta: 0.4 },
  phi4: { mu2: -0.9 },
  ea: { beta: 0.9, temps: 3, samples: 2, workers: 1 },
  potts: { q: 3, beta: 1 },
};

test("every registered model has minimal test parameters here, a unique name and a unique network name", () => {
  assert.deepEqual(MODELS.map((m) => m.name).sort(), Object.keys(MINIMAL).sort());
  assert.equal(new Set(MODELS.map((m) => m.name)).size, MODELS.length);
  const nets = MODELS.filter((m) => m.network).map((m) => m.network!.name);
  assert.equal(new Set(nets).size, nets.length);
  for (const m of MODELS) if (m.network) assert.equal(modelOfNetwork(m.network.name), m);
  assert.throws(() => modelOf("xy"), /unknown model "xy"; choose one of ising, phi4, ea, potts/);
});

for (const d of MODELS) {
  test(`${d.name}: options, chains, configurations, block rule, observables, network head and refinement work together`, async () => {
    const o = simulateOptions(d.name, { ...MINIMAL[d.name], L: 8, sweeps: 10, therm: 2, out: join(tmpdir(), `irg-models-${d.name}.h5`) });
    assert.ok(d.dims.includes(o.dim) && d.algorithms.includes(o.algorithm));
    const params = Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "number" || typeof v === "string")) as Record<string, string | number>;
    const chains = await makeChains(d.name, o);
    try {
      for (let k = 0; k < 3; k++) chains.sweep();
      chains.endThermalization();
      const out = chains.observables.map(() => new Float64Array(chains.chains));
      chains.measure(out);
      assert.ok(out.every((v) => v.every(Number.isFinite)), "measurements are finite");
      const lat = lattice(o.dim, o.L);
      const cfg = d.configDtype === "int8" ? new Int8Array(lat.V) : new Float32Array(lat.V);
      chains.config(0, cfg);
      assert.equal(d.checkConfig?.(cfg, params), undefined);
      // The observables of a configuration alone, and the block rule (its output belongs to the model too).
      if (d.observe) {
        const vals = new Float64Array(d.configObservables!.length);
        d.observe(lat, params)(cfg, vals);
        assert.ok(vals.every(Number.isFinite));
      }
      if (d.orderParameter) assert.ok(Number.isFinite(d.orderParameter(cfg, params)));
      if (d.blockRule) {
        const coarse = d.configDtype === "int8" ? new Int8Array(lat.V >> o.dim) : new Float32Array(lat.V >> o.dim);
        d.blockRule.apply(lat, cfg, coarse, rngFor({ seed: 1 }), params);
        assert.equal(d.checkConfig?.(coarse, params), undefined, "the blocked configuration is one of the model's");
      }
      if (d.network) {
        const head = d.network.head(params, {});
        assert.ok(headChannels(head) >= 1);
        const q = d.network.inputStates?.(params);
        if (q !== undefined) assert.ok(q >= 2 && head.type === "categorical" && head.classes === q);
      }
      if (d.refine) {
        d.refine(lat, params, 2)(cfg, rngFor({ seed: 2 }));
        assert.equal(d.checkConfig?.(cfg, params), undefined, "refinement keeps the configuration valid");
      }
      if (d.actionTerms) for (const name of Object.keys(d.actionTerms(params, 1, o.dim))) assert.ok(d.configObservables!.includes(name), `action term ${name}`);
      assert.ok(d.label(params).length > 0);
    } finally {
      await chains.dispose?.();
    }
  });
}

test("irg models --json lists every registered model with what it supports", () => {
  const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const r = spawnSync(process.execPath, [main, "models", "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { name: string; pipeline: { algorithm: string } | null; network: { name: string } | null; exact: { proposals: string[] } | null }[];
  assert.deepEqual(list.map((m) => m.name), MODELS.map((m) => m.name));
  assert.equal(list.find((m) => m.name === "potts")!.pipeline!.algorithm, "sw");
  assert.equal(list.find((m) => m.name === "ea")!.network!.name, "overlap");
  // Exact inverse RG: every model with an action; the heat-bath proposal where the site conditional is exact.
  assert.deepEqual(Object.fromEntries(list.map((m) => [m.name, m.exact?.proposals ?? null])), Object.fromEntries(MODELS.map((m) => [m.name, m.action ? (m.siteConditional ? ["heat-bath", "network"] : ["network"]) : null])));
  assert.deepEqual(list.find((m) => m.name === "ising")!.exact!.proposals, ["heat-bath", "network"]);
  assert.equal(list.find((m) => m.name === "ea")!.exact, null);
});

test("the simulation parameters are one zod discriminated union on the model: each member takes its model's parameters with their defaults and refuses another model's", () => {
  for (const d of MODELS) {
    const ok = SIMULATION_SCHEMA.safeParse({ model: d.name, ...MINIMAL[d.name], L: 8, out: "x.h5" });
    assert.ok(ok.success, `${d.name}: ${ok.success ? "" : ok.error.message}`);
    const data = ok.data as Record<string, unknown>;
    assert.equal(data.sweeps, 1000, "the run's defaults are applied");
    for (const [k, spec] of Object.entries(d.params)) if (spec.default !== undefined) assert.deepEqual(data[k], spec.default, `${d.name}: default of ${k}`);
  }
  assert.equal(SIMULATION_SCHEMA.safeParse({ model: "potts", q: 3, beta: 1, mu2: -0.9, L: 8 }).success, false, "mu2 is phi4's");
  assert.equal(SIMULATION_SCHEMA.safeParse({ model: "nope", L: 8 }).success, false, "an unknown model");
  assert.equal(SIMULATION_SCHEMA.safeParse({ model: "ising", beta: -1, L: 8 }).success, false, "the member's own schemas apply");
});
