// Worker thread of the lock-step spin-glass sampler (ea-threads.ts): builds the multi-spin sampler of its
// sample range, then waits on the shared control word and answers each command for its own samples.

import { parentPort, workerData } from "node:worker_threads";
import { lattice } from "../lattice/geometry.js";
import { blockCount, makeEaMultispinSampler, msKernelFactory, msStateExtra, msStateWords } from "../mc/ea-multispin-sampler.js";
import { Cmd, type EaWorkerSetup } from "./ea-threads.js";

const s = workerData as EaWorkerSetup;
const port = parentPort!;
const ctl = new Int32Array(s.ctl);
const HEAD = 2;

function fail(e: unknown): void {
  const msg = new TextEncoder().encode(String((e as Error)?.message ?? e).slice(0, 1000));
  const err = new Uint8Array(s.error);
  err.fill(0);
  err.set(msg);
  Atomics.store(ctl, HEAD + s.w, -1);
  Atomics.notify(ctl, HEAD + s.w);
}

let smp: ReturnType<typeof makeEaMultispinSampler>;
try {
  const lat = lattice(s.dim, s.L);
  smp = makeEaMultispinSampler({
    lat, betas: Float64Array.from(s.betas), target: s.target, samples: s.samples, firstSample: s.first, seed: s.seed, disorderSeed: s.disorderSeed,
    kernel: msKernelFactory(s.engine), stored: s.stored,
  });
} catch (e) {
  port.postMessage({ error: (e as Error).message });
  throw e;
}

const T = s.betas.length, V = s.L ** s.dim, S = s.samples, P = Math.max(0, T - 1);
const own = msStateWords(blockCount(s.first, S), S, T, V);
const obs = new Float64Array(s.obs), cfg = new Int8Array(s.configs), state = new Int32Array(s.state), stats = new Float64Array(s.stats);
const J = s.stored.length;
const total = s.total * J;
const values = smp.observables.map(() => new Float64Array(S * J));
const rho = new Int8Array(V);
const extra = msStateExtra(S, T, V, s.first);

// Read the command counter before saying "ready": the main thread issues its first command only after
// every worker is ready, so no command can slip in between.
let seen = Atomics.load(ctl, 0);
port.postMessage({ ready: true });
for (;;) {
  Atomics.wait(ctl, 0, seen);
  const seq = Atomics.load(ctl, 0);
  if (seq === seen) continue;
  seen = seq;
  const cmd = Atomics.load(ctl, 1) as Cmd;
  if (cmd === Cmd.Exit) break;
  try {
    switch (cmd) {
      case Cmd.Sweep:
        smp.sweep();
        break;
      case Cmd.Measure:
        smp.measure(values);
        for (let j = 0; j < J; j++) values.forEach((v, k) => obs.set(v.subarray(j * S, (j + 1) * S), k * total + j * s.total + s.chainOffset));
        break;
      case Cmd.Configs:
        for (let j = 0; j < J; j++) {
          for (let c = 0; c < S; c++) {
            smp.config(j * S + c, rho);
            cfg.set(rho, (j * s.total + s.chainOffset + c) * V);
          }
        }
        break;
      case Cmd.Save: {
        const st = smp.save().spins as Int32Array;
        state.set(st.subarray(0, own.blockWords), s.blockStateOffset);
        state.set(st.subarray(own.blockWords), s.chainStateOffset);
        break;
      }
      case Cmd.Restore: {
        const st = new Int32Array(own.blockWords + own.chainWords);
        st.set(state.subarray(s.blockStateOffset, s.blockStateOffset + own.blockWords));
        st.set(state.subarray(s.chainStateOffset, s.chainStateOffset + own.chainWords), own.blockWords);
        smp.restore({ rng: new Uint32Array(4), spins: st, extra });
        break;
      }
      case Cmd.Stats: {
        for (let k = 0; k < P; k++) {
          let a = 0, n = 0;
          for (let c = 0; c < S; c++) {
            a += smp.tempering(c).accepted[k]!;
            n += smp.tempering(c).attempted[k]!;
          }
          stats[s.w * 2 * P + k] = a;
          stats[s.w * 2 * P + P + k] = n;
        }
        const trips = smp.roundTrips();
        const statsBase = stats.length - s.total;
        for (let c = 0; c < S; c++) stats[statsBase + s.chainOffset + c] = trips[c]!;
        break;
      }
    }
    Atomics.store(ctl, HEAD + s.w, seq);
    Atomics.notify(ctl, HEAD + s.w);
  } catch (e) {
    fail(e);
  }
}
