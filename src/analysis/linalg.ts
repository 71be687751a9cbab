// Dense linear algebra for small matrices (row-major number[][]): Gaussian elimination with partial
// pivoting and all eigenvalues of a real matrix (balancing, Hessenberg reduction, shifted QR; Numerical
// Recipes ch. 11, after EISPACK). Used by the RG matrix of MCRG, whose matrices are at most ~10×10.

/** Solves M·X = R for X (M n×n, R n×k) by Gaussian elimination with partial pivoting. Throws if M is singular. */
export function solve(M: readonly (readonly number[])[], R: readonly (readonly number[])[]): number[][] {
  const n = M.length;
  if (R.length !== n || M.some((row) => row.length !== n)) throw new RangeError("solve: M must be n×n and R must have n rows");
  const k = R[0]?.length ?? 0;
  const a = M.map((row) => row.slice());
  const x = R.map((row) => row.slice());
  let scale = 0;
  for (const row of a) for (const v of row) scale = Math.max(scale, Math.abs(v));
  for (let col = 0; col < n; col++) {
    let p = col;
    for (let i = col + 1; i < n; i++) if (Math.abs(a[i]![col]!) > Math.abs(a[p]![col]!)) p = i;
    const piv = a[p]![col]!;
    if (!(Math.abs(piv) > 1e-14 * scale)) throw new RangeError("solve: the matrix is singular to working precision");
    [a[col], a[p]] = [a[p]!, a[col]!];
    [x[col], x[p]] = [x[p]!, x[col]!];
    for (let i = col + 1; i < n; i++) {
      const f = a[i]![col]! / piv;
      if (f === 0) continue;
      for (let j = col; j < n; j++) a[i]![j]! -= f * a[col]![j]!;
      for (let j = 0; j < k; j++) x[i]![j]! -= f * x[col]![j]!;
    }
  }
  for (let col = n - 1; col >= 0; col--) {
    for (let j = 0; j < k; j++) {
      let v = x[col]![j]!;
      for (let i = col + 1; i < n; i++) v -= a[col]![i]! * x[i]![j]!;
      x[col]![j] = v / a[col]![col]!;
    }
  }
  return x;
}

/** A complex eigenvalue re + i·im. */
export interface Eigenvalue {
  re: number;
  im: number;
}

/**
 * All eigenvalues of a small real (nonsymmetric) matrix, sorted by decreasing modulus (real before
 * complex at equal modulus): balancing, reduction to Hessenberg form by stabilised elementary
 * similarity transformations, then the Francis double-shift QR iteration (the EISPACK algorithms
 * balanc/elmhes/hqr as in Numerical Recipes §11.5–11.6).
 */
export function eigenvalues(M: readonly (readonly number[])[]): Eigenvalue[] {
  const n = M.length;
  if (M.some((row) => row.length !== n)) throw new RangeError("eigenvalues: the matrix must be square");
  if (n === 0) return [];
  for (const row of M) for (const v of row) if (!Number.isFinite(v)) throw new RangeError("eigenvalues: the matrix has a non-finite entry");
  // 1-based copy, as in the reference algorithms.
  const a: number[][] = Array.from({ length: n + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i > 0 && j > 0 ? M[i - 1]![j - 1]! : 0)));
  balance(a, n);
  hessenberg(a, n);
  for (let i = 3; i <= n; i++) for (let j = 1; j <= i - 2; j++) a[i]![j] = 0;
  const wr = new Array<number>(n + 1).fill(0), wi = new Array<number>(n + 1).fill(0);
  hqr(a, n, wr, wi);
  const out: Eigenvalue[] = [];
  for (let i = 1; i <= n; i++) out.push({ re: wr[i]!, im: wi[i]! });
  out.sort((p, q) => Math.hypot(q.re, q.im) - Math.hypot(p.re, p.im) || Math.abs(p.im) - Math.abs(q.im) || q.re - p.re || q.im - p.im);
  return out;
}

function balance(a: number[][], n: number): void {
  const RADIX = 2, sqrdx = RADIX * RADIX;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 1; i <= n; i++) {
      let r = 0, c = 0;
      for (let j = 1; j <= n; j++) {
        if (j === i) continue;
        c += Math.abs(a[j]![i]!);
        r += Math.abs(a[i]![j]!);
      }
      if (c === 0 || r === 0) continue;
      let g = r / RADIX, f = 1;
      const s = c + r;
      while (c < g) { f *= RADIX; c *= sqrdx; }
      g = r * RADIX;
      while (c > g) { f /= RADIX; c /= sqrdx; }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        g = 1 / f;
        for (let j = 1; j <= n; j++) a[i]![j]! *= g;
        for (let j = 1; j <= n; j++) a[j]![i]! *= f;
      }
    }
  }
}

function hessenberg(a: number[][], n: number): void {
  for (let m = 2; m < n; m++) {
    let x = 0, i = m;
    for (let j = m; j <= n; j++) {
      if (Math.abs(a[j]![m - 1]!) > Math.abs(x)) { x = a[j]![m - 1]!; i = j; }
    }
    if (i !== m) {
      for (let j = m - 1; j <= n; j++) { const t = a[i]![j]!; a[i]![j] = a[m]![j]!; a[m]![j] = t; }
      for (let j = 1; j <= n; j++) { const t = a[j]![i]!; a[j]![i] = a[j]![m]!; a[j]![m] = t; }
    }
    if (x !== 0) {
      for (let r = m + 1; r <= n; r++) {
        let y = a[r]![m - 1]!;
        if (y === 0) continue;
        y /= x;
        a[r]![m - 1] = y;
        for (let j = m; j <= n; j++) a[r]![j]! -= y * a[m]![j]!;
        for (let j = 1; j <= n; j++) a[j]![m]! += y * a[j]![r]!;
      }
    }
  }
}

function sign(a: number, b: number): number {
  return b >= 0 ? Math.abs(a) : -Math.abs(a);
}

function hqr(a: number[][], n: number, wr: number[], wi: number[]): void {
  let anorm = 0;
  for (let i = 1; i <= n; i++) for (let j = Math.max(i - 1, 1); j <= n; j++) anorm += Math.abs(a[i]![j]!);
  let nn = n, t = 0;
  let p = 0, q = 0, r = 0, s = 0, w = 0, x = 0, y = 0, z = 0;
  while (nn >= 1) {
    let its = 0, l: number;
    do {
      for (l = nn; l >= 2; l--) {
        s = Math.abs(a[l - 1]![l - 1]!) + Math.abs(a[l]![l]!);
        if (s === 0) s = anorm;
        if (Math.abs(a[l]![l - 1]!) + s === s) { a[l]![l - 1] = 0; break; }
      }
      x = a[nn]![nn]!;
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = a[nn - 1]![nn - 1]!;
        w = a[nn]![nn - 1]! * a[nn - 1]![nn]!;
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === 60) throw new Error("eigenvalues: QR iteration did not converge");
          if (its === 10 || its === 20 || its === 40) {
            t += x;
            for (let i = 1; i <= nn; i++) a[i]![i]! -= x;
            s = Math.abs(a[nn]![nn - 1]!) + Math.abs(a[nn - 1]![nn - 2]!);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m]![m]!;
            r = x - z;
            s = y - z;
            p = (r * s - w) / a[m + 1]![m]! + a[m]![m + 1]!;
            q = a[m + 1]![m + 1]! - z - r - s;
            r = a[m + 2]![m + 1]!;
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s; q /= s; r /= s;
            if (m === l) break;
            const u = Math.abs(a[m]![m - 1]!) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[m - 1]![m - 1]!) + Math.abs(z) + Math.abs(a[m + 1]![m + 1]!));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i]![i - 2] = 0;
            if (i !== m + 2) a[i]![i - 3] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[k]![k - 1]!;
              q = a[k + 1]![k - 1]!;
              r = 0;
              if (k !== nn - 1) r = a[k + 2]![k - 1]!;
              if ((x = Math.abs(p) + Math.abs(q) + Math.abs(r)) !== 0) { p /= x; q /= x; r /= x; }
            }
            if ((s = sign(Math.sqrt(p * p + q * q + r * r), p)) !== 0) {
              if (k === m) {
                if (l !== m) a[k]![k - 1] = -a[k]![k - 1]!;
              } else {
                a[k]![k - 1] = -s * x;
              }
              p += s;
              x = p / s; y = q / s; z = r / s; q /= p; r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[k]![j]! + q * a[k + 1]![j]!;
                if (k !== nn - 1) {
                  p += r * a[k + 2]![j]!;
                  a[k + 2]![j]! -= p * z;
                }
                a[k + 1]![j]! -= p * y;
                a[k]![j]! -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * a[i]![k]! + y * a[i]![k + 1]!;
                if (k !== nn - 1) {
                  p += z * a[i]![k + 2]!;
                  a[i]![k + 2]! -= p * r;
                }
                a[i]![k + 1]! -= p * q;
                a[i]![k]! -= p;
              }
            }
          }
        }
      }
    } while (l! < nn - 1);
  }
}

/** The eigenvalue of largest modulus (its real part is what MCRG reports; `im` ≠ 0 flags a bad truncation). */
export function leadingEigenvalue(M: readonly (readonly number[])[]): Eigenvalue {
  const ev = eigenvalues(M);
  if (ev.length === 0) throw new RangeError("leadingEigenvalue of an empty matrix");
  return ev[0]!;
}
