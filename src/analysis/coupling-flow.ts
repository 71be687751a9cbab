// The MCRG coupling map by matching (Swendsen, PRL 42, 859 (1979); for spin glasses the overlap field,
// as in Bachtis' inverse RG of disordered systems): the temperature T′ of the larger system 2L whose
// blocked configurations look like those of the system L at T, from one observable measured on both
// ladders. Its fixed point T* (T′ = T) and its slope there, dT/dT′ = b^{1/ν}, give a critical temperature
// and an exponent; away from T* the inverse map flows, so a generated 2L system made from L at T is to
// be compared with the direct 2L system at T′, not at T.

/** A value with its error (no autocorrelation time: these are derived, not measured, quantities). */
export interface ValueError {
  value: number;
  error: number;
}

export interface FlowMap {
  /** T′ for every ladder temperature whose value the blocked curve brackets (NaN elsewhere), with errors. */
  Tp: number[];
  TpError: number[];
  /** The fixed point T′ = T (linear interpolation of T′ − T), when it lies inside the ladder. */
  Tstar?: ValueError;
  /** 1/ν = log_b(dT/dT′) from a weighted straight line through the points next to T*. */
  inverseNu?: ValueError;
}

/**
 * `T` ascending; `direct[k]` the observable of the small system at T[k], `blocked[k]` that of the large
 * system blocked to the small size at T[k] (a monotone curve). b is the block factor.
 */
export function couplingFlow(T: readonly number[], direct: readonly ValueError[], blocked: readonly ValueError[], b = 2): FlowMap {
  const n = T.length;
  const Tp: number[] = [], TpError: number[] = [];
  for (let k = 0; k < n; k++) {
    const want = direct[k]!;
    let t = Number.NaN, e = Number.NaN;
    for (let j = 0; j + 1 < n; j++) {
      const a = blocked[j]!, c = blocked[j + 1]!;
      if ((a.value - want.value) * (c.value - want.value) > 0) continue;
      const slope = (c.value - a.value) / (T[j + 1]! - T[j]!);
      if (slope === 0) continue;
      const f = (want.value - a.value) / (c.value - a.value);
      t = T[j]! + f * (T[j + 1]! - T[j]!);
      const bErr = Math.hypot((1 - f) * a.error, f * c.error);
      e = Math.hypot(want.error, bErr) / Math.abs(slope);
      break;
    }
    Tp.push(t);
    TpError.push(e);
  }
  const out: FlowMap = { Tp, TpError };
  // T*: where T′ − T changes sign between neighbouring defined points.
  for (let k = 0; k + 1 < n; k++) {
    const d0 = Tp[k]! - T[k]!, d1 = Tp[k + 1]! - T[k + 1]!;
    if (!Number.isFinite(d0) || !Number.isFinite(d1) || d0 * d1 > 0 || d0 === d1) continue;
    const f = d0 / (d0 - d1);
    const value = T[k]! + f * (T[k + 1]! - T[k]!);
    const slope = (d1 - d0) / (T[k + 1]! - T[k]!); // d(T′ − T)/dT
    const error = Math.hypot((1 - f) * TpError[k]!, f * TpError[k + 1]!) / Math.abs(slope);
    out.Tstar = { value, error };
    break;
  }
  if (out.Tstar) {
    // dT/dT′ from a straight line T(T′) through the (up to) two points on either side of T*.
    const near = T.map((t, k) => ({ t, tp: Tp[k]!, e: TpError[k]! }))
      .filter((p) => Number.isFinite(p.tp) && p.e > 0)
      .sort((x, y) => Math.abs(x.t - out.Tstar!.value) - Math.abs(y.t - out.Tstar!.value))
      .slice(0, 4);
    if (near.length >= 3) {
      // Weighted least squares of T on T′ with weights 1/σ_T′² (the error sits in the abscissa: the
      // slope's error is that of T′ on T, propagated).
      let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (const p of near) {
        const w = 1 / (p.e * p.e);
        sw += w; sx += w * p.t; sy += w * p.tp; sxx += w * p.t * p.t; sxy += w * p.t * p.tp;
      }
      const det = sw * sxx - sx * sx;
      const m = (sw * sxy - sx * sy) / det; // dT′/dT
      const mErr = Math.sqrt(sw / det);
      if (m > 0) out.inverseNu = { value: -Math.log(m) / Math.log(b), error: mErr / (m * Math.log(b)) };
    }
  }
  return out;
}
