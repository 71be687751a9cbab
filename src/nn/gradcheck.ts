// Finite-difference gradient checking (central differences, float64) for the network engine and for
// any later layer or loss: the test oracle that needs no second implementation.
//
// Why central differences with h ≈ 1e-5: the error is O(h²·f‴) + O(ε·|f|/h) ≈ 1e-10 relative in float64,
// far below the 1e-6 tolerance, and exact (up to rounding) for the layers that are linear in x.

/** ∂f/∂x_i by central differences for every i (x is modified during the call and restored). */
export function numericGrad(f: () => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h;
    const up = f();
    x[i] = v - h;
    const dn = f();
    x[i] = v;
    g[i] = (up - dn) / (2 * h);
  }
  return g;
}

/**
 * Largest elementwise relative error |a − b| / max(|a|, |b|, floor·max|b|): relative for every entry
 * except those far below the gradient's scale, where an absolute error of floor·scale is tolerated.
 */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.max(Math.abs(a[i]!), Math.abs(b[i]!), floor * scale, Number.MIN_VALUE);
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / d);
  }
  return worst;
}

/** Σ_i a_i·b_i in float64 (a fixed random projection turns a tensor output into a scalar to check). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
