/**
 * Paired statistics for `rag diff-eval`: is run B really better or worse than run A on the same
 * queries, or is the difference noise?
 *
 * Everything is deterministic: the random tests draw from a seeded PRNG (mulberry32, default seed
 * 42), so the same inputs always give the same p-values and intervals — a CI gate must not flake.
 * Differences are always b − a (positive = B is better for a higher-is-better metric).
 */
import { sortedQids } from './qrels.js';

export const DEFAULT_SEED = 42;
export const DEFAULT_ITERATIONS = 10_000;
/** Up to this many queries the permutation test enumerates all 2^n sign patterns exactly. */
export const EXACT_PERMUTATION_MAX_N = 16;

/** mulberry32: tiny, fast, good enough for resampling; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function differences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return a.map((x, i) => b[i] - x);
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number;
  confidence?: number;
}

export interface ConfidenceInterval {
  /** Observed mean of b − a. */
  mean: number;
  lower: number;
  upper: number;
  confidence: number;
}

/**
 * Percentile bootstrap CI of mean(b − a): resample queries with replacement, take the
 * (α/2, 1 − α/2) order statistics of the resampled means.
 */
export function pairedBootstrapCI(a: readonly number[], b: readonly number[], opts: BootstrapOptions = {}): ConfidenceInterval {
  const d = differences(a, b);
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const observed = mean(d);
  const n = d.length;
  if (n === 0) return { mean: 0, lower: 0, upper: 0, confidence };
  const rand = mulberry32(opts.seed ?? DEFAULT_SEED);
  const means = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    means[it] = s / n;
  }
  means.sort();
  const alpha = 1 - confidence;
  const lo = Math.min(iterations - 1, Math.max(0, Math.floor((alpha / 2) * iterations)));
  const hi = Math.min(iterations - 1, Math.max(0, Math.ceil((1 - alpha / 2) * iterations) - 1));
  return { mean: observed, lower: means[lo], upper: means[hi], confidence };
}

export interface PermutationOptions {
  iterations?: number;
  seed?: number;
}

export interface PermutationResult {
  p: number;
  /** True when all 2^n sign patterns were enumerated (no sampling error). */
  exact: boolean;
}

/**
 * Two-sided paired permutation (sign-flip) test of mean(b − a) = 0. Under the null each
 * difference is equally likely to have either sign; p is the share of sign patterns whose |sum|
 * is at least the observed |sum|. Exact for n ≤ 16; otherwise Monte Carlo with the +1 correction,
 * p = (count + 1) / (iterations + 1), which never reports an impossible p = 0.
 */
export function pairedPermutationTest(a: readonly number[], b: readonly number[], opts: PermutationOptions = {}): PermutationResult {
  const d = differences(a, b);
  const n = d.length;
  if (n === 0) return { p: 1, exact: true };
  let observed = 0;
  let scale = 0;
  for (const x of d) {
    observed += x;
    scale += Math.abs(x);
  }
  observed = Math.abs(observed);
  // Sums are accumulated in different orders; treat |sum| within rounding noise of observed as ≥.
  const threshold = observed - 1e-9 * Math.max(scale, 1e-300);

  if (n <= EXACT_PERMUTATION_MAX_N) {
    const patterns = 2 ** n;
    let count = 0;
    for (let mask = 0; mask < patterns; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(s) >= threshold) count++;
    }
    return { p: count / patterns, exact: true };
  }

  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const rand = mulberry32(opts.seed ?? DEFAULT_SEED);
  let count = 0;
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rand() < 0.5 ? -d[i] : d[i];
    if (Math.abs(s) >= threshold) count++;
  }
  return { p: (count + 1) / (iterations + 1), exact: false };
}

export interface TTestResult {
  t: number;
  df: number;
  p: number;
}

/**
 * Two-sided paired Student t-test on b − a. No variance: identical runs give t = 0, p = 1; a
 * constant non-zero shift gives t = ±∞, p = 0. Fewer than two pairs: t = 0, p = 1.
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): TTestResult {
  const d = differences(a, b);
  const n = d.length;
  if (n < 2) return { t: 0, df: Math.max(0, n - 1), p: 1 };
  const m = mean(d);
  let ss = 0;
  for (const x of d) ss += (x - m) ** 2;
  const df = n - 1;
  const sd = Math.sqrt(ss / df);
  // Relative test: a spread at rounding level around a mean is "no variance".
  if (sd <= 1e-12 * Math.max(Math.abs(m), 1e-300) || sd === 0) {
    if (Math.abs(m) <= 1e-15) return { t: 0, df, p: 1 };
    return { t: m > 0 ? Infinity : -Infinity, df, p: 0 };
  }
  const t = m / (sd / Math.sqrt(n));
  return { t, df, p: studentTwoSidedP(t, df) };
}

/** P(|T| ≥ |t|) for Student's t with df degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? 1 : 0;
  const x = df / (df + t * t);
  return Math.min(1, Math.max(0, regularizedIncompleteBeta(x, df / 2, 0.5)));
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** I_x(a, b), the regularized incomplete beta function (continued fraction, modified Lentz). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The continued fraction converges fast only for x < (a+1)/(a+b+2); use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-15;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/**
 * Holm–Bonferroni step-down adjustment: sort ascending, multiply the i-th smallest (0-based) by
 * (m − i), carry the running maximum so adjusted values stay monotone, cap at 1. Returned in
 * the input order. Reject H_i at level α iff adjusted_i ≤ α.
 */
export function holmBonferroni(pvalues: readonly number[]): number[] {
  const m = pvalues.length;
  const order = pvalues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface WinsTiesLosses {
  /** b better than a by more than eps. */
  wins: number;
  ties: number;
  losses: number;
}

export function winsTiesLosses(a: readonly number[], b: readonly number[], eps = 1e-9): WinsTiesLosses {
  const d = differences(a, b);
  const out = { wins: 0, ties: 0, losses: 0 };
  for (const x of d) {
    if (x > eps) out.wins++;
    else if (x < -eps) out.losses++;
    else out.ties++;
  }
  return out;
}

export type SignificanceTest = 'permutation' | 't-test';

export interface CompareOptions {
  test?: SignificanceTest;
  iterations?: number;
  seed?: number;
  confidence?: number;
}

export interface MetricComparison {
  metric: string;
  /** Number of paired queries. */
  n: number;
  mean_a: number;
  mean_b: number;
  /** mean_b − mean_a. */
  delta: number;
  ci: { lower: number; upper: number; confidence: number };
  test: SignificanceTest;
  p: number;
  /** Holm–Bonferroni adjusted across the metrics of one comparison. */
  p_adjusted: number;
  wins: number;
  ties: number;
  losses: number;
}

export interface RunComparison {
  /** Queries present in both runs (the ones compared), sorted. */
  qids: string[];
  only_in_a: string[];
  only_in_b: string[];
  comparisons: MetricComparison[];
}

/**
 * Compare two runs' per-query metrics on the queries they share. Each metric gets a bootstrap CI
 * of the mean difference and a p-value; p-values are Holm-adjusted across the metrics.
 */
export function compareRuns(
  perQueryA: Record<string, Record<string, number>>,
  perQueryB: Record<string, Record<string, number>>,
  metrics: readonly string[],
  opts: CompareOptions = {},
): RunComparison {
  const inB = new Set(Object.keys(perQueryB));
  const inA = new Set(Object.keys(perQueryA));
  const qids = sortedQids(Object.keys(perQueryA).filter((q) => inB.has(q)));
  const test = opts.test ?? 'permutation';
  const raw = metrics.map((metric) => {
    const a = qids.map((q) => perQueryA[q][metric] ?? 0);
    const b = qids.map((q) => perQueryB[q][metric] ?? 0);
    const ci = pairedBootstrapCI(a, b, opts);
    const p = test === 't-test' ? pairedTTest(a, b).p : pairedPermutationTest(a, b, opts).p;
    const meanA = mean(a);
    const meanB = mean(b);
    return {
      metric, n: qids.length, mean_a: meanA, mean_b: meanB, delta: meanB - meanA,
      ci: { lower: ci.lower, upper: ci.upper, confidence: ci.confidence }, test, p,
      ...winsTiesLosses(a, b),
    };
  });
  const adjusted = holmBonferroni(raw.map((r) => r.p));
  return {
    qids,
    only_in_a: sortedQids([...inA].filter((q) => !inB.has(q))),
    only_in_b: sortedQids([...inB].filter((q) => !inA.has(q))),
    comparisons: raw.map((r, i) => ({ ...r, p_adjusted: adjusted[i] })),
  };
}

/** The t with P(|T| ≥ t) = p for Student's t with df degrees of freedom (bisection on the CDF). */
export function studentQuantileTwoSided(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  let lo = 0;
  let hi = 1;
  while (studentTwoSidedP(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTwoSidedP(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface TestPower {
  /** Smallest p the sign-flip test can give on these differences. */
  min_p: number;
  /** Minimum detectable |mean difference| at the given power; null with fewer than 2 pairs. */
  mde: number | null;
}

/**
 * What a paired comparison can detect on this set, so a gate can tell "no significant drop" from
 * "too few queries to know":
 * - min_p: with m non-zero differences, only the observed sign pattern and its mirror image are as
 *   extreme as an all-one-sign result, so the exact test never goes below 2 / 2^m (and the Monte
 *   Carlo test never below 1 / (iterations + 1)).
 * - mde: the smallest true mean difference found with probability `power` (default 0.8) by a
 *   two-sided test at `alpha`, from the spread of the paired differences (paired t approximation):
 *   (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n.
 */
export function testPower(a: readonly number[], b: readonly number[], alpha: number, opts: { power?: number; iterations?: number } = {}): TestPower {
  const d = differences(a, b);
  const n = d.length;
  const nonZero = d.filter((x) => x !== 0).length;
  let minP = nonZero === 0 ? 1 : Math.min(1, 2 / 2 ** nonZero);
  if (n > EXACT_PERMUTATION_MAX_N) minP = Math.max(minP, 1 / ((opts.iterations ?? DEFAULT_ITERATIONS) + 1));
  if (n < 2) return { min_p: minP, mde: null };
  const m = mean(d);
  let ss = 0;
  for (const x of d) ss += (x - m) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const power = opts.power ?? 0.8;
  const df = n - 1;
  const tAlpha = studentQuantileTwoSided(alpha, df);
  // One-sided power quantile: P(T > t) = 1 − power, i.e. two-sided p = 2 (1 − power).
  const tPower = studentQuantileTwoSided(2 * (1 - power), df);
  return { min_p: minP, mde: ((tAlpha + tPower) * sd) / Math.sqrt(n) };
}
