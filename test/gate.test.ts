import { describe, expect, it } from 'vitest';
import {
  checkDiffGate,
  checkGate,
  describeGateResult,
  evalGateNames,
  normaliseMetricName,
  parseDiffGate,
  parseGate,
} from '../src/engine/evaluation/gate.js';
import { UsageError } from '../src/engine/errors.js';
import { studentQuantileTwoSided, testPower, type MetricComparison } from '../src/engine/evaluation/stats.js';
import { contentGateValues, parseContentGate } from '../src/engine/audit/content-audit.js';
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
    expect(describeGateResult(ndcg)).toBe('ndcg@10 = 0.6000, missed by 0.0200');
    expect(out.lines[0]).toBe('gate: FAILED ndcg@10 >= 0.62: ndcg@10 = 0.6000, missed by 0.0200');
    expect(out.lines[1]).toBe('gate: passed recall@100 >= 0.9: recall@100 = 0.9500, passed by 0.0500');
    expect(out.lines.at(-1)).toBe('gate: FAILED (4 of 5 rules)');
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
    expect(xml).toContain('ndcg@10 = 0.6000, missed by 0.0200');
    expect(xml).toContain('p95_ms = 310, missed by 10');
    // passed rule has no failure element
    expect(xml).toMatch(/name="recall@100 &gt;= 0.9">\s*<system-out>[^<]*passed by 0.0500<\/system-out>\s*<\/testcase>/);
  });
});

function comparison(metric: string, delta: number, pAdjusted: number): MetricComparison {
  return {
    metric, n: 50, mean_a: 0.6, mean_b: 0.6 + delta, delta,
    ci: { lower: delta - 0.01, upper: delta + 0.01, confidence: 0.95 },
    test: 'permutation', p: pAdjusted / 2, p_adjusted: pAdjusted, wins: 0, ties: 0, losses: 0,
  };
}

describe('diff gates', () => {
  it('parses max-drop and no-significant-regression rules', () => {
    expect(parseDiffGate('ndcg@10:-0.01, no-significant-regression, recall@100:0')).toEqual([
      { kind: 'max-drop', metric: 'ndcg@10', max_drop: 0.01, source: 'ndcg@10:-0.01' },
      { kind: 'no-significant-regression', source: 'no-significant-regression' },
      { kind: 'max-drop', metric: 'recall@100', max_drop: 0, source: 'recall@100:0' },
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

describe('one gate grammar: names checked before any work', () => {
  const names = evalGateNames([1, 3, 5, 10, 100]);

  it('eval gates accept every metric the eval computes, latency keys and judged_missing', () => {
    expect(parseGate('ndcg@10>=0.6,P@5>=0.1,p90_ms<=100,max_ms<1000,judged_missing<=0', names).map((r) => r.metric))
      .toEqual(['ndcg@10', 'precision@5', 'p90_ms', 'max_ms', 'judged_missing']);
  });

  it('a cutoff the eval does not compute is refused, saying how to compute it', () => {
    const e = usageError(() => parseGate('ndcg@20>=0.5', names));
    expect(e.message).toMatch(/"ndcg@20" is not measured here.*add 20 with --cutoffs 1,3,5,10,20,100/);
    expect(e.fix).toMatch(/ndcg@\{1,3,5,10,100\}/);
  });

  it('an unknown name (p95) is refused, naming the valid ones', () => {
    const e = usageError(() => parseGate('p95<=300', names));
    expect(e.message).toMatch(/unknown name "p95"/);
    expect(e.fix).toMatch(/p95_ms/);
    expect(e.fix).toMatch(/judged_missing/);
  });

  it('a run file has no latency to gate on', () => {
    expect(usageError(() => parseGate('p95_ms<=300', evalGateNames([10], { latency: false }))).message).toMatch(/unknown name "p95_ms"/);
  });

  it('audit content gates: a bare severity is short for "no finding at or above it"', () => {
    expect(parseContentGate('high')).toEqual([{ metric: 'high', op: '<=', threshold: 0, source: 'high <= 0' }]);
    expect(parseContentGate('critical<=0, findings <= 20').map((r) => r.source)).toEqual(['critical <= 0', 'findings <= 20']);
    expect(usageError(() => parseContentGate('ndcg@10>=0.5')).fix).toMatch(/critical, high, medium, low, findings/);
    const out = checkGate(parseContentGate('high'), contentGateValues([{ severity: 'critical' }, { severity: 'low' }]));
    expect(out.lines).toEqual(['gate: FAILED high <= 0: high = 1, missed by 1', 'gate: FAILED (1 of 1 rules)']);
  });

  it('diff gates take the operator form too: METRIC>=-allowed-drop', () => {
    expect(parseDiffGate('ndcg@10>=-0.01')).toEqual([{ kind: 'max-drop', metric: 'ndcg@10', max_drop: 0.01, source: 'ndcg@10 >= -0.01' }]);
    expect(usageError(() => parseDiffGate('ndcg@10<=0.01')).fix).toMatch(/ndcg@10>=-0.01/);
    expect(usageError(() => parseDiffGate('ndcg@10>=0.02')).message).toMatch(/does not bound a drop/);
  });
});

describe('diff gates on a set too small to tell', () => {
  // Three queries: the exact permutation test can never go below p = 2/8 = 0.25.
  const tiny = (delta: number, p: number, mde: number | null = 0.9) => ({ ...comparison('ndcg@10', delta, p), n: 3, min_p: 0.25, mde });

  it('a drop beyond the allowance fails by default, even though p can never reach alpha', () => {
    const out = checkDiffGate(parseDiffGate('ndcg@10:-0.01'), [tiny(-1, 0.25)], 0.05);
    expect(out.passed).toBe(false);
    expect(out.results[0].message).toMatch(/too small for the test to ever reach alpha 0\.05 \(smallest possible p 0\.250\)/);
    expect(out.lines[0]).toMatch(/^gate: FAILED ndcg@10:-0\.01: /);
  });

  it('--underpowered warn passes it with a warning line', () => {
    const out = checkDiffGate(parseDiffGate('ndcg@10:-0.01'), [tiny(-1, 0.25)], 0.05, 'warn');
    expect(out.passed).toBe(true);
    expect(out.results[0].warning).toBe(true);
    expect(out.lines).toEqual([expect.stringMatching(/^gate: WARNING ndcg@10:-0\.01: .*--underpowered warn/), 'gate: passed']);
  });

  it('a drop within the allowance, or a gain, passes whatever the power', () => {
    expect(checkDiffGate(parseDiffGate('ndcg@10:-0.5'), [tiny(-0.2, 0.25)]).passed).toBe(true);
    expect(checkDiffGate(parseDiffGate('ndcg@10:-0.01'), [tiny(0.3, 0.25)]).passed).toBe(true);
  });

  it('on a set that can reach alpha, a non-significant drop smaller than the detectable effect still fails; a larger one passes', () => {
    const big = (delta: number, mde: number) => ({ ...comparison('ndcg@10', delta, 0.2), min_p: 1e-4, mde });
    const weak = checkDiffGate(parseDiffGate('ndcg@10:-0.01'), [big(-0.03, 0.08)]);
    expect(weak.passed).toBe(false);
    expect(weak.results[0].message).toMatch(/detects only changes of 0\.0800 or more at 80% power/);
    expect(checkDiffGate(parseDiffGate('ndcg@10:-0.01'), [big(-0.03, 0.02)]).passed).toBe(true);
  });

  it('no-significant-regression fails a drop the test cannot speak about', () => {
    expect(checkDiffGate(parseDiffGate('no-significant-regression'), [tiny(-0.1, 0.25)]).passed).toBe(false);
    expect(checkDiffGate(parseDiffGate('no-significant-regression'), [tiny(0.1, 0.25)]).passed).toBe(true);
  });
});

describe('testPower', () => {
  it('inverts the t distribution', () => {
    expect(studentQuantileTwoSided(0.05, 2)).toBeCloseTo(4.302653, 5);
    expect(studentQuantileTwoSided(0.4, 2)).toBeCloseTo(1.06066, 5);
    expect(studentQuantileTwoSided(0.05, 1e6)).toBeCloseTo(1.959966, 4);
  });

  it('smallest p = 2 / 2^(non-zero differences); MDE from the paired spread', () => {
    const p = testPower([0, 0, 0, 0.5], [0.1, 0.2, 0.3, 0.5], 0.05);
    expect(p.min_p).toBe(0.25);
    // d = 0.1, 0.2, 0.3, 0: sd = 0.129099, n = 4, t(0.975, 3) = 3.182446, t(0.8, 3) = 0.978472
    expect(p.mde).toBeCloseTo(((3.182446 + 0.978472) * 0.1290994) / 2, 5);
    expect(testPower([1], [0], 0.05)).toEqual({ min_p: 1, mde: null });
    expect(testPower(new Array(40).fill(0), new Array(40).fill(1), 0.05).min_p).toBeCloseTo(1 / 10_001, 12);
  });
});
