import { describe, expect, it } from 'vitest';
import {
  checkDiffGate,
  checkGate,
  describeGateResult,
  normaliseMetricName,
  parseDiffGate,
  parseGate,
} from '../src/engine/evaluation/gate.js';
import { UsageError } from '../src/engine/errors.js';
import type { MetricComparison } from '../src/engine/evaluation/stats.js';
import { junitXml } from '../src/render/junit.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseGate', () => {
  it('reads rules with every operator, spaces allowed', () => {
    expect(parseGate('ndcg@10>=0.62, recall@100 >= 0.9,p95_ms<=300,mrr>0.5,num_ret<1000')).toEqual([
      { metric: 'ndcg@10', op: '>=', threshold: 0.62, source: 'ndcg@10 >= 0.62' },
      { metric: 'recall@100', op: '>=', threshold: 0.9, source: 'recall@100 >= 0.9' },
      { metric: 'p95_ms', op: '<=', threshold: 300, source: 'p95_ms <= 300' },
      { metric: 'mrr', op: '>', threshold: 0.5, source: 'mrr > 0.5' },
      { metric: 'num_ret', op: '<', threshold: 1000, source: 'num_ret < 1000' },
    ]);
  });

  it('accepts trec_eval spellings', () => {
    expect(normaliseMetricName('P@10')).toBe('precision@10');
    expect(normaliseMetricName('P_5')).toBe('precision@5');
    expect(normaliseMetricName('ndcg_cut_10')).toBe('ndcg@10');
    expect(normaliseMetricName('success_1')).toBe('hit@1');
    expect(normaliseMetricName('recip_rank')).toBe('mrr');
    expect(normaliseMetricName('NDCG@10')).toBe('ndcg@10');
    expect(normaliseMetricName('Rprec')).toBe('rprec');
    expect(normaliseMetricName('bogus')).toBeUndefined();
  });

  it('rejects unknown metrics with the closest suggestion', () => {
    const e = usageError(() => parseGate('ndgc@10>=0.5'));
    expect(e.message).toMatch(/unknown metric "ndgc@10"/);
    expect(e.fix).toMatch(/did you mean ndcg@10\?/);
    expect(usageError(() => parseGate('recal@100>=0.9')).fix).toMatch(/recall@100/);
    expect(usageError(() => parseGate('p59_ms<=10')).fix).toMatch(/p50_ms|p95_ms/);
  });

  it('rejects bad syntax and non-numbers', () => {
    expect(usageError(() => parseGate('ndcg@10 => 0.5')).message).toMatch(/cannot read gate/);
    expect(usageError(() => parseGate('ndcg@10')).message).toMatch(/cannot read gate/);
    expect(usageError(() => parseGate('ndcg@10>=high')).message).toMatch(/"high" is not a number/);
    expect(usageError(() => parseGate('ndcg@10>=')).message).toMatch(/not a number/);
    expect(usageError(() => parseGate(' , ')).message).toMatch(/empty gate/);
  });
});

describe('checkGate', () => {
  const rules = parseGate('ndcg@10>=0.62,recall@100>=0.9,p95_ms<=300,mrr>0.5,map@10>=0.1');
  const values = { 'ndcg@10': 0.6, 'recall@100': 0.95, p95_ms: 310, mrr: 0.5 };

  it('passes and fails each rule with the right margin', () => {
    const out = checkGate(rules, values);
    expect(out.passed).toBe(false);
    const [ndcg, recall, p95, mrr, map] = out.results;
    expect(ndcg.passed).toBe(false);
    expect(ndcg.margin).toBeCloseTo(-0.02, 12);
    expect(recall.passed).toBe(true);
    expect(recall.margin).toBeCloseTo(0.05, 12);
    expect(p95.passed).toBe(false);
    expect(p95.margin).toBe(-10);
    expect(mrr.passed).toBe(false); // strict > at equality fails
    expect(mrr.margin).toBe(0);
    expect(map).toMatchObject({ actual: null, passed: false, margin: null });
    expect(describeGateResult(ndcg)).toBe('ndcg@10 = 0.6000, required >= 0.6200: missed by 0.0200');
    expect(describeGateResult(map)).toMatch(/not measured/);
  });

  it('passes when every rule passes; equality passes >=', () => {
    expect(checkGate(parseGate('ndcg@10>=0.6,p95_ms<=310'), values).passed).toBe(true);
  });

  it('renders JUnit XML with one testcase per rule and the gap in each failure', () => {
    const xml = junitXml('rag eval <gold & set>', checkGate(rules, values).results);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml.match(/<failure /g)).toHaveLength(4);
    expect(xml).toContain('tests="5" failures="4"');
    expect(xml).toContain('name="rag eval &lt;gold &amp; set&gt;"');
    expect(xml).toContain('name="ndcg@10 &gt;= 0.62"');
    expect(xml).toContain('ndcg@10 = 0.6000, required &gt;= 0.6200: missed by 0.0200');
    expect(xml).toContain('p95_ms = 310, required &lt;= 300: missed by 10');
    // passed rule has no failure element
    expect(xml).toMatch(/name="recall@100 &gt;= 0.9">\s*<system-out>[^<]*passed by 0.0500<\/system-out>\s*<\/testcase>/);
  });
});

function comparison(metric: string, delta: number, pAdjusted: number): MetricComparison {
  return {
    metric, n: 50, meanA: 0.6, meanB: 0.6 + delta, delta,
    ci: { lower: delta - 0.01, upper: delta + 0.01, confidence: 0.95 },
    test: 'permutation', p: pAdjusted / 2, pAdjusted, wins: 0, ties: 0, losses: 0,
  };
}

describe('diff gates', () => {
  it('parses max-drop and no-significant-regression rules', () => {
    expect(parseDiffGate('ndcg@10:-0.01, no-significant-regression, recall@100:0')).toEqual([
      { kind: 'max-drop', metric: 'ndcg@10', maxDrop: 0.01, source: 'ndcg@10:-0.01' },
      { kind: 'no-significant-regression', source: 'no-significant-regression' },
      { kind: 'max-drop', metric: 'recall@100', maxDrop: 0, source: 'recall@100:0' },
    ]);
    expect(usageError(() => parseDiffGate('ndcg@10:0.01')).fix).toBe('write ndcg@10:-0.01');
    expect(usageError(() => parseDiffGate('ndcg@10:abc')).message).toMatch(/not a number/);
    expect(usageError(() => parseDiffGate('ndcgg@10:-0.01')).fix).toMatch(/ndcg@10/);
    expect(usageError(() => parseDiffGate('no-regressions')).message).toMatch(/cannot read diff gate/);
  });

  it('fails only when the drop is both larger than allowed and significant', () => {
    const rules = parseDiffGate('ndcg@10:-0.01');
    expect(checkDiffGate(rules, [comparison('ndcg@10', -0.03, 0.001)], 0.05).passed).toBe(false);
    expect(checkDiffGate(rules, [comparison('ndcg@10', -0.03, 0.2)], 0.05).passed).toBe(true); // noise
    expect(checkDiffGate(rules, [comparison('ndcg@10', -0.005, 0.001)], 0.05).passed).toBe(true); // small
    expect(checkDiffGate(rules, [comparison('ndcg@10', 0.05, 0.001)], 0.05).passed).toBe(true); // gain
    expect(checkDiffGate(rules, [comparison('ndcg@10', -0.03, 0.03)], 0.01).passed).toBe(true); // stricter alpha
    const failed = checkDiffGate(rules, [comparison('ndcg@10', -0.03, 0.001)], 0.05).results[0];
    expect(failed.message).toMatch(/changed -0\.0300 \(allowed drop 0\.0100\).*larger than allowed by 0\.0200/);
    const missing = checkDiffGate(rules, [comparison('map', -0.03, 0.001)]);
    expect(missing.passed).toBe(false);
    expect(missing.results[0].message).toMatch(/not compared/);
  });

  it('no-significant-regression looks at every compared metric', () => {
    const rules = parseDiffGate('no-significant-regression');
    const ok = checkDiffGate(rules, [comparison('ndcg@10', -0.02, 0.3), comparison('recall@100', 0.05, 0.001)]);
    expect(ok.passed).toBe(true);
    const bad = checkDiffGate(rules, [comparison('ndcg@10', -0.02, 0.3), comparison('recall@100', -0.05, 0.001)]);
    expect(bad.passed).toBe(false);
    expect(bad.results[0].message).toMatch(/recall@100 \(-0\.0500/);
    const xml = junitXml('diff', bad.results);
    expect(xml).toContain('failures="1"');
    expect(xml).toContain('name="no-significant-regression"');
  });
});
