/**
 * Quality gates: thresholds a run must meet (`rag eval --gate`) and regressions a comparison must
 * not show (`rag diff-eval --gate`).
 *
 * Eval gate:  `ndcg@10>=0.62,recall@100>=0.9,p95_ms<=300` — comma-separated `metric OP number`,
 *             OP one of >= <= > <. Metrics are those `evaluate` reports plus latency keys
 *             (p50_ms, p90_ms, p95_ms, p99_ms, mean_ms, max_ms). trec_eval spellings are
 *             accepted and normalised (P@10, P_10 → precision@10; success@5 → hit@5;
 *             recip_rank → mrr; ndcg_cut_10 → ndcg@10; map_cut_10 → map@10; Rprec → rprec).
 * Diff gate:  `ndcg@10:-0.01` fails when B is worse than A by more than 0.01 AND that drop is
 *             significant at alpha; `no-significant-regression` fails when any compared metric
 *             drops significantly. Significance uses the Holm-adjusted p-value.
 */
import { UsageError } from '../errors.js';
import { CUTOFF_METRICS, COUNT_METRICS, SCALAR_METRICS, isMetricName } from './metrics.js';
import type { MetricComparison } from './stats.js';

export type GateOp = '>=' | '<=' | '>' | '<';

export interface GateRule {
  metric: string;
  op: GateOp;
  threshold: number;
  /** The rule as written by the user, for messages. */
  source: string;
}

export interface GateResult {
  rule: GateRule;
  /** null when the metric was not computed (e.g. a cutoff the eval did not use). */
  actual: number | null;
  passed: boolean;
  /** How far on the passing side of the threshold (negative = by how much it failed). */
  margin: number | null;
}

export interface GateOutcome {
  passed: boolean;
  results: GateResult[];
}

export const LATENCY_METRICS = ['p50_ms', 'p90_ms', 'p95_ms', 'p99_ms', 'mean_ms', 'max_ms'] as const;

const ALIASES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^(?:p|P)[@_](\d+)$/, (m) => `precision@${m[1]}`],
  [/^precision_(\d+)$/, (m) => `precision@${m[1]}`],
  [/^(?:success|hits?)[@_](\d+)$/, (m) => `hit@${m[1]}`],
  [/^(?:r|R|recall)[@_](\d+)$/, (m) => `recall@${m[1]}`],
  [/^ndcg_cut[@_](\d+)$/, (m) => `ndcg@${m[1]}`],
  [/^map_cut[@_](\d+)$/, (m) => `map@${m[1]}`],
  [/^(?:mrr|recip_rank)[@_](\d+)$/, (m) => `mrr@${m[1]}`],
  [/^recip_rank$/, () => 'mrr'],
  [/^Rprec$/, () => 'rprec'],
];

/** Canonical metric name, or undefined if it is not one rag can gate on. */
export function normaliseMetricName(name: string): string | undefined {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  if (isMetricName(lower) || (LATENCY_METRICS as readonly string[]).includes(lower)) return lower;
  for (const [re, to] of ALIASES) {
    const m = re.exec(trimmed);
    if (m) return to(m);
  }
  return undefined;
}

/** Closest known metric name, for "did you mean". */
export function suggestMetric(name: string): string {
  const k = /@(\d+)$/.exec(name)?.[1] ?? '10';
  const candidates = [
    ...SCALAR_METRICS, ...COUNT_METRICS, ...LATENCY_METRICS,
    ...CUTOFF_METRICS.map((m) => `${m}@${k}`),
  ];
  let best = candidates[0];
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = levenshtein(name.toLowerCase(), c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

function resolveMetric(name: string, clause: string): string {
  const metric = normaliseMetricName(name);
  if (metric) return metric;
  throw new UsageError(`unknown metric "${name}" in gate "${clause}"`,
    `did you mean ${suggestMetric(name)}? Metrics: ${[...SCALAR_METRICS, ...CUTOFF_METRICS.map((m) => `${m}@K`), ...LATENCY_METRICS].join(', ')}`);
}

function parseNumber(text: string, clause: string, fix: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`"${text}" is not a number in gate "${clause}"`, fix);
  }
  return value;
}

function clauses(expr: string): string[] {
  const parts = expr.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UsageError('empty gate expression', 'write e.g. --gate "ndcg@10>=0.62,recall@100>=0.9"');
  return parts;
}

/** Parse `metric OP number[,…]`. */
export function parseGate(expr: string): GateRule[] {
  return clauses(expr).map((clause) => {
    const m = /^([^<>=!\s]+)\s*(>=|<=|>|<)\s*(.*)$/.exec(clause);
    if (!m) {
      throw new UsageError(`cannot read gate "${clause}"`, 'write metric, operator (>=, <=, >, <) and a number, e.g. ndcg@10>=0.62');
    }
    const metric = resolveMetric(m[1], clause);
    const threshold = parseNumber(m[3], clause, `put a number after ${m[2]}, e.g. ${metric}${m[2]}0.5`);
    return { metric, op: m[2] as GateOp, threshold, source: `${metric} ${m[2]} ${threshold}` };
  });
}

/** Check rules against the values (aggregate metrics and latency keys) of one run. */
export function checkGate(rules: readonly GateRule[], values: Record<string, number>): GateOutcome {
  const results = rules.map((rule): GateResult => {
    const actual = values[rule.metric];
    if (actual === undefined || !Number.isFinite(actual)) return { rule, actual: null, passed: false, margin: null };
    const margin = rule.op === '>=' || rule.op === '>' ? actual - rule.threshold : rule.threshold - actual;
    const passed = rule.op === '>=' || rule.op === '<=' ? margin >= 0 : margin > 0;
    return { rule, actual, passed, margin };
  });
  return { passed: results.every((r) => r.passed), results };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

/** One line per result, for terminals, Markdown and JUnit failure messages. */
export function describeGateResult(r: GateResult): string {
  const { metric, op, threshold } = r.rule;
  if (r.actual === null) return `${metric} was not measured (required ${op} ${fmt(threshold)}); evaluate with that metric/cutoff or gate on another`;
  const gap = Math.abs(r.margin ?? 0);
  return r.passed
    ? `${metric} = ${fmt(r.actual)}, required ${op} ${fmt(threshold)}: passed by ${fmt(gap)}`
    : `${metric} = ${fmt(r.actual)}, required ${op} ${fmt(threshold)}: missed by ${fmt(gap)}`;
}

// ---------------------------------------------------------------------------------------------
// diff-eval gates

export type DiffGateRule =
  | { kind: 'max-drop'; metric: string; maxDrop: number; source: string }
  | { kind: 'no-significant-regression'; source: string };

export interface DiffGateResult {
  rule: DiffGateRule;
  passed: boolean;
  /** The metrics this rule looked at, with their delta and adjusted p. */
  metrics: Array<{ metric: string; delta: number; p: number; significant: boolean }>;
  message: string;
}

export interface DiffGateOutcome {
  passed: boolean;
  results: DiffGateResult[];
}

export function parseDiffGate(expr: string): DiffGateRule[] {
  return clauses(expr).map((clause): DiffGateRule => {
    if (/^no[-_]significant[-_]regressions?$/i.test(clause)) return { kind: 'no-significant-regression', source: 'no-significant-regression' };
    const m = /^([^:\s]+)\s*:\s*(.*)$/.exec(clause);
    if (!m) {
      throw new UsageError(`cannot read diff gate "${clause}"`,
        'write metric:allowed-drop (e.g. ndcg@10:-0.01) or no-significant-regression');
    }
    const metric = resolveMetric(m[1], clause);
    const value = parseNumber(m[2], clause, `write the allowed drop as a negative number, e.g. ${metric}:-0.01`);
    if (value > 0) {
      throw new UsageError(`diff gate "${clause}" allows a drop of ${value}, but drops are written as negative numbers`,
        `write ${metric}:-${value}`);
    }
    const maxDrop = Math.abs(value);
    return { kind: 'max-drop', metric, maxDrop, source: maxDrop === 0 ? `${metric}:0` : `${metric}:-${maxDrop}` };
  });
}

/**
 * A drop counts only when it is also significant (adjusted p < alpha): a gate must not fail a
 * build on noise. Metrics where lower is better (latency) are not compared here.
 */
export function checkDiffGate(rules: readonly DiffGateRule[], comparisons: readonly MetricComparison[], alpha = 0.05): DiffGateOutcome {
  const byMetric = new Map(comparisons.map((c) => [c.metric, c]));
  const view = (c: MetricComparison) => ({ metric: c.metric, delta: c.delta, p: c.pAdjusted, significant: c.pAdjusted < alpha });
  const results = rules.map((rule): DiffGateResult => {
    if (rule.kind === 'no-significant-regression') {
      const regressions = comparisons.filter((c) => c.delta < 0 && c.pAdjusted < alpha);
      const passed = regressions.length === 0;
      return {
        rule, passed, metrics: comparisons.map(view),
        message: passed
          ? `no metric dropped significantly (alpha ${alpha}, ${comparisons.length} compared)`
          : `significant drop in ${regressions.map((c) => `${c.metric} (${signed(c.delta)}, p=${fmtP(c.pAdjusted)})`).join(', ')} at alpha ${alpha}`,
      };
    }
    const c = byMetric.get(rule.metric);
    if (!c) {
      return { rule, passed: false, metrics: [], message: `${rule.metric} was not compared; add it to the compared metrics` };
    }
    const tooBig = c.delta < -rule.maxDrop;
    const significant = c.pAdjusted < alpha;
    const passed = !(tooBig && significant);
    const what = `${rule.metric} changed ${signed(c.delta)} (allowed drop ${fmt(rule.maxDrop)}), p=${fmtP(c.pAdjusted)} at alpha ${alpha}`;
    return {
      rule, passed, metrics: [view(c)],
      message: passed
        ? `${what}: ${tooBig ? 'drop not significant' : 'within the allowed drop'}`
        : `${what}: significant drop larger than allowed by ${fmt(-c.delta - rule.maxDrop)}`,
    };
  });
  return { passed: results.every((r) => r.passed), results };
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
