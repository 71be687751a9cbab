// Validation of generated (inverse-RG) ensembles against direct Monte Carlo of the same size: ⟨|m|⟩,
// U₄, χ, the nearest-neighbour correlation and the two-point function G(r), each as reweighted curves
// in the coupling with jackknife errors, and a verdict table of the deviations in units of σ.

import { uwerr, type Estimate } from "../analysis/stats.js";
import { buildCurves, type CurveObservable, type Curves, type CurveRun, grid, jackknifed } from "../analysis/mcrg.js";
import { openEnsemble } from "../io/ensemble.js";
import { conjugateSeries } from "./block.js";
import { UsageError } from "../models/params.js";

/** Separations of G(r): powers of two up to L/2. */
export function separations(L: number): number[] {
  const out: number[] = [];
  for (let r = 1; r <= L / 2; r *= 2) out.push(r);
  return out;
}

/**
 * Two-point function along the axes, G(r) = (1/dV) Σ_x Σ_μ φ_x φ_{x+r ê_μ}, for the given
 * separations (the nearest-neighbour correlation is G(1)). Works for spins and fields.
 */
export function twoPoint(cfg: ArrayLike<number>, L: number, dim: number, rs: readonly number[]): Float64Array {
  const V = L ** dim;
  // One monomorphic copy: the loops below then compile to plain float loads whatever the input type.
  const f = cfg instanceof Float64Array ? cfg : Float64Array.from(cfg);
  const out = new Float64Array(rs.length);
  for (let k = 0; k < rs.length; k++) {
    let s = 0;
    // Along axis d the lattice splits into blocks of L·stride sites in which the partner of offset j
    // is (j + r·stride) mod (L·stride): two straight loops, no division per site.
    for (let d = 0, stride = 1; d < dim; d++, stride *= L) {
      const block = L * stride, shift = (rs[k]! % L) * stride;
      for (let base = 0; base < V; base += block) {
        const end = base + block - shift;
        for (let i = base; i < end; i++) s += f[i]! * f[i + shift]!;
        for (let i = end; i < base + block; i++) s += f[i]! * f[i + shift - block]!;
      }
    }
    out[k] = s / (dim * V);
  }
  return out;
}

export interface ConfigRun extends CurveRun {
  L: number;
  dim: number;
  model: string;
  /** φ⁴ λ and κ (NaN for Ising), for the action density. */
  lambda: number;
  kappa: number;
  file: string;
  samples: number;
}

/** Per stored configuration: m, G(r), and the reweighting variable (the parent's for generated/blocked files). */
export function configRun(file: string): ConfigRun {
  const r = openEnsemble(file);
  try {
    const { meta } = r;
    const n = r.configRows;
    if (n < 40) throw new UsageError(`${file} stores ${n} configurations; at least 40 are needed for errors`);
    const V = meta.L ** meta.dim;
    const rs = separations(meta.L);
    let x: Float64Array;
    if (meta.observables.includes("parent_x")) x = r.series("parent_x");
    else {
      const all = conjugateSeries(r);
      const saveEvery = Number(meta.params.saveEvery ?? 1);
      x = Float64Array.from({ length: n }, (_, row) => all[Math.floor(row / meta.chains) * saveEvery * meta.chains + (row % meta.chains)]!);
    }
    const m = new Float64Array(n);
    const extra: Record<string, Float64Array> = Object.fromEntries(rs.map((d) => [`G${d}`, new Float64Array(n)]));
    // φ⁴: the local moments, so that the action density can be formed at any reweighted μ².
    const phi4 = meta.model === "phi4";
    if (phi4) extra.p2 = new Float64Array(n);
    if (phi4) extra.p4 = new Float64Array(n);
    const chunk = Math.max(1, Math.floor((8 << 20) / (V * 4)));
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const block = r.configs(start, end);
      for (let row = start; row < end; row++) {
        const cfg = block.subarray((row - start) * V, (row - start + 1) * V);
        let s = 0, q2 = 0, q4 = 0;
        for (let i = 0; i < V; i++) {
          const v = cfg[i]!, v2 = v * v;
          s += v;
          q2 += v2;
          q4 += v2 * v2;
        }
        m[row] = s / V;
        if (phi4) {
          extra.p2![row] = q2 / V;
          extra.p4![row] = q4 / V;
        }
        twoPoint(cfg, meta.L, meta.dim, rs).forEach((g, k) => (extra[`G${rs[k]}`]![row] = g));
      }
    }
    const coupling = Number(meta.model === "ising" ? meta.params.beta : meta.params.mu2);
    return {
      coupling, x, m, extra, tauInt: Math.max(uwerr(x).tauInt, uwerr(m.map(Math.abs)).tauInt), L: meta.L, dim: meta.dim, file, samples: n,
      model: meta.model, lambda: phi4 ? Number(meta.params.lambda) : Number.NaN, kappa: phi4 ? Number(meta.params.kappa) : Number.NaN,
    };
  } finally {
    r.close();
  }
}

export interface Comparison {
  quantity: string;
  coupling: number;
  generated: Estimate;
  direct: Estimate;
  /** (generated − direct) / combined error. */
  z: number;
  /** (generated − direct) / |direct|. */
  relative: number;
}

export interface Validation {
  L: number;
  generated: Curves;
  direct: Curves;
  /** Coupling range where both families reweight reliably. */
  range: [number, number];
  rows: Comparison[];
  samples: { generated: number; direct: number };
  /** The coupling at which the verdict is taken (the critical one in the pipeline), if any. */
  at?: number;
}

const QUANTITIES: (CurveObservable | `G${number}`)[] = ["abs_m", "binder", "chi_full", "chi"];

/**
 * Compares generated and direct ensembles of one size at `points` couplings of their common range,
 * and at `at` when given (inside the range). Away from the critical point the two need not agree:
 * the inverse RG drives a generated system towards the fixed point, so at a coupling off μ_c it
 * resembles a direct system at a coupling closer to μ_c (the seed's Fig. 3 relies on exactly this).
 */
export function validate(generatedFiles: (string | ConfigRun)[], directFiles: (string | ConfigRun)[], opts: { groups?: number; points?: number; at?: number } = {}): Validation {
  if (generatedFiles.length === 0 || directFiles.length === 0) throw new UsageError("validation needs generated and direct ensembles");
  const load = (f: string | ConfigRun): ConfigRun => (typeof f === "string" ? configRun(f) : f);
  const gen = generatedFiles.map(load), dir = directFiles.map(load);
  const L = gen[0]!.L;
  for (const r of [...gen, ...dir]) if (r.L !== L) throw new UsageError(`${r.file} has L = ${r.L}, but ${gen[0]!.file} has L = ${L}; compare ensembles of one size`);
  const groups = opts.groups ?? 20;
  const V = L ** gen[0]!.dim;
  const g = buildCurves(gen, V, groups), d = buildCurves(dir, V, groups);
  const range: [number, number] = [Math.max(g.range[0], d.range[0]), Math.min(g.range[1], d.range[1])];
  if (!(range[0] <= range[1])) throw new UsageError("the generated and direct ensembles have no coupling range in common");
  const inside = opts.at !== undefined && opts.at >= range[0] && opts.at <= range[1];
  const cs = [...grid(range[0], range[1], opts.points ?? 5), ...(inside ? [opts.at!] : [])].sort((a, b) => a - b);
  const rows: Comparison[] = [];
  const names = [...QUANTITIES, "energy", ...g.extras.filter((e) => e.startsWith("G"))] as string[];
  const { dim, model, lambda, kappa } = gen[0]!;
  // Energy per site: Ising −Σ⟨ij⟩ s_i s_j / V = −d·G(1); φ⁴ the action density at the coupling c.
  const energy = (cv: Curves, c: number, k: number): number =>
    model === "phi4"
      ? -kappa * dim * cv.mean("G1", c, k) + ((c + 2 * dim * kappa) / 2) * cv.mean("p2", c, k) + (lambda / 4) * cv.mean("p4", c, k)
      : -dim * cv.mean("G1", c, k);
  for (const c of cs) {
    for (const q of names) {
      const val = (cv: Curves) => (k: number): number => (q === "energy" ? energy(cv, c, k) : q.startsWith("G") ? cv.mean(q, c, k) : cv.value(q as CurveObservable, c, k));
      const ge = jackknifed(groups, val(g)), de = jackknifed(groups, val(d));
      const z = (ge.value - de.value) / Math.hypot(ge.error, de.error);
      rows.push({ quantity: q, coupling: c, generated: ge, direct: de, z, relative: (ge.value - de.value) / Math.abs(de.value) });
    }
  }
  return { L, generated: g, direct: d, range, rows, at: inside ? opts.at : undefined, samples: { generated: gen.reduce((a, r) => a + r.samples, 0), direct: dir.reduce((a, r) => a + r.samples, 0) } };
}
