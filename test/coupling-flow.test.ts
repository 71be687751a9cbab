// The coupling map by matching, on synthetic curves with a known flow T − T* = 2^{1/ν} (T′ − T*):
// the map, its fixed point and 1/ν come back, with errors that cover the noise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { couplingFlow } from "../src/analysis/coupling-flow.js";
import { rngFor } from "../src/lattice/rng.js";

const Tstar = 1.23, inverseNu = 0.45;
const f = (T: number): number => Math.exp(-2 * T); // the small system's observable
const blockedAt = (Tp: number): number => f(Tstar + (Tp - Tstar) * 2 ** inverseNu); // the large one's, blocked
const ladder = [0.96, 1.0, 1.04, 1.08, 1.12, 1.18, 1.25, 1.35, 1.45, 1.6];

test("coupling map: exact curves give T′, T* and 1/ν of the synthetic flow", () => {
  const r = couplingFlow(ladder, ladder.map((T) => ({ value: f(T), error: 1e-6 })), ladder.map((T) => ({ value: blockedAt(T), error: 1e-6 })));
  ladder.forEach((T, k) => {
    const want = Tstar + (T - Tstar) / 2 ** inverseNu;
    if (want >= ladder[0]! && want <= ladder.at(-1)!) assert.ok(Math.abs(r.Tp[k]! - want) < 0.01, `T' at ${T}: ${r.Tp[k]} against ${want}`);
    else assert.ok(Number.isNaN(r.Tp[k]!), `no T' outside the ladder at ${T}`);
  });
  assert.ok(Math.abs(r.Tstar!.value - Tstar) < 0.005, `T* ${r.Tstar!.value}`);
  assert.ok(Math.abs(r.inverseNu!.value - inverseNu) < 0.05, `1/nu ${r.inverseNu!.value}`);
});

test("coupling map: with 1 % noise T* and 1/ν stay within 3 of their own error bars in 19 of 20 repetitions, and a flow with another 1/ν is told apart", () => {
  const rng = rngFor({ seed: 17, task: 1 });
  let inside = 0;
  const nus: number[] = [];
  for (let rep = 0; rep < 20; rep++) {
    const noisy = (v: number) => ({ value: v * (1 + 0.01 * rng.normal()), error: 0.01 * v });
    const r = couplingFlow(ladder, ladder.map((T) => noisy(f(T))), ladder.map((T) => noisy(blockedAt(T))));
    if (Math.abs(r.Tstar!.value - Tstar) < 3 * r.Tstar!.error && Math.abs(r.inverseNu!.value - inverseNu) < 3 * r.inverseNu!.error) inside++;
    nus.push(r.inverseNu!.value);
  }
  assert.ok(inside >= 19, `${inside} of 20 within 3 sigma`);
  const mean = nus.reduce((a, b) => a + b, 0) / nus.length;
  assert.ok(Math.abs(mean - inverseNu) < 0.1 && Math.abs(mean - 1) > 0.3, `mean 1/nu ${mean}`);
});
