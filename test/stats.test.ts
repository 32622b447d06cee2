import { describe, expect, it } from 'vitest';
import {
  compareRuns,
  holmBonferroni,
  logGamma,
  mulberry32,
  pairedBootstrapCI,
  pairedPermutationTest,
  pairedTTest,
  regularizedIncompleteBeta,
  studentTwoSidedP,
  winsTiesLosses,
} from '../src/engine/evaluation/stats.js';

/** Standard normal draws (Box–Muller) from an independent generator, for building test data. */
function normals(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

describe('paired permutation test', () => {
  it('matches a hand enumeration: d = [1, 2, 3]', () => {
    // 8 sign patterns, sums: +6, +4, +2, 0, 0, -2, -4, -6. |sum| ≥ 6 in 2 of 8 → p = 0.25.
    const r = pairedPermutationTest([0, 0, 0], [1, 2, 3]);
    expect(r.exact).toBe(true);
    expect(r.p).toBe(0.25);
  });

  it('matches a hand enumeration with equal magnitudes: d = [1, 1, 1, 1, -1]', () => {
    // Each flipped term is ±1, so sum = 2k − 5 with k = number of + terms (binomial(5, k) patterns).
    // |2k − 5| ≥ 3 ⇔ k ∈ {0, 1, 4, 5}: 1 + 5 + 5 + 1 = 12 of 32 → p = 0.375. The equal-magnitude
    // ties must all count, which is why the comparison tolerates rounding.
    const r = pairedPermutationTest([0.1, 0.2, 0.3, 0.4, 0.5], [1.1, 1.2, 1.3, 1.4, -0.5]);
    expect(r.p).toBeCloseTo(0.375, 12);
  });

  it('gives p = 1 for identical runs, exact and sampled', () => {
    const a = Array.from({ length: 40 }, (_, i) => (i % 7) / 7);
    expect(pairedPermutationTest(a.slice(0, 10), a.slice(0, 10)).p).toBe(1);
    const sampled = pairedPermutationTest(a, a, { iterations: 500 });
    expect(sampled.exact).toBe(false);
    expect(sampled.p).toBe(1);
  });

  it('is deterministic for a seed and uses the +1 correction', () => {
    const a = normals(30, 1);
    const b = a.map((x, i) => x + 0.3 + 0.5 * normals(30, 2)[i]);
    const p1 = pairedPermutationTest(a, b, { iterations: 999, seed: 7 }).p;
    expect(pairedPermutationTest(a, b, { iterations: 999, seed: 7 }).p).toBe(p1);
    expect(p1 * 1000).toBeCloseTo(Math.round(p1 * 1000), 9); // (count + 1) / (999 + 1)
    expect(p1).toBeGreaterThanOrEqual(1 / 1000);
  });
});

describe('paired t-test', () => {
  it('reproduces textbook critical values', () => {
    expect(studentTwoSidedP(2.262, 9)).toBeCloseTo(0.05, 3);
    expect(studentTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(studentTwoSidedP(1.96, 1e6)).toBeCloseTo(0.05, 4);
    expect(studentTwoSidedP(2.576, 1e6)).toBeCloseTo(0.01, 4);
    expect(studentTwoSidedP(3.25, 9)).toBeCloseTo(0.01, 3);
    expect(studentTwoSidedP(0, 5)).toBe(1);
  });

  it('agrees with the closed forms for df = 1 (Cauchy) and df = 2', () => {
    for (const t of [0.3, 1, 2.5, 10]) {
      expect(studentTwoSidedP(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(t), 10);
      expect(studentTwoSidedP(-t, 2)).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 10);
    }
  });

  it('computes t and p for a small hand case', () => {
    // d = [1, 2, 3]: mean 2, sd 1, t = 2 / (1 / √3) = 2√3, df = 2, p = 1 − t / √(2 + t²) = 1 − 2√3/√14
    const r = pairedTTest([0, 0, 0], [1, 2, 3]);
    expect(r.df).toBe(2);
    expect(r.t).toBeCloseTo(2 * Math.sqrt(3), 12);
    expect(r.p).toBeCloseTo(1 - (2 * Math.sqrt(3)) / Math.sqrt(14), 10);
  });

  it('handles zero variance', () => {
    expect(pairedTTest([0.5, 0.2, 0.9], [0.5, 0.2, 0.9])).toEqual({ t: 0, df: 2, p: 1 });
    const shift = pairedTTest([0.5, 0.2, 0.9], [0.6, 0.3, 1.0]);
    expect(shift.p).toBe(0);
    expect(shift.t).toBe(Infinity);
  });

  it('special functions agree with known values', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    // I_x(1, 1) = x; I_x(a, 1) = x^a
    expect(regularizedIncompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(regularizedIncompleteBeta(0.7, 3, 1)).toBeCloseTo(0.343, 12);
  });
});

describe('Holm–Bonferroni', () => {
  it('matches a hand example', () => {
    // sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → monotone 0.06
    const adj = holmBonferroni([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
  });

  it('caps at 1 and handles empty input', () => {
    expect(holmBonferroni([0.5, 0.6])).toEqual([1, 1]);
    expect(holmBonferroni([])).toEqual([]);
  });
});

describe('bootstrap CI', () => {
  const n = 60;
  const a = normals(n, 11).map((x) => 0.5 + 0.1 * x);
  const noise = normals(n, 12);
  const b = a.map((x, i) => x + 0.1 + 0.05 * noise[i]);

  it('contains the planted mean difference and excludes zero', () => {
    const ci = pairedBootstrapCI(a, b, { seed: 3 });
    expect(ci.lower).toBeLessThan(0.1);
    expect(ci.upper).toBeGreaterThan(0.1);
    expect(ci.lower).toBeGreaterThan(0);
    expect(ci.lower).toBeLessThan(ci.mean);
    expect(ci.upper).toBeGreaterThan(ci.mean);
    // width close to the normal-theory 2 × 1.96 × sd / √n (sd ≈ 0.05)
    expect(ci.upper - ci.lower).toBeGreaterThan(0.015);
    expect(ci.upper - ci.lower).toBeLessThan(0.04);
  });

  it('is deterministic for a fixed seed, and a wider confidence gives a wider interval', () => {
    expect(pairedBootstrapCI(a, b, { seed: 5 })).toEqual(pairedBootstrapCI(a, b, { seed: 5 }));
    const c90 = pairedBootstrapCI(a, b, { seed: 5, confidence: 0.9 });
    const c99 = pairedBootstrapCI(a, b, { seed: 5, confidence: 0.99 });
    expect(c99.upper - c99.lower).toBeGreaterThan(c90.upper - c90.lower);
  });

  it('collapses to a point for identical runs', () => {
    expect(pairedBootstrapCI(a, a)).toMatchObject({ mean: 0, lower: 0, upper: 0 });
  });
});

describe('significance on planted effects', () => {
  it('a planted drop on many queries is significant under both tests', () => {
    const n = 100;
    const a = normals(n, 21).map((x) => 0.6 + 0.15 * x);
    const noise = normals(n, 22);
    const b = a.map((x, i) => x - 0.04 + 0.08 * noise[i]);
    expect(pairedPermutationTest(a, b).p).toBeLessThan(0.001);
    expect(pairedTTest(a, b).p).toBeLessThan(0.001);
    expect(pairedTTest(a, b).t).toBeLessThan(0);
    const wtl = winsTiesLosses(a, b);
    expect(wtl.losses).toBeGreaterThan(wtl.wins);
    expect(wtl.wins + wtl.ties + wtl.losses).toBe(n);
  });

  it('pure noise is rarely significant: false-positive rate near alpha over many datasets', () => {
    let permHits = 0;
    let tHits = 0;
    const trials = 100;
    for (let s = 0; s < trials; s++) {
      const a = normals(30, 1000 + s);
      const noise = normals(30, 5000 + s);
      const b = a.map((x, i) => x + 0.2 * noise[i]);
      if (pairedPermutationTest(a, b, { iterations: 2000, seed: s }).p < 0.05) permHits++;
      if (pairedTTest(a, b).p < 0.05) tHits++;
    }
    expect(permHits / trials).toBeLessThan(0.12);
    expect(tHits / trials).toBeLessThan(0.12);
  });

  it('winsTiesLosses treats differences within eps as ties', () => {
    expect(winsTiesLosses([0, 0, 0, 0.5], [1, 0, 1e-12, 0.25])).toEqual({ wins: 1, ties: 2, losses: 1 });
  });
});

describe('compareRuns', () => {
  it('pairs shared queries, adjusts p-values across metrics, reports one-sided queries', () => {
    const perA: Record<string, Record<string, number>> = {};
    const perB: Record<string, Record<string, number>> = {};
    const x = normals(40, 31);
    for (let i = 0; i < 40; i++) {
      perA[`q${i}`] = { 'ndcg@10': 0.5 + 0.1 * x[i], 'recall@100': 0.8 };
      perB[`q${i}`] = { 'ndcg@10': 0.5 + 0.1 * x[i] - 0.05 - 0.01 * (i % 3), 'recall@100': 0.8 };
    }
    perA.onlyA = { 'ndcg@10': 1, 'recall@100': 1 };
    perB.onlyB = { 'ndcg@10': 0, 'recall@100': 0 };
    const r = compareRuns(perA, perB, ['ndcg@10', 'recall@100'], { iterations: 2000 });
    expect(r.qids).toHaveLength(40);
    expect(r.only_in_a).toEqual(['onlyA']);
    expect(r.only_in_b).toEqual(['onlyB']);
    const [ndcg, recall] = r.comparisons;
    expect(ndcg.delta).toBeCloseTo(-0.05 - 0.01 * (13 * 1 + 13 * 2) / 40, 12);
    expect(ndcg.p).toBeLessThan(0.01);
    expect(ndcg.p_adjusted).toBeGreaterThanOrEqual(ndcg.p);
    expect(ndcg.ci.upper).toBeLessThan(0);
    expect(recall.p).toBe(1);
    expect(recall.delta).toBe(0);
    expect(JSON.stringify(compareRuns(perA, perB, ['ndcg@10', 'recall@100'], { iterations: 2000 }))).toBe(JSON.stringify(r));
  });
});
