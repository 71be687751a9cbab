// The linearised RG matrix of Monte Carlo renormalisation (R. H. Swendsen, PRL 42, 859 (1979)), with
// jackknife errors (linear algebra in linalg.ts, the block operators in rg-operators.ts).
//
// Conventions. Weight e^{Σ_a K_a S_a} (an Ising coupling K = β multiplies S_nn = Σ⟨ij⟩ s_i s_j).
// S_a = S^{(n)}_a are operators of the configurations at level n (fine), S'_a = S^{(n+1)}_a the same
// operators of their blocked configurations at level n + 1 (coarse). With ⟨x; y⟩ = ⟨xy⟩ − ⟨x⟩⟨y⟩,
//   A_{ab} = ⟨S'_a; S_b⟩ = ∂⟨S'_a⟩/∂K_b,     B_{ac} = ⟨S'_a; S'_c⟩ = ∂⟨S'_a⟩/∂K'_c,
// and the chain rule ∂⟨S'_a⟩/∂K_b = Σ_c (∂⟨S'_a⟩/∂K'_c)(∂K'_c/∂K_b) gives A = B·T with
//   T_{cb} = ∂K'_c/∂K_b   (row: coarse coupling, column: fine coupling),   T = B⁻¹·A.
// (The transposed convention A^T B⁻¹ of some papers has the same eigenvalues.) The eigenvalues λ of T
// on the even (Z₂-symmetric) operators give y_t = ln λ_t / ln b, ν = ln b / ln λ_t; those on the odd
// operators give y_h = ln λ_h / ln b and η = d + 2 − 2 y_h. In a zero-field, Z₂-symmetric ensemble the
// even–odd cross correlations vanish, so the two sectors are analysed separately. The result is exact
// when the coarse Hamiltonian lies in the span of the chosen operators; otherwise it depends on the
// truncation, which is why results are reported for the first 1, 2, …, n operators.
//
// Errors: leave-one-group-out jackknife over contiguous groups of configurations (give configurations
// in chain order, or independent chains one after another, so that groups are nearly independent).

import { type Dim, type Lattice, coarse as coarseLattice, lattice } from "../lattice/geometry.js";
import { type Rng } from "../lattice/rng.js";
import { majorityBlock } from "../rg/majority.js";
import { jackknifeError } from "./stats.js";
import { eigenvalues, type Eigenvalue, solve } from "./linalg.js";
import { compileOperators, type EvenOperatorName, measureOperators, type OddOperatorName, rgOperator, type RgOperator } from "./rg-operators.js";

// ---------------------------------------------------------------------------------------------
// The RG matrix from operator measurements.

/** One operator's values on every configuration at two consecutive levels. */
export interface RgMeasurements {
  /** fine[k][a] = S^{(n)}_a of configuration k. */
  fine: readonly ArrayLike<number>[];
  /** coarse[k][a] = S^{(n+1)}_a of the blocked configuration k (same operators, same order). */
  coarse: readonly ArrayLike<number>[];
}

/** A, B and T = B⁻¹A (see the header for the index conventions) for the operators `select` (default all). */
export interface RgMatrix {
  A: number[][];
  B: number[][];
  T: number[][];
}

/** Connected correlators and T from all configurations (no errors). */
export function rgMatrix(m: RgMeasurements, select?: readonly number[]): RgMatrix {
  const stats = groupSums(m, 1);
  return matrixFrom(stats, -1, select ?? range(stats.n));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Per-group sums of the centred operators and their products (centred at the overall means, for accuracy). */
interface GroupSums {
  n: number;
  groups: number;
  count: Float64Array;
  /** [g][a] Σ (S_a − μ_a), Σ (S'_a − μ'_a). */
  x: Float64Array[];
  y: Float64Array[];
  /** [g][a·n + b] Σ (S'_a − μ'_a)(S_b − μ_b) and Σ (S'_a − μ'_a)(S'_b − μ'_b). */
  yx: Float64Array[];
  yy: Float64Array[];
  total: { count: number; x: Float64Array; y: Float64Array; yx: Float64Array; yy: Float64Array };
}

function groupSums(m: RgMeasurements, groups: number): GroupSums {
  const N = m.fine.length;
  if (m.coarse.length !== N) throw new RangeError("fine and coarse measurements differ in number of configurations");
  if (N < 2) throw new RangeError("the RG matrix needs at least 2 configurations");
  const n = m.fine[0]!.length;
  if (n === 0) throw new RangeError("no operators");
  for (let k = 0; k < N; k++) {
    if (m.fine[k]!.length !== n || m.coarse[k]!.length !== n) throw new RangeError(`configuration ${k} does not have ${n} operator values at both levels`);
  }
  if (!Number.isInteger(groups) || groups < 1 || groups > N) throw new RangeError(`groups must be an integer in [1, ${N}], got ${groups}`);
  const mux = new Float64Array(n), muy = new Float64Array(n);
  for (let k = 0; k < N; k++) {
    for (let a = 0; a < n; a++) {
      mux[a]! += m.fine[k]![a]! / N;
      muy[a]! += m.coarse[k]![a]! / N;
    }
  }
  const mk = (len: number): Float64Array[] => Array.from({ length: groups }, () => new Float64Array(len));
  const out: GroupSums = {
    n, groups, count: new Float64Array(groups), x: mk(n), y: mk(n), yx: mk(n * n), yy: mk(n * n),
    total: { count: N, x: new Float64Array(n), y: new Float64Array(n), yx: new Float64Array(n * n), yy: new Float64Array(n * n) },
  };
  const dx = new Float64Array(n), dy = new Float64Array(n);
  for (let k = 0; k < N; k++) {
    const g = Math.min(groups - 1, Math.floor((k * groups) / N));
    out.count[g]!++;
    for (let a = 0; a < n; a++) {
      dx[a] = m.fine[k]![a]! - mux[a]!;
      dy[a] = m.coarse[k]![a]! - muy[a]!;
    }
    const x = out.x[g]!, y = out.y[g]!, yx = out.yx[g]!, yy = out.yy[g]!;
    for (let a = 0; a < n; a++) {
      x[a]! += dx[a]!;
      y[a]! += dy[a]!;
      for (let b = 0; b < n; b++) {
        yx[a * n + b]! += dy[a]! * dx[b]!;
        yy[a * n + b]! += dy[a]! * dy[b]!;
      }
    }
  }
  const T = out.total;
  for (let g = 0; g < groups; g++) {
    for (let a = 0; a < n; a++) { T.x[a]! += out.x[g]![a]!; T.y[a]! += out.y[g]![a]!; }
    for (let j = 0; j < n * n; j++) { T.yx[j]! += out.yx[g]![j]!; T.yy[j]! += out.yy[g]![j]!; }
  }
  return out;
}

/** A, B, T with group `leaveOut` removed (−1: all data). */
function matrixFrom(st: GroupSums, leaveOut: number, sel: readonly number[]): RgMatrix {
  const { n, total } = st;
  const c = total.count - (leaveOut >= 0 ? st.count[leaveOut]! : 0);
  const get = (tot: Float64Array, parts: Float64Array[], j: number): number => (tot[j]! - (leaveOut >= 0 ? parts[leaveOut]![j]! : 0)) / c;
  const k = sel.length;
  const A: number[][] = [], B: number[][] = [];
  for (let i = 0; i < k; i++) {
    const a = sel[i]!;
    if (!(a >= 0 && a < n)) throw new RangeError(`operator index ${a} out of range`);
    const ya = get(total.y, st.y, a);
    A.push(sel.map((b) => get(total.yx, st.yx, a * n + b) - ya * get(total.x, st.x, b)));
    B.push(sel.map((b) => get(total.yy, st.yy, a * n + b) - ya * get(total.y, st.y, b)));
  }
  return { A, B, T: solve(B, A) };
}

/** A value with its jackknife error. */
export interface ValueError {
  value: number;
  error: number;
}

/** The leading eigenvalue of T restricted to the first `operators` operators, with jackknife errors. */
export interface RgTruncation {
  operators: number;
  lambda: ValueError;
  /** Imaginary part of the leading eigenvalue on all data (non-zero only for a pathological truncation). */
  lambdaIm: number;
  /** All eigenvalues of T on all data, by decreasing modulus. */
  eigenvalues: Eigenvalue[];
  /** ln λ / ln b with error. */
  y: ValueError;
}

export interface RgSectorAnalysis {
  /** Operator names, in order. */
  names: string[];
  /** T on all data for all operators. */
  T: number[][];
  /** Jackknife errors of the entries of T. */
  Terror: number[][];
  /** Truncations to the first 1, 2, …, n operators. */
  truncations: RgTruncation[];
  groups: number;
  configurations: number;
}

/**
 * Leading eigenvalue of T for every truncation to the first k operators, with leave-one-group-out
 * jackknife errors (contiguous groups; a jackknife sample whose leading eigenvalue is complex or ≤ 0
 * contributes its real part, which the error then reflects).
 */
export function rgSectorAnalysis(m: RgMeasurements, opts: { b: number; groups?: number; names?: readonly string[] }): RgSectorAnalysis {
  const N = m.fine.length;
  const groups = opts.groups ?? Math.min(20, N);
  if (groups < 2) throw new RangeError("a jackknife needs at least 2 groups");
  if (!(opts.b > 1)) throw new RangeError(`the scale factor b must be > 1, got ${opts.b}`);
  const st = groupSums(m, groups);
  const n = st.n;
  const lnb = Math.log(opts.b);
  const truncations: RgTruncation[] = [];
  let Tfull: number[][] = [];
  let Terror: number[][] = [];
  for (let k = 1; k <= n; k++) {
    const sel = range(k);
    const full = matrixFrom(st, -1, sel);
    const Ts = range(groups).map((g) => matrixFrom(st, g, sel).T);
    if (k === n) {
      Tfull = full.T;
      Terror = full.T.map((row, i) => row.map((v, j) => jackknifeError(Ts.map((T) => T[i]![j]!), v)));
    }
    const ev = eigenvalues(full.T);
    const lead = ev[0]!;
    const samples = Ts.map((T) => eigenvalues(T)[0]!.re);
    const err = jackknifeError(samples, lead.re);
    const ys = samples.map((l) => Math.log(l) / lnb);
    const yFull = Math.log(lead.re) / lnb;
    truncations.push({
      operators: k,
      lambda: { value: lead.re, error: err },
      lambdaIm: lead.im,
      eigenvalues: ev,
      y: { value: yFull, error: ys.every(Number.isFinite) ? jackknifeError(ys, yFull) : NaN },
    });
  }
  return { names: opts.names ? [...opts.names] : range(n).map(String), T: Tfull, Terror, truncations, groups, configurations: N };
}

// ---------------------------------------------------------------------------------------------
// Exponents from eigenvalues, and the MCRG driver.

/** η = d + 2 − 2 y_h. */
export function etaFromYh(d: number, yh: number): number {
  return d + 2 - 2 * yh;
}

export interface McrgOptions {
  dim: Dim;
  /** Linear size of the given configurations (level 0). */
  L: number;
  /** Even operators (default nn, nnn, axis2, plaquette). */
  even?: readonly EvenOperatorName[];
  /** Odd operators (default m, triangle, line3). */
  odd?: readonly OddOperatorName[];
  /** Blocking steps n = 0 … levels − 1 analysed (T between level n and n + 1). Default 1. */
  levels?: number;
  /** Majority-rule tie breaking, default "random" (needs rng). */
  tie?: "random" | "first";
  rng?: Rng;
  /** Jackknife groups (contiguous in configuration order), default min(20, N). */
  groups?: number;
}

/** One blocking step n → n + 1 of the MCRG analysis. */
export interface McrgLevel {
  /** Level of the fine configurations (0 = the given ones). */
  level: number;
  Lfine: number;
  even: RgSectorAnalysis;
  odd: RgSectorAnalysis;
  /** From the largest even truncation: ν = ln b/ln λ_t. */
  nu: ValueError;
  /** From the largest odd truncation: y_h and η = d + 2 − 2y_h. */
  yh: ValueError;
  eta: ValueError;
}

/** Operator values of every configuration at levels 0 … levels (majority blocking b = 2). */
export interface McrgData {
  /** ops[level][config] = values of even then odd operators. */
  ops: Float64Array[][];
  even: RgOperator[];
  odd: RgOperator[];
}

/** Blocks every configuration `levels` times and measures the operators at every level. */
export function mcrgMeasure(configs: Iterable<Int8Array>, opts: McrgOptions): McrgData {
  const levels = opts.levels ?? 1;
  const tie = opts.tie ?? "random";
  if (tie === "random" && !opts.rng) throw new RangeError("random tie-breaking needs opts.rng");
  const even = (opts.even ?? ["nn", "nnn", "axis2", "plaquette"]).map((n) => rgOperator(opts.dim, n));
  const odd = (opts.odd ?? ["m", "triangle", "line3"]).map((n) => rgOperator(opts.dim, n));
  if (even.some((o) => o.parity !== "even") || odd.some((o) => o.parity !== "odd")) throw new RangeError("operator parity mismatch");
  const all = [...even, ...odd];
  const lats: Lattice[] = [lattice(opts.dim, opts.L)];
  for (let l = 0; l < levels; l++) lats.push(coarseLattice(lats[l]!));
  const bufs = lats.map((lt) => new Int8Array(lt.V));
  const plans = lats.map((lt) => compileOperators(lt, all));
  const ops: Float64Array[][] = lats.map(() => []);
  for (const s of configs) {
    if (s.length !== lats[0]!.V) throw new RangeError(`configuration must have ${lats[0]!.V} sites`);
    bufs[0]!.set(s);
    for (let l = 0; l <= levels; l++) {
      if (l > 0) majorityBlock(lats[l - 1]!, bufs[l - 1]!, bufs[l]!, opts.rng ? { tie, rng: opts.rng } : { tie });
      ops[l]!.push(measureOperators(lats[l]!, bufs[l]!, plans[l]!));
    }
  }
  return { ops, even, odd };
}

/** Swendsen's MCRG analysis of measured operator values (see `mcrgMeasure`), one entry per blocking step. */
export function mcrgAnalyse(data: McrgData, opts: { dim: Dim; L: number; groups?: number }): McrgLevel[] {
  const ne = data.even.length, no = data.odd.length;
  const out: McrgLevel[] = [];
  const sub = (rows: Float64Array[], from: number, to: number): Float64Array[] => rows.map((r) => r.subarray(from, to));
  for (let l = 0; l + 1 < data.ops.length; l++) {
    const fine = data.ops[l]!, coarse = data.ops[l + 1]!;
    const groups = opts.groups ?? Math.min(20, fine.length);
    const even = rgSectorAnalysis({ fine: sub(fine, 0, ne), coarse: sub(coarse, 0, ne) }, { b: 2, groups, names: data.even.map((o) => o.name) });
    const odd = rgSectorAnalysis({ fine: sub(fine, ne, ne + no), coarse: sub(coarse, ne, ne + no) }, { b: 2, groups, names: data.odd.map((o) => o.name) });
    const te = even.truncations[ne - 1]!, to = odd.truncations[no - 1]!;
    // ν = 1/y_t: error propagated from y_t's jackknife error.
    const nu = { value: 1 / te.y.value, error: te.y.error / te.y.value ** 2 };
    const eta = { value: etaFromYh(opts.dim, to.y.value), error: 2 * to.y.error };
    out.push({ level: l, Lfine: opts.L >> l, even, odd, nu, yh: to.y, eta });
  }
  return out;
}

/** `mcrgMeasure` then `mcrgAnalyse`. */
export function mcrg(configs: Iterable<Int8Array>, opts: McrgOptions): McrgLevel[] {
  return mcrgAnalyse(mcrgMeasure(configs, opts), opts);
}
