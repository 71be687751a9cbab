// Adam (Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015) over one flat parameter
// vector, with bias-corrected moments and optional decoupled weight decay (Loshchilov & Hutter 2019).
//
// Why float64 moments: the second moment of tiny gradients underflows float32 precision long before
// it matters for the parameters; the state is a few thousand numbers, so the cost is nil.

import { type Arr } from "./tensor.js";

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay per step, as a fraction of lr (AdamW); 0 by default. */
  weightDecay?: number;
}

export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  /** Number of updates done so far (the bias corrections depend on it). */
  step: number;
}

/** The JSON form of AdamState (numbers survive JSON exactly: JS prints doubles round-trip). */
export interface AdamJSON {
  m: number[];
  v: number[];
  step: number;
}

export function adamInit(n: number): AdamState {
  return { m: new Float64Array(n), v: new Float64Array(n), step: 0 };
}

/** One update; modifies `params` and `state` in place (they are the optimiser's state). */
export function adamStep(params: Arr, grad: ArrayLike<number>, state: AdamState, opts: AdamOptions): void {
  const n = params.length;
  if (grad.length !== n || state.m.length !== n || state.v.length !== n) throw new RangeError("Adam: params, grad and state lengths differ");
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8, wd = opts.weightDecay ?? 0, lr = opts.lr;
  state.step++;
  const c1 = 1 - b1 ** state.step, c2 = 1 - b2 ** state.step;
  const m = state.m, v = state.v;
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * g;
    v[i] = b2 * v[i]! + (1 - b2) * g * g;
    params[i] = params[i]! * (1 - lr * wd) - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
  }
}

export function adamToJSON(s: AdamState): AdamJSON {
  return { m: Array.from(s.m), v: Array.from(s.v), step: s.step };
}

export function adamFromJSON(j: AdamJSON): AdamState {
  if (!Array.isArray(j.m) || !Array.isArray(j.v) || j.m.length !== j.v.length || !Number.isInteger(j.step) || j.step < 0) {
    throw new RangeError("not an Adam state: expected { m: number[], v: number[] of equal length, step: integer >= 0 }");
  }
  return { m: Float64Array.from(j.m), v: Float64Array.from(j.v), step: j.step };
}
