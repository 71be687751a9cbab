// Training as a user runs it: the trained network does not depend on the number of worker threads,
// an interrupted training resumes bit-for-bit from its checkpoint, and the loss decreases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { h5Ready } from "../src/io/h5.js";
import { runSimulation, simulateOptions } from "../src/jobs/simulation.js";
import { train } from "../src/jobs/train.js";

const dir = mkdtempSync(join(tmpdir(), "irg-train-"));

function weights(path: string): string {
  const w = (JSON.parse(readFileSync(path, "utf8")) as { weights_float32_base64?: unknown }).weights_float32_base64;
  assert.ok(typeof w === "string" && w.length > 100, `${path} holds no weights`);
  return w;
}

test("training: same network with 0, 1 and 2 workers; interrupted training resumes bit-for-bit", async () => {
  await h5Ready();
  const data = join(dir, "phi4.h5");
  await runSimulation("phi4", simulateOptions("phi4", { L: 8, mu2: -0.95, sweeps: 800, therm: 100, saveEvery: 4, seed: 3, out: data }), { checkpointEvery: 60 }, false, true);
  const common = { data: [data], model: "phi4" as const, epochs: 3, batch: 16, seed: 5, hidden: 4, kernel: 3, patience: 10 };
  const r0 = await train({ ...common, out: join(dir, "w0.json"), workers: 0 });
  const r2 = await train({ ...common, out: join(dir, "w2.json"), workers: 2 });
  await train({ ...common, out: join(dir, "w1.json"), workers: 1 });
  assert.equal(r0.pairs, 200);
  assert.deepEqual(r2.validation, r0.validation);
  assert.equal(weights(join(dir, "w2.json")), weights(join(dir, "w0.json")));
  assert.equal(weights(join(dir, "w1.json")), weights(join(dir, "w0.json")));
  assert.ok(r0.validation.at(-1)! < r0.validation[0]!, `validation loss ${r0.validation.join(", ")} does not decrease`);

  // Stop in the middle of the second epoch, then run the same command again.
  const out = join(dir, "resumed.json");
  let calls = 0;
  const steps = Math.ceil(180 / 16);
  const stopped = await train({ ...common, out, workers: 2, shouldStop: () => ++calls > steps + 3 });
  assert.equal(stopped.stopped, true);
  assert.equal(existsSync(out), false, "an interrupted training must not write the network");
  assert.equal(existsSync(`${out}.checkpoint.json`), true);
  const resumed = await train({ ...common, out, workers: 0 });
  assert.equal(resumed.stopped, false);
  assert.deepEqual(resumed.validation, r0.validation);
  assert.equal(weights(out), weights(join(dir, "w0.json")));
  assert.equal(existsSync(`${out}.checkpoint.json`), false);
});

test("train: a second training on the same --out is refused while the first one lives (its checkpoints would interleave)", async () => {
  await h5Ready();
  const dir = mkdtempSync(join(tmpdir(), "irg-train-lock-"));
  const data = join(dir, "i8.h5");
  await runSimulation("ising", simulateOptions("ising", { L: 8, beta: 0.44, algorithm: "wolff", sweeps: 200, therm: 50, out: data }), { checkpointEvery: 5 }, false, false);
  const out = join(dir, "net.json");
  let stop = false;
  const first = train({ data: [data], model: "ising", out, epochs: 1000, patience: 1000, hidden: 4, kernel: 3, workers: 0, shouldStop: () => stop });
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(train({ data: [data], model: "ising", out, epochs: 1, hidden: 4, kernel: 3, workers: 0, force: true }), /is being written by another irg run/);
  stop = true;
  const r = await first;
  assert.equal(r.stopped, true);
  assert.ok(!existsSync(`${out}.lock`), "the lock is released when the training stops");
});
