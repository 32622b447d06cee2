/**
 * Quality gates, one grammar for `rag eval`, `rag diff-eval` and `rag audit`:
 *
 *   --gate "RULE,RULE,…"    RULE = NAME OP NUMBER, OP one of >= <= > <
 *
 * Only the names differ, by what the command measures:
 * - eval:      metrics `evaluate` reports for the cutoffs in use (ndcg@10, recall@100, map, …;
 *              trec_eval spellings are accepted and normalised: P@10, P_10 → precision@10;
 *              success@5 → hit@5; recip_rank → mrr; ndcg_cut_10 → ndcg@10; Rprec → rprec),
 *              latency keys (p50_ms, p90_ms, p95_ms, p99_ms, mean_ms, max_ms) and judged_missing.
 * - diff-eval: the same metric names; the value is the change B − A, and only `>=` with a bound
 *              ≤ 0 (the allowed drop) makes sense: `ndcg@10>=-0.01`, also written `ndcg@10:-0.01`.
 *              A drop beyond the bound fails when it is significant (Holm-adjusted p < alpha), or
 *              when the set is too small to tell (see stats.ts power). `no-significant-regression`
 *              fails when any compared metric drops significantly (or cannot be tested and drops).
 * - audit:     counts (content: critical, high, medium, low — findings at or above that severity —
 *              and findings; acl: leaks, violations).
 * Every command prints one verdict line per rule on stdout (`gate: passed RULE: …` or
 * `gate: FAILED RULE: …`) and a last `gate: passed` / `gate: FAILED`; with --json the `gate`
 * object carries the same lines. Rules are parsed and checked against what the command can
 * measure before any work starts: an unknown name is exit 2 naming the valid ones.
 */
import { UsageError } from '../errors.js';
import { CUTOFF_METRICS, COUNT_METRICS, SCALAR_METRICS, isMetricName, metricNames } from './metrics.js';
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
  /** The verdict in words (the text after the rule on a verdict line). */
  message: string;
}

export interface GateOutcome {
  passed: boolean;
  results: GateResult[];
  /** The verdict lines every command prints (see renderGateLines). */
  lines: string[];
}

/** What a verdict line needs from any gate result: eval, diff-eval or audit. */
export interface VerdictItem {
  rule: { source: string };
  passed: boolean;
  /** Passed only because a switch downgraded a failure to a warning. */
  warning?: boolean;
  message: string;
}

/** The verdict lines of a gate, identical for every command: one per rule, then the verdict. */
export function verdictLines(results: readonly VerdictItem[]): string[] {
  const lines = results.map((r) => `gate: ${r.passed ? (r.warning ? 'WARNING' : 'passed') : 'FAILED'} ${r.rule.source}: ${r.message}`);
  const failed = results.filter((r) => !r.passed).length;
  lines.push(failed ? `gate: FAILED (${failed} of ${results.length} rules)` : 'gate: passed');
  return lines;
}

/** The names a command's gates may use, for validation before any work and for the error. */
export interface GateNames {
  /** Canonical name, or undefined when this command cannot measure it. */
  resolve(name: string): string | undefined;
  /** What to list when a name is refused. */
  valid: readonly string[];
  /** Extra hint when a name is known in general but not measured here (e.g. a missing cutoff). */
  hint?(name: string): string | undefined;
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

const RULE = /^([^<>=!:\s]+)\s*(>=|<=|>|<)\s*(.*)$/;

/**
 * Parse `NAME OP number[,…]`. Without `names`, any metric rag knows is accepted (the eval
 * namespace for unknown cutoffs); commands pass the names they can actually measure.
 */
export function parseGate(expr: string, names?: GateNames): GateRule[] {
  return clauses(expr).map((clause) => parseRule(clause, names));
}

function parseRule(clause: string, names?: GateNames): GateRule {
  const m = RULE.exec(clause);
  if (!m) {
    throw new UsageError(`cannot read gate "${clause}"`, 'write metric, operator (>=, <=, >, <) and a number, e.g. ndcg@10>=0.62');
  }
  const metric = names ? resolveIn(names, m[1], clause) : resolveMetric(m[1], clause);
  const threshold = parseNumber(m[3], clause, `put a number after ${m[2]}, e.g. ${metric}${m[2]}0.5`);
  return { metric, op: m[2] as GateOp, threshold, source: `${metric} ${m[2]} ${threshold}` };
}

function resolveIn(names: GateNames, name: string, clause: string): string {
  const metric = names.resolve(name);
  if (metric) return metric;
  const hint = names.hint?.(name);
  throw new UsageError(`${hint ? `"${name}" is not measured here` : `unknown name "${name}"`} in gate "${clause}"${hint ? `: ${hint}` : ''}`,
    `gate on one of: ${names.valid.join(', ')}`);
}

/**
 * What an eval with these cutoffs can gate on: every metric it reports, latency, judged_missing.
 * `ndcg@20` without 20 among the cutoffs is refused before the eval runs.
 */
export function evalGateNames(ks: readonly number[], opts: { latency?: boolean } = {}): GateNames {
  const extra = opts.latency === false ? [] : [...LATENCY_METRICS, 'judged_missing'];
  const all = new Set<string>([...metricNames(ks), ...extra]);
  const valid = [...SCALAR_METRICS, ...CUTOFF_METRICS.map((m) => `${m}@{${ks.join(',')}}`), ...COUNT_METRICS, ...extra];
  return {
    resolve: (name) => {
      const n = name.trim() === 'judged_missing' ? 'judged_missing' : normaliseMetricName(name);
      // A name the eval does not measure: resolve fails, and hint() says what would measure it.
      return n && all.has(n) ? n : undefined;
    },
    valid,
    hint: (name) => {
      const n = normaliseMetricName(name);
      const k = n && /@(\d+)$/.exec(n)?.[1];
      return k ? `the eval computes cutoffs ${ks.join(', ')}; add ${k} with --cutoffs ${[...ks, Number(k)].sort((a, b) => a - b).join(',')}` : undefined;
    },
  };
}

/** Names for counts (audit): exactly these, nothing else. */
export function countGateNames(names: readonly string[]): GateNames {
  return { resolve: (n) => (names.includes(n.trim().toLowerCase()) ? n.trim().toLowerCase() : undefined), valid: names };
}

/** Check rules against the values (aggregate metrics and latency keys) of one run. */
export function checkGate(rules: readonly GateRule[], values: Record<string, number>): GateOutcome {
  const results = rules.map((rule): GateResult => {
    const actual = values[rule.metric];
    if (actual === undefined || !Number.isFinite(actual)) {
      const r = { rule, actual: null, passed: false, margin: null };
      return { ...r, message: describeGateResult(r) };
    }
    const margin = rule.op === '>=' || rule.op === '>' ? actual - rule.threshold : rule.threshold - actual;
    const passed = rule.op === '>=' || rule.op === '<=' ? margin >= 0 : margin > 0;
    const r = { rule, actual, passed, margin };
    return { ...r, message: describeGateResult(r) };
  });
  return { passed: results.every((r) => r.passed), results, lines: verdictLines(results) };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

/** One line per result, for terminals, Markdown and JUnit failure messages. */
export function describeGateResult(r: Omit<GateResult, 'message'>): string {
  const { metric, op, threshold } = r.rule;
  if (r.actual === null) return `${metric} was not measured (required ${op} ${fmt(threshold)})`;
  const gap = Math.abs(r.margin ?? 0);
  return `${metric} = ${fmt(r.actual)}, ${r.passed ? 'passed' : 'missed'} by ${fmt(gap)}`;
}

// ---------------------------------------------------------------------------------------------
// diff-eval gates

export type DiffGateRule =
  | { kind: 'max-drop'; metric: string; max_drop: number; source: string }
  | { kind: 'no-significant-regression'; source: string };

export interface DiffGateResult {
  rule: DiffGateRule;
  passed: boolean;
  /** Passed only because --underpowered warn downgraded a failure. */
  warning?: boolean;
  /** The metrics this rule looked at, with their delta and adjusted p. */
  metrics: Array<{ metric: string; delta: number; p: number; significant: boolean; underpowered?: boolean }>;
  message: string;
}

export interface DiffGateOutcome {
  passed: boolean;
  results: DiffGateResult[];
  lines: string[];
}

/** What the test can say on this set, per metric (from stats.ts `testPower`). */
export interface PowerInfo {
  /** Smallest p-value the permutation test can produce on these paired differences. */
  min_p: number;
  /** Smallest |Δ| detected with 80% power at the gate's alpha, from the paired spread; null below 2 queries. */
  mde: number | null;
}

export type UnderpoweredPolicy = 'fail' | 'warn';

export function parseDiffGate(expr: string): DiffGateRule[] {
  return clauses(expr).map((clause): DiffGateRule => {
    if (/^no[-_]significant[-_]regressions?$/i.test(clause)) return { kind: 'no-significant-regression', source: 'no-significant-regression' };
    const op = RULE.exec(clause);
    if (op) {
      const metric = resolveMetric(op[1], clause);
      const value = parseNumber(op[3], clause, `write the allowed drop as a negative number, e.g. ${metric}>=-0.01`);
      if (op[2] !== '>=' || value > 0) {
        throw new UsageError(`diff gate "${clause}" does not bound a drop: diff-eval gates read the change B − A and allow a drop down to a bound`,
          `write ${metric}>=-0.01 (or ${metric}:-0.01): fail when B drops more than 0.01 below A`);
      }
      return { kind: 'max-drop', metric, max_drop: Math.abs(value), source: `${metric} >= ${value === 0 ? 0 : -Math.abs(value)}` };
    }
    const m = /^([^:\s]+)\s*:\s*(.*)$/.exec(clause);
    if (!m) {
      throw new UsageError(`cannot read diff gate "${clause}"`,
        'write metric>=-allowed-drop (e.g. ndcg@10>=-0.01, or ndcg@10:-0.01) or no-significant-regression');
    }
    const metric = resolveMetric(m[1], clause);
    const value = parseNumber(m[2], clause, `write the allowed drop as a negative number, e.g. ${metric}:-0.01`);
    if (value > 0) {
      throw new UsageError(`diff gate "${clause}" allows a drop of ${value}, but drops are written as negative numbers`,
        `write ${metric}:-${value}`);
    }
    const maxDrop = Math.abs(value);
    return { kind: 'max-drop', metric, max_drop: maxDrop, source: maxDrop === 0 ? `${metric}:0` : `${metric}:-${maxDrop}` };
  });
}

/** Drops smaller than this are float noise, not a change. */
const NOISE = 1e-9;

/**
 * A drop beyond the allowance fails when it is significant (adjusted p < alpha): a gate must not
 * fail a build on noise. When the set cannot tell — the permutation test can never reach alpha
 * here, or the drop is smaller than the effect the set detects with 80% power — a drop beyond the
 * allowance fails too (policy `fail`, the default) or passes with a warning (`warn`): silence from
 * a test that could not have spoken is not evidence of no regression.
 */
export function checkDiffGate(
  rules: readonly DiffGateRule[],
  comparisons: readonly (MetricComparison & Partial<PowerInfo>)[],
  alpha = 0.05,
  underpowered: UnderpoweredPolicy = 'fail',
): DiffGateOutcome {
  const byMetric = new Map(comparisons.map((c) => [c.metric, c]));
  const cannotReach = (c: Partial<PowerInfo>) => c.min_p !== undefined && c.min_p >= alpha;
  const tooSmall = (c: MetricComparison & Partial<PowerInfo>) => cannotReach(c) || (c.mde !== undefined && (c.mde === null || c.mde > Math.abs(c.delta)));
  const view = (c: MetricComparison & Partial<PowerInfo>, weak?: boolean) => ({
    metric: c.metric, delta: c.delta, p: c.p_adjusted, significant: c.p_adjusted < alpha, ...(weak ? { underpowered: true } : {}),
  });
  const power = (c: Partial<PowerInfo>) =>
    cannotReach(c) ? `the set is too small for the test to ever reach alpha ${alpha} (smallest possible p ${fmtP(c.min_p!)})`
      : `the set detects only changes of ${c.mde === null || c.mde === undefined ? 'any size with fewer than 2 queries' : `${fmt(c.mde)} or more`} at 80% power`;
  const downgrade = (passedMsg: string) => (underpowered === 'warn'
    ? { passed: true, warning: true, message: `${passedMsg}; passing with a warning (--underpowered warn)` }
    : { passed: false, message: `${passedMsg}; failing a drop the set cannot test (--underpowered warn to only warn)` });

  const results = rules.map((rule): DiffGateResult => {
    if (rule.kind === 'no-significant-regression') {
      const regressions = comparisons.filter((c) => c.delta < 0 && c.p_adjusted < alpha);
      if (regressions.length) {
        return {
          rule, passed: false, metrics: comparisons.map((c) => view(c)),
          message: `significant drop in ${regressions.map((c) => `${c.metric} (${signed(c.delta)}, p=${fmtP(c.p_adjusted)})`).join(', ')} at alpha ${alpha}`,
        };
      }
      // With no allowance stated, only a test that cannot speak at all makes a drop suspect.
      const untestable = comparisons.filter((c) => c.delta < -NOISE && cannotReach(c));
      if (untestable.length) {
        return {
          rule, metrics: comparisons.map((c) => view(c, untestable.includes(c))),
          ...downgrade(`${untestable.map((c) => `${c.metric} dropped ${signed(c.delta)}`).join(', ')} but ${power(untestable[0]!)}`),
        };
      }
      return { rule, passed: true, metrics: comparisons.map((c) => view(c)), message: `no metric dropped significantly (alpha ${alpha}, ${comparisons.length} compared)` };
    }
    const c = byMetric.get(rule.metric);
    if (!c) {
      return { rule, passed: false, metrics: [], message: `${rule.metric} was not compared; add it to the compared metrics` };
    }
    const tooBig = c.delta < -rule.max_drop - NOISE;
    const significant = c.p_adjusted < alpha;
    const what = `${rule.metric} changed ${signed(c.delta)} (allowed drop ${fmt(rule.max_drop)}), p=${fmtP(c.p_adjusted)} at alpha ${alpha}`;
    if (!tooBig) return { rule, passed: true, metrics: [view(c)], message: `${what}: within the allowed drop` };
    if (significant) {
      return { rule, passed: false, metrics: [view(c)], message: `${what}: significant drop larger than allowed by ${fmt(-c.delta - rule.max_drop)}` };
    }
    if (tooSmall(c)) return { rule, metrics: [view(c, true)], ...downgrade(`${what}: not significant, but ${power(c)}`) };
    return { rule, passed: true, metrics: [view(c)], message: `${what}: drop not significant (${power(c)})` };
  });
  return { passed: results.every((r) => r.passed), results, lines: verdictLines(results) };
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
