import { describe, expect, it } from 'vitest';
import {
  cohensKappa,
  coincidenceMatrix,
  disagreements,
  krippendorffAlpha,
  percentAgreement,
} from '../src/engine/labeling/agreement.js';

describe('cohensKappa', () => {
  it('matches a 2×2 table worked by hand', () => {
    // Table (rows = labeler A, cols = labeler B), n = 10:
    //            B=1  B=0
    //   A=1       4    2     (A marginal 6)
    //   A=0       1    3     (A marginal 4)
    //   B marg    5    5
    // p_o = (4+3)/10 = 0.7; p_e = 0.6·0.5 + 0.4·0.5 = 0.5; κ = (0.7−0.5)/(1−0.5) = 0.4
    const a = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    const b = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0];
    expect(cohensKappa(a, b)).toBeCloseTo(0.4, 12);
  });

  // Graded 0–3, 8 items:
  //   A = 0 1 2 3 3 2 1 0
  //   B = 0 2 2 3 2 2 0 1
  // A marginals: 0.25 each grade. B marginals: 0→0.25, 1→0.125, 2→0.5, 3→0.125.
  // Unweighted: p_o = 4/8 (items 1,3,4,6 agree); p_e = 0.25·(0.25+0.125+0.5+0.125) = 0.25;
  //   κ = (0.5−0.25)/0.75 = 1/3.
  // Linear (w = |i−j|): observed mean |A−B| = (0+1+0+0+1+0+1+1)/8 = 0.5.
  //   Expected: 0.25 · Σ_j pB_j·Σ_i|i−j|, with Σ_i|i−j| = 6,4,4,6 for j = 0..3
  //   = 0.25·(0.25·6 + 0.125·4 + 0.5·4 + 0.125·6) = 0.25·4.75 = 1.1875; κ = 1 − 0.5/1.1875 = 11/19.
  // Quadratic (w = (i−j)²): observed 0.5 (all differences are ±1).
  //   Σ_i (i−j)² = 14,6,6,14 → expected 0.25·(3.5 + 0.75 + 3 + 1.75) = 2.25; κ = 1 − 0.5/2.25 = 7/9.
  const A = [0, 1, 2, 3, 3, 2, 1, 0];
  const B = [0, 2, 2, 3, 2, 2, 0, 1];
  it('matches a 4×4 graded table worked by hand (unweighted, linear, quadratic)', () => {
    expect(cohensKappa(A, B)).toBeCloseTo(1 / 3, 12);
    expect(cohensKappa(A, B, { weights: 'linear' })).toBeCloseTo(11 / 19, 12);
    expect(cohensKappa(A, B, { weights: 'quadratic' })).toBeCloseTo(7 / 9, 12);
  });

  it('is 1 for identical labels, symmetric, and NaN without variation', () => {
    expect(cohensKappa(A, A)).toBe(1);
    expect(cohensKappa(B, A, { weights: 'quadratic' })).toBeCloseTo(cohensKappa(A, B, { weights: 'quadratic' }), 12);
    expect(cohensKappa([2, 2, 2], [2, 2, 2])).toBeNaN();
  });

  it('rejects mismatched lengths', () => {
    expect(() => cohensKappa([1, 2], [1])).toThrow(/length/);
  });
});

describe('krippendorffAlpha — Krippendorff (2011) example: 4 coders × 12 units, missing values', () => {
  // Rows are coders A–D, columns units 1–12; null = not coded.
  const data = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
    [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
  ];

  // Hand derivation. Each unit with m_u ≥ 2 values adds 1/(m_u−1) per ordered pair of values:
  //   u1 {1,1,1}: o11 += 3          u2 {2,2,3,2}: o22 += 2, o23 += 1, o32 += 1
  //   u3, u4 {3,3,3,3}: o33 += 4+4  u5, u9 {2,2,2,2}: o22 += 4+4
  //   u6 {1,2,3,4}: each off-diagonal pair among 1..4 += 1/3
  //   u7 {4,4,4,4}: o44 += 4        u8 {1,1,2,1}: o11 += 2, o12 += 1, o21 += 1
  //   u10 {5,5,5}: o55 += 3         u11 {1,1}: o11 += 2        u12 {3}: unpairable, skipped
  // ⇒ o11 = 7, o22 = 10, o33 = 8, o44 = 4, o55 = 3; o12 = o21 = o23 = o32 = 4/3;
  //   o13 = o14 = o24 = o34 (and mirrors) = 1/3.
  // Marginals n_1..n_5 = 9, 13, 10, 5, 3; n = 40.
  it('builds the coincidence matrix derived by hand', () => {
    const cm = coincidenceMatrix(data);
    expect(cm.values).toEqual([1, 2, 3, 4, 5]);
    expect(cm.n).toBeCloseTo(40, 12);
    cm.marginals.forEach((m, i) => expect(m).toBeCloseTo([9, 13, 10, 5, 3][i], 12));
    expect(cm.o[0][0]).toBeCloseTo(7, 12);
    expect(cm.o[1][1]).toBeCloseTo(10, 12);
    expect(cm.o[0][1]).toBeCloseTo(4 / 3, 12);
    expect(cm.o[2][3]).toBeCloseTo(1 / 3, 12);
    expect(cm.o[4][4]).toBeCloseTo(3, 12);
  });

  it('nominal α = 0.743', () => {
    // Σ off-diagonal o = 40 − (7+10+8+4+3) = 8; Σ n_c² = 81+169+100+25+9 = 384
    // α = 1 − (n−1)·8 / (n² − Σ n_c²) = 1 − 39·8/1216 = 0.743421…
    expect(krippendorffAlpha(data, 'nominal')).toBeCloseTo(1 - 312 / 1216, 12);
    expect(krippendorffAlpha(data, 'nominal')).toBeCloseTo(0.743, 3);
  });

  it('interval α = 0.849', () => {
    // Σ o·(c−k)² = 2·[4/3·1 + 1/3·4 + 1/3·9 + 4/3·1 + 1/3·4 + 1/3·1] = 52/3
    // Σ_{c<k} n_c n_k (c−k)² = 117+360+405+432+130+260+351+50+120+15 = 2240 (×2 ordered = 4480)
    // α = 1 − 39·(52/3)/4480 = 1 − 2028/13440 = 0.849107…
    expect(krippendorffAlpha(data, 'interval')).toBeCloseTo(1 - 2028 / 13440, 12);
    expect(krippendorffAlpha(data, 'interval')).toBeCloseTo(0.849, 3);
  });

  it('ordinal α = 0.815', () => {
    // δ²(c,k) = (Σ_{g=c..k} n_g − (n_c+n_k)/2)²:
    //   (1,2) 11² = 121, (1,3) 22.5² = 506.25, (1,4) 30² = 900, (1,5) 34² = 1156, (2,3) 11.5² = 132.25,
    //   (2,4) 19² = 361, (2,5) 23² = 529, (3,4) 7.5² = 56.25, (3,5) 11.5² = 132.25, (4,5) 4² = 16
    // Observed Σ o δ² = 2·[4/3·121 + 1/3·506.25 + 1/3·900 + 4/3·132.25 + 1/3·361 + 1/3·56.25] = 1891
    // Expected Σ_{c<k} n_c n_k δ² = 199740 (×2 = 399480)
    // α = 1 − 39·1891/399480 = 0.815387…
    expect(krippendorffAlpha(data, 'ordinal')).toBeCloseTo(1 - (39 * 1891) / 399480, 12);
    expect(krippendorffAlpha(data, 'ordinal')).toBeCloseTo(0.815, 3);
  });

  it('ratio α = 0.797', () => {
    // δ² = ((c−k)/(c+k))². Observed Σ o δ² = 8/27 + 1/6 + 0.24 + 0.32/3 + 2/27 + 2/147 = 0.897309…
    // Expected Σ_{c<k} n_c n_k δ² = 13 + 22.5 + 16.2 + 12 + 5.2 + 65/9 + 39·9/49 + 50/49 + 1.875 + 15/81
    //   = 86.36608… (×2 ordered); α = 1 − 39·0.897309/172.73216 = 0.797402…
    expect(krippendorffAlpha(data, 'ratio')).toBeCloseTo(0.797402, 5);
  });

  it('is 1 for perfect agreement and NaN when there is nothing to disagree about', () => {
    expect(krippendorffAlpha([[0, 1, 2, 3], [0, 1, 2, 3], [0, null, 2, 3]], 'ordinal')).toBe(1);
    expect(krippendorffAlpha([[2, 2], [2, 2]], 'nominal')).toBeNaN();
    expect(krippendorffAlpha([[1, null], [null, 2]], 'nominal')).toBeNaN();
  });

  it('corrects for chance: below raw percent agreement when labelers disagree', () => {
    const two = [A2(), B2()];
    expect(krippendorffAlpha(two, 'nominal')).toBeLessThan(percentAgreement(two));
  });
});

function A2(): number[] {
  return [0, 1, 2, 3, 3, 2, 1, 0];
}
function B2(): number[] {
  return [0, 2, 2, 3, 2, 2, 0, 1];
}

describe('percentAgreement', () => {
  it('two labelers: share of co-graded items with equal grades; tolerance gives adjacent agreement', () => {
    expect(percentAgreement([A2(), B2()])).toBeCloseTo(0.5, 12);
    // |A−B| ≤ 1 everywhere in this pair
    expect(percentAgreement([A2(), B2()], { tolerance: 1 })).toBe(1);
  });

  it('several labelers with missing values: mean over items of agreeing pairs', () => {
    // item 1: {1,1,2} → 1 of 3 pairs agree; item 2: {0,0} → 1/1; item 3: only one grade → skipped
    const data = [
      [1, 0, 3],
      [1, null, null],
      [2, 0, null],
    ];
    expect(percentAgreement(data)).toBeCloseTo((1 / 3 + 1) / 2, 12);
  });
});

describe('disagreements', () => {
  const items = [
    { id: 'q1/d1', labels: [3, 3, 2] },
    { id: 'q1/d2', labels: [0, 2, null] },
    { id: 'q2/d7', labels: [3, 0, 1] },
    { id: 'q3/d1', labels: [1, null, null] },
  ];
  it('graded: flags spread ≥ 2, widest first; single grades are not disagreements', () => {
    expect(disagreements(items, { graded: true }).map((d) => [d.id, d.spread])).toEqual([
      ['q2/d7', 3],
      ['q1/d2', 2],
    ]);
  });
  it('nominal: any difference; minSpread overrides', () => {
    expect(disagreements(items).map((d) => d.id)).toEqual(['q2/d7', 'q1/d2', 'q1/d1']);
    expect(disagreements(items, { minSpread: 3 }).map((d) => d.id)).toEqual(['q2/d7']);
  });
});
