// χ² goodness-of-fit of a histogram against exact probabilities, with the regularised incomplete
// gamma function for its p-value (Numerical Recipes §6.2 series and Lentz continued fraction).

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error below 1e-15). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Upper regularised incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0) throw new RangeError("gammaQ needs a > 0 and x >= 0");
  if (x === 0) return 1;
  const lnPre = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a, term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPre) * h;
}

export interface ChiSquare {
  chi2: number;
  dof: number;
  /** Probability of a χ² at least this large if the counts follow the probabilities. */
  pValue: number;
}

/**
 * Pearson χ² of observed counts against probabilities. Bins with expected count below `minExpected`
 * are pooled into one, as the χ² distribution is a poor approximation for them.
 */
export function chiSquareTest(counts: ArrayLike<number>, probs: ArrayLike<number>, minExpected = 5): ChiSquare {
  if (counts.length !== probs.length) throw new RangeError("counts and probabilities differ in length");
  let n = 0;
  for (let k = 0; k < counts.length; k++) n += counts[k]!;
  let chi2 = 0, bins = 0, poolObs = 0, poolExp = 0;
  for (let k = 0; k < counts.length; k++) {
    const e = n * probs[k]!;
    if (e < minExpected) {
      poolObs += counts[k]!;
      poolExp += e;
      continue;
    }
    chi2 += (counts[k]! - e) ** 2 / e;
    bins++;
  }
  if (poolExp > 0) {
    chi2 += (poolObs - poolExp) ** 2 / poolExp;
    bins++;
  }
  const dof = Math.max(1, bins - 1);
  return { chi2, dof, pValue: gammaQ(dof / 2, chi2 / 2) };
}
