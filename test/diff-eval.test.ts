import { describe, expect, it } from 'vitest';
import {
  assertComparable,
  comparisonJson,
  cutoffsFor,
  diffRuns,
  manifestDifferences,
  resolveMetrics,
  topKChanges,
  type DiffInput,
} from '../src/engine/evaluation/diff.js';
import { UsageError } from '../src/engine/errors.js';
import { parseDiffGate } from '../src/engine/evaluation/gate.js';
import { pairedPermutationTest, pairedTTest } from '../src/engine/evaluation/stats.js';
import { diffMarkdown, diffTerminal } from '../src/render/diff-report.js';
import { inputFrom, qid, ranking, scenario } from './diff-eval.fixtures.js';

const METRICS = ['ndcg@10', 'mrr@10', 'recall@100'];

function pair(kind: Parameters<typeof scenario>[0], n = 60, seed = 7): [DiffInput, DiffInput] {
  const s = scenario(kind, n, seed);
  return [inputFrom({ path: 'runs/a', ranks: s.a }), inputFrom({ path: 'runs/b', ranks: s.b })];
}

describe('diffRuns on constructed pairs with known answers', () => {
  it('identical runs: zero deltas, p = 1 for both tests, all ties, gates pass', () => {
    const [a, b] = pair('identical');
    const r = diffRuns(a, b, { metrics: METRICS, gate: parseDiffGate('ndcg@10:-0.01,no-significant-regression') });
    for (const m of r.metrics) {
      expect(m.delta).toBe(0);
      expect(m.p_permutation).toBe(1);
      expect(m.p_t_test).toBe(1);
      expect(m.p_adjusted).toBe(1);
      expect(m.ci.lower).toBe(0);
      expect(m.ci.upper).toBe(0);
      expect([m.wins, m.ties, m.losses]).toEqual([0, 60, 0]);
    }
    expect(r.gate?.passed).toBe(true);
    expect(r.movers.improved).toEqual([]);
    expect(r.movers.regressed).toEqual([]);
  });

  it('planted drop on 40 of 60 queries: significant by both tests, CI below zero, the gate fails naming metric, drop and p', () => {
    const [a, b] = pair('drop');
    const r = diffRuns(a, b, { metrics: METRICS, gate: parseDiffGate('ndcg@10:-0.01') });
    const ndcg = r.metrics.find((m) => m.metric === 'ndcg@10')!;
    // Known by construction: rank 1→5, 2→6, 3→7 on queries i%3 ∈ {0, 1}.
    const g = (rank: number) => 1 / Math.log2(rank + 1);
    const expectedDelta = (20 * (g(5) - g(1)) + 20 * (g(6) - g(2))) / 60;
    expect(ndcg.delta).toBeCloseTo(expectedDelta, 12);
    expect(ndcg.rel_delta).toBeCloseTo(expectedDelta / ndcg.mean_a, 12);
    expect([ndcg.wins, ndcg.ties, ndcg.losses]).toEqual([0, 20, 40]);
    expect(ndcg.ci.upper).toBeLessThan(0);
    expect(ndcg.p_permutation).toBeLessThan(0.001);
    expect(ndcg.p_t_test).toBeLessThan(0.001);
    expect(ndcg.p_adjusted).toBeLessThan(0.05);
    // recall@100 is untouched (the relevant document stays in the top 20).
    expect(r.metrics.find((m) => m.metric === 'recall@100')!.p_permutation).toBe(1);
    expect(r.gate?.passed).toBe(false);
    const msg = r.gate!.results[0].message;
    expect(msg).toContain('ndcg@10');
    expect(msg).toContain(expectedDelta.toFixed(4));
    expect(msg).toMatch(/p=/);
    // The queries that moved most are the ones where the drop was planted, worst first.
    expect(r.movers.regressed).toHaveLength(5);
    for (const m of r.movers.regressed) {
      const i = Number(m.qid.slice(1)) - 1;
      expect(i % 3).not.toBe(2);
      expect(m.delta).toBeCloseTo(g(5) - g(1), 12);
      expect(m.relevant).toEqual([{ doc_id: `${m.qid}-rel`, rank_a: 1, rank_b: 5, rel: 1 }]);
    }
  });

  it('noise only (ranks shuffled across queries): queries move both ways, nothing is significant, gates pass', () => {
    const [a, b] = pair('noise');
    const r = diffRuns(a, b, { metrics: METRICS, gate: parseDiffGate('ndcg@10:-0.01,no-significant-regression') });
    const ndcg = r.metrics.find((m) => m.metric === 'ndcg@10')!;
    expect(ndcg.wins).toBeGreaterThan(10);
    expect(ndcg.losses).toBeGreaterThan(10);
    expect(Math.abs(ndcg.delta)).toBeLessThan(1e-12);
    expect(ndcg.ci.lower).toBeLessThan(0);
    expect(ndcg.ci.upper).toBeGreaterThan(0);
    for (const m of r.metrics) {
      expect(m.p_permutation).toBeGreaterThan(0.5);
      expect(m.p_t_test).toBeGreaterThan(0.5);
    }
    expect(r.gate?.passed).toBe(true);
    expect(r.movers.improved.length).toBeGreaterThan(0);
    expect(r.movers.regressed.length).toBeGreaterThan(0);
  });

  it('under the null (exchangeable runs) the gate rarely fires: false-positive rate near alpha over 60 seeds', () => {
    let rejected = 0;
    const seeds = 60;
    for (let seed = 1; seed <= seeds; seed++) {
      const [a, b] = pair('exchangeable', 40, seed * 101);
      const r = diffRuns(a, b, { metrics: ['ndcg@10'], iterations: 2000, gate: parseDiffGate('no-significant-regression') });
      if (r.metrics[0].p_permutation < 0.05) rejected++;
    }
    // Expected ~3 of 60; 10 or more would mean a badly miscalibrated test (P < 0.001 if calibrated).
    expect(rejected).toBeLessThan(10);
  });

  it('p-values are the stats routines applied to the paired per-query values; Holm adjusts the permutation p', () => {
    const [a, b] = pair('exchangeable', 40, 3);
    const r = diffRuns(a, b, { metrics: METRICS, seed: 9, iterations: 3000 });
    const qids = Object.keys(a.perQuery);
    for (const m of r.metrics) {
      const xa = qids.map((q) => a.perQuery[q][m.metric]);
      const xb = qids.map((q) => b.perQuery[q][m.metric]);
      expect(m.p_permutation).toBe(pairedPermutationTest(xa, xb, { seed: 9, iterations: 3000 }).p);
      expect(m.p_t_test).toBe(pairedTTest(xa, xb).p);
      expect(m.p_adjusted).toBeGreaterThanOrEqual(m.p_permutation);
      expect(m.p_adjusted).toBeLessThanOrEqual(Math.min(1, METRICS.length * m.p_permutation) + 1e-15);
      expect(m.p_t_test_adjusted).toBeGreaterThanOrEqual(m.p_t_test);
    }
    // The smallest raw p is multiplied by the number of metrics.
    const smallest = [...r.metrics].sort((x, y) => x.p_permutation - y.p_permutation)[0];
    expect(smallest.p_adjusted).toBeCloseTo(Math.min(1, smallest.p_permutation * METRICS.length), 15);
  });

  it('is deterministic: same inputs and seed → byte-identical comparison.json; the seed is what changes the resampling', () => {
    const [a, b] = pair('exchangeable', 40, 11);
    const one = comparisonJson(diffRuns(a, b, { metrics: METRICS }));
    const two = comparisonJson(diffRuns(a, b, { metrics: METRICS }));
    expect(one).toBe(two);
    const other = diffRuns(a, b, { metrics: METRICS, seed: 1234 });
    const base = JSON.parse(one);
    expect(other.metrics[0].delta).toBe(base.metrics[0].delta);
    expect(other.metrics[0].ci.lower).not.toBe(base.metrics[0].ci.lower);
  });

  it('relative delta is null when A scores zero', () => {
    const n = 20;
    const a = inputFrom({ path: 'a', ranks: Array(n).fill(15) }); // relevant doc outside the top 10
    const b = inputFrom({ path: 'b', ranks: Array(n).fill(1) });
    const r = diffRuns(a, b, { metrics: ['ndcg@10'] });
    expect(r.metrics[0].mean_a).toBe(0);
    expect(r.metrics[0].rel_delta).toBeNull();
    expect(r.metrics[0].delta).toBe(1);
  });

  it('pairs only the queries both runs have, and reports the rest', () => {
    const s = scenario('drop', 30);
    const a = inputFrom({ path: 'a', ranks: s.a });
    const b = inputFrom({ path: 'b', ranks: s.b });
    delete b.perQuery[qid(0)];
    delete a.perQuery[qid(1)];
    const r = diffRuns(a, b, { metrics: ['ndcg@10'] });
    expect(r.queries.paired).toBe(28);
    expect(r.queries.only_in_a).toEqual([qid(0)]);
    expect(r.queries.only_in_b).toEqual([qid(1)]);
    expect(r.metrics[0].n).toBe(28);
  });

  it('rejects an alpha outside (0, 1)', () => {
    const [a, b] = pair('identical', 10);
    expect(() => diffRuns(a, b, { metrics: ['ndcg@10'], alpha: 1.5 })).toThrow(UsageError);
  });
});

describe('documents that entered or left the top k', () => {
  it('lists them with their ranks on both sides and their grades', () => {
    const q = 'q1';
    const runA = new Map([[q, ranking(q, 12)]]); // relevant doc outside the top 10 in A
    const runB = new Map([[q, ranking(q, 1)]]); // … and first in B
    const qrels = new Map([[q, new Map([[`${q}-rel`, 2], [`${q}-n1`, 0]])]]);
    const { entered, left } = topKChanges(runA, runB, qrels, q, 10);
    expect(entered).toEqual([{ doc_id: `${q}-rel`, rank_a: 12, rank_b: 1, rel: 2 }]);
    // B's top 10 gained the relevant doc, so A's 10th document (a filler) fell to 11th.
    expect(left).toHaveLength(1);
    expect(left[0].rank_a).toBe(10);
    expect(left[0].rank_b).toBe(11);
    expect(left[0].rel).toBeUndefined();
  });

  it('shows where each judged-relevant document went, even inside the top k', () => {
    const q = 'q1';
    const runA = new Map([[q, ranking(q, 1)]]);
    const runB = new Map([[q, ranking(q, 5)]]);
    const qrels = new Map([[q, new Map([[`${q}-rel`, 1], [`${q}-n1`, 0], [`${q}-never`, 2]])]]);
    const { entered, left, relevant } = topKChanges(runA, runB, qrels, q, 10);
    expect(entered).toEqual([]);
    expect(left).toEqual([]);
    expect(relevant).toEqual([
      { doc_id: `${q}-rel`, rank_a: 1, rank_b: 5, rel: 1 },
      { doc_id: `${q}-never`, rank_a: null, rank_b: null, rel: 2 },
    ]);
  });

  it('follows the score order, not the rank column, and marks documents one run never retrieved', () => {
    const q = 'x';
    const runA = new Map([[q, [{ docId: 'd1', score: 1 }, { docId: 'd2', score: 3 }, { docId: 'd3', score: 2 }]]]);
    const runB = new Map([[q, [{ docId: 'd2', score: 5 }, { docId: 'd9', score: 4 }]]]);
    const { entered, left } = topKChanges(runA, runB, null, q, 2);
    // A by score: d2, d3, d1 → top 2 = {d2, d3}. B: d2, d9.
    expect(entered).toEqual([{ doc_id: 'd9', rank_a: null, rank_b: 2 }]);
    expect(left).toEqual([{ doc_id: 'd3', rank_a: 2, rank_b: null }]);
  });

  it('grades a document by its best judged chunk when judgments are on chunks', () => {
    const q = 'x';
    const runA = new Map([[q, [{ docId: 'a', score: 1 }]]]);
    const runB = new Map([[q, [{ docId: 'doc7', score: 1 }]]]);
    const qrels = new Map([[q, new Map([['doc7#0', 1], ['doc7#3', 3]])]]);
    expect(topKChanges(runA, runB, qrels, q, 1).entered[0].rel).toBe(3);
  });

  it('movers carry query text and top-k changes from the runs', () => {
    const s = scenario('noise');
    const a = inputFrom({ path: 'a', ranks: s.a });
    const b = inputFrom({ path: 'b', ranks: s.b });
    const r = diffRuns(a, b, { metrics: ['ndcg@10'], top: 3, k: 10 });
    expect(r.movers.improved).toHaveLength(3);
    const best = r.movers.improved[0];
    expect(best.text).toBe(a.queryTexts[best.qid]);
    const i = Number(best.qid.slice(1)) - 1;
    // When the relevant doc crossed the top-10 boundary, it is listed as entered.
    if (s.a[i] > 10 && s.b[i] <= 10) expect(best.entered.map((d) => d.doc_id)).toContain(`${best.qid}-rel`);
    const deltas = r.movers.improved.map((m) => m.delta);
    expect(deltas).toEqual([...deltas].sort((x, y) => y - x));
  });
});

describe('comparability and metric choice', () => {
  const facts = (model: string, weights: string, golden: string): Array<[string, string]> => [
    ['golden set hash', golden],
    ['model', model],
    ['model weights sha256', weights],
    ['chunker hash', 'c0ffee'],
    ['retrieval mode', model === 'none (BM25 only)' ? 'bm25' : 'hybrid'],
  ];

  it('lists what differs between the manifests', () => {
    const a = inputFrom({ path: 'a', ranks: [1, 2], facts: facts('none (BM25 only)', '—', 'g1') });
    const b = inputFrom({ path: 'b', ranks: [1, 2], facts: facts('BAAI/bge-small-en-v1.5', 'abc123', 'g1') });
    const d = manifestDifferences(a, b);
    expect(d.map((x) => x.field)).toEqual(['model', 'model weights sha256', 'retrieval mode']);
    expect(d[0]).toEqual({ field: 'model', a: 'none (BM25 only)', b: 'BAAI/bge-small-en-v1.5' });
  });

  it('refuses different golden sets with exit code 2 and the differences, unless forced', () => {
    const a = inputFrom({ path: 'runs/a', ranks: [1, 2], goldenHash: 'aaaa1111', facts: facts('m1', 'w1', 'aaaa1111') });
    const b = inputFrom({ path: 'runs/b', ranks: [1, 2], goldenHash: 'bbbb2222', facts: facts('m2', 'w1', 'bbbb2222') });
    let err: unknown;
    try {
      assertComparable(a, b, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toContain('golden set hash: aaaa1111 → bbbb2222');
    expect((err as UsageError).message).toContain('model: m1 → m2');
    expect((err as UsageError).fix).toContain('--force');
    expect(() => assertComparable(a, b, true)).not.toThrow();
    expect(diffRuns(a, b, { metrics: ['ndcg@10'], forced: true }).forced).toBe(true);
  });

  it('defaults to ndcg@10, mrr@10, recall@100, adds gated metrics, and refuses metrics one side lacks', () => {
    const [a, b] = pair('identical', 10);
    expect(resolveMetrics([], [], a, b)).toEqual(['ndcg@10', 'mrr@10', 'recall@100']);
    expect(resolveMetrics(['P@5'], parseDiffGate('ndcg@3:-0.02'), a, b)).toEqual(['precision@5', 'ndcg@3']);
    expect(() => resolveMetrics(['ndcg@20'], [], a, b)).toThrow(/ndcg@20 is not in runs\/a and runs\/b/);
    expect(() => resolveMetrics(['nonsense'], [], a, b)).toThrow(UsageError);
    b.metrics = b.metrics.filter((m) => m !== 'mrr@10');
    expect(resolveMetrics([], [], a, b)).toEqual(['ndcg@10', 'recall@100']);
  });

  it('computes the cutoffs a run file must be scored at', () => {
    expect(cutoffsFor(['ndcg@20', 'map', 'recall@1000'])).toEqual([1, 3, 5, 10, 20, 100, 1000]);
  });
});

describe('reports', () => {
  it('the terminal table and the Markdown report show every metric row, the p-values and the movers', () => {
    const [a, b] = pair('drop');
    const r = diffRuns(a, b, { metrics: METRICS, gate: parseDiffGate('ndcg@10:-0.01') });
    const term = diffTerminal(r);
    for (const m of METRICS) expect(term).toContain(m);
    expect(term).toContain('p (perm)');
    expect(term).toContain('Regressed most (ndcg@10)');
    const md = diffMarkdown(r);
    expect(md).toContain('**Gate failed**');
    expect(md).toMatch(/\| ndcg@10 \| 0\.7103 \| 0\.4144 \| −0\.2960 \|/);
    expect(md).toContain('### Queries that regressed most (ndcg@10)');
    // Significant rows have the adjusted p in bold.
    expect(md).toMatch(/\*\*0\.0003\*\*/);
  });
});
