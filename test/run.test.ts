// The run loop: interrupted and resumed runs reproduce an uninterrupted run bit-for-bit, for every
// sampler; random streams depend only on (seed, task, replica), not on execution order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lattice } from "../src/lattice/geometry.js";
import { rngFor, streamState, Rng } from "../src/lattice/rng.js";
import { ISING_ALGORITHMS, makeIsingSampler, type IsingAlgorithm } from "../src/mc/ising-samplers.js";
import { runChains, type Checkpoint, type RunPlan, type RunSink } from "../src/mc/run.js";

interface Record_ {
  values: number[][];
  configs: number[][];
  last?: Checkpoint;
}

function recorder(rec: Record_): RunSink<Int8Array> {
  return {
    measurement(values, configs) {
      rec.values.push(values.flatMap((v) => Array.from(v)));
      if (configs) rec.configs.push(configs.flatMap((c) => Array.from(c)));
    },
    checkpoint(cp) {
      rec.last = structuredClone(cp);
    },
  };
}

const plan: RunPlan = { therm: 20, sweeps: 60, every: 3, saveEvery: 2 };

function sampler(algorithm: IsingAlgorithm, seed: number) {
  return makeIsingSampler({ algorithm, lat: lattice(2, 8), beta: 0.44, rng: rngFor({ seed }) });
}

for (const algorithm of ISING_ALGORITHMS) {
  test(`${algorithm}: stop and resume (three sessions) reproduces one uninterrupted run bit-for-bit`, async () => {
    const full: Record_ = { values: [], configs: [] };
    const r = await runChains(sampler(algorithm, 5), plan, recorder(full), () => new Int8Array(64));
    assert.ok(r.completed);
    assert.equal(full.values.length, 20);
    assert.equal(full.configs.length, 10);

    const parts: Record_ = { values: [], configs: [] };
    let cp: Checkpoint | undefined;
    // Stops inside thermalisation (7), across its end (25) and in the measurement phase.
    for (const stopAfter of [7, 25, 1000]) {
      // Later sessions start from a sampler with another seed: everything must come from the checkpoint.
      const s = sampler(algorithm, cp ? 999 : 5);
      const res = await runChains(s, plan, recorder(parts), () => new Int8Array(64), { stopAfter }, cp);
      cp = parts.last;
      if (stopAfter === 1000) assert.ok(res.completed);
      else assert.ok(!res.completed);
    }
    assert.deepEqual(parts.values, full.values);
    assert.deepEqual(parts.configs, full.configs);
    assert.deepEqual(Array.from(parts.last!.sampler.rng), Array.from(full.last!.sampler.rng));
  });
}

test("random streams: keyed, reproducible and order-independent", () => {
  const draw = (task: number, replica: number): number[] => {
    const g = rngFor({ seed: 42, task, replica });
    return Array.from({ length: 4 }, () => g.u32());
  };
  // Same key, same numbers; neighbouring keys differ in every word.
  assert.deepEqual(draw(3, 1), draw(3, 1));
  const keys = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]] as const;
  const firsts = keys.map(([t, r]) => draw(t, r)[0]);
  assert.equal(new Set(firsts).size, keys.length);
  // Tasks computed in any order (as by any number of workers) give the same streams.
  const forward = [0, 1, 2, 3].map((t) => draw(t, 0));
  const backward = [3, 2, 1, 0].map((t) => draw(t, 0)).reverse();
  assert.deepEqual(forward, backward);
  // Seeds above 2^32 are distinct from their low words.
  assert.notDeepEqual(Array.from(streamState({ seed: 2 ** 40 + 1 })), Array.from(streamState({ seed: 1 })));
  assert.throws(() => rngFor({ seed: -1 }), /non-negative/);
});

test("xoshiro128** matches the reference output of Blackman and Vigna's C code", () => {
  // Reference: state {1, 2, 3, 4} → first outputs of xoshiro128starstar.c.
  const g = new Rng([1, 2, 3, 4]);
  const out = Array.from({ length: 4 }, () => g.u32());
  assert.deepEqual(out, [11520, 0, 5927040, 70819200]);
  // Uniformity of the 31-bit and float outputs (mean within 5 standard errors).
  const h = rngFor({ seed: 9 });
  let s = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) s += h.float();
  assert.ok(Math.abs(s / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
  // below(n) is unbiased over a range that is not a power of two.
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[h.below(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 5 * Math.sqrt(10000 * (5 / 6)));
});

test("asynchronous sweeps: configurations of per-chain sizes, vector observables, and a sweep that resolves false stops with a checkpoint of the unchanged state", async () => {
  // A counter sampler whose chains have different sizes (as the levels of compatible MC) and whose
  // sweeps arrive asynchronously; sweep number `refuseAt` is refused once (a stop while waiting).
  const counter = (refuseAt: number) => {
    let n = 0, refused = false;
    return {
      chains: 2, observables: ["n"], vectors: [{ name: "v", length: 3 }],
      sweep: async () => {
        await new Promise((r) => setImmediate(r));
        if (n + 1 === refuseAt && !refused) return !(refused = true);
        n++;
        return true;
      },
      endThermalization() {},
      measure: (out: Float64Array[]) => out[0]!.set([n, -n]),
      measureVectors: (out: Float64Array[][]) => out[0]!.forEach((row, c) => row.set([n, c, n * c])),
      config: (c: number, out: Int8Array) => out.fill(n + c),
      save: () => ({ rng: new Uint32Array(4), spins: new Int8Array(0), extra: { n } }),
      restore(st: { extra: Record<string, number> }) { n = st.extra.n!; },
    };
  };
  const rows: number[][] = [], vecs: number[][] = [], sizes: number[] = [];
  let last: Checkpoint | undefined;
  const sink: RunSink<Int8Array> = {
    measurement(values, configs, vectors) {
      rows.push(values.flatMap((v) => Array.from(v)));
      vecs.push(vectors!.flatMap((v) => v.flatMap((r) => Array.from(r))));
      sizes.push(...configs!.map((c) => c.length));
    },
    checkpoint: (cp) => (last = structuredClone(cp)),
  };
  const p: RunPlan = { therm: 0, sweeps: 5, every: 1, saveEvery: 1 };
  const first = await runChains(counter(3), p, sink, (c) => new Int8Array(4 + 4 * c));
  assert.deepEqual({ completed: first.completed, done: first.sweepsDone }, { completed: false, done: 2 });
  assert.equal(last!.sweepsDone, 2);
  assert.equal(last!.sampler.extra.n, 2);
  const second = await runChains(counter(0), p, sink, (c) => new Int8Array(4 + 4 * c), {}, last);
  assert.ok(second.completed);
  assert.deepEqual(rows, [1, 2, 3, 4, 5].map((n) => [n, -n]));
  assert.deepEqual(vecs, [1, 2, 3, 4, 5].map((n) => [n, 0, 0, n, 1, n]));
  assert.deepEqual(sizes, Array(5).fill([4, 8]).flat());
});
