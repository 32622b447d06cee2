/**
 * Ranking metrics with trec_eval's exact semantics (checked against trec_eval's own expected
 * outputs in test/metrics.test.ts).
 *
 * What "exact" means here, measure by measure, as trec_eval ≥ 9 computes them:
 * - Each topic's results are re-sorted by score descending, ties broken by doc id in DESCENDING
 *   strcmp order; the rank column of a run file is ignored. `maxResultsPerQuery` (= -M) keeps the
 *   first N after that sort.
 * - A judged grade ≥ relLevel (= -l, default 1) is relevant. Negative grades mean "in the pool but
 *   unjudged": neither relevant nor non-relevant, and they never enter the ideal ranking.
 *   Documents absent from the qrels are non-relevant.
 * - ndcg / ndcg@k: gain = the grade itself (linear, grades ≤ 0 give nothing), discount
 *   log2(rank + 1); the ideal ranking uses every positive grade of the topic's qrels, whatever
 *   relLevel is. ndcg has no cutoff (DCG over everything retrieved / full ideal DCG).
 * - map = trec_eval map; map@k = map_cut_k (precision at each relevant rank ≤ k, divided by the
 *   topic's total number of relevant docs, not by min(k, R)).
 * - mrr = recip_rank (NO cutoff). mrr@k is 1/rank of the first relevant doc if rank ≤ k, else 0.
 * - precision@k = P_k (divides by k even if fewer were retrieved); recall@k = recall_k;
 *   hit@k = success_k; rprec = Rprec; bpref = bpref.
 * - num_rel, num_ret, num_rel_ret are counts. In `mean` they are SUMMED over topics, as trec_eval's
 *   "all" line does; every other measure is the arithmetic mean.
 * - Topics in the run but not in the qrels are ignored. Topics in the qrels without results are
 *   ignored too, unless `completeQueries` (= -c): then they count with an empty ranking (all
 *   measures 0, num_rel still reported).
 *
 * Deliberate difference: trec_eval aborts on a duplicate doc id within a topic; we keep the first
 * occurrence (in the order the run lists them) and drop the rest.
 * Scores are compared as doubles, as current trec_eval does (some older builds stored float32,
 * which can merge scores that differ beyond ~7 significant digits).
 */
import { compareBytes, sortedQids, type Qrels, type Run, type RunEntry } from './qrels.js';

export type { Qrels, Run, RunEntry } from './qrels.js';

export const DEFAULT_KS: readonly number[] = [1, 3, 5, 10, 100];

export interface EvaluateOptions {
  /** Cutoffs for the @k measures. Default [1, 3, 5, 10, 100]. */
  ks?: readonly number[];
  /** Minimum grade that counts as relevant (trec_eval -l). Default 1. */
  relLevel?: number;
  /** Average over every qrels topic, missing ones as zeros (trec_eval -c). Default false. */
  completeQueries?: boolean;
  /** Only the top N results per topic after sorting (trec_eval -M). Default unlimited. */
  maxResultsPerQuery?: number;
}

export type MetricValues = Record<string, number>;

export interface EvaluationResult {
  /** qid → metric → value, qids in compareQids order. */
  perQuery: Record<string, MetricValues>;
  /** metric → mean over evaluated topics (counts: sum). */
  mean: MetricValues;
  /** Number of topics averaged over. */
  queries: number;
}

/** Measures without a cutoff, in output order. */
export const SCALAR_METRICS = ['map', 'ndcg', 'mrr', 'rprec', 'bpref'] as const;
/** Measures that take a cutoff `@k`, in output order. */
export const CUTOFF_METRICS = ['ndcg', 'map', 'mrr', 'recall', 'precision', 'hit'] as const;
/** Counts: summed, not averaged, in `mean`. */
export const COUNT_METRICS = ['num_rel', 'num_ret', 'num_rel_ret'] as const;

/** Every metric name `evaluate` emits for the given cutoffs, in output order. */
export function metricNames(ks: readonly number[] = DEFAULT_KS): string[] {
  const cut = normaliseKs(ks);
  const names: string[] = [...SCALAR_METRICS];
  for (const m of CUTOFF_METRICS) for (const k of cut) names.push(`${m}@${k}`);
  names.push(...COUNT_METRICS);
  return names;
}

/** Whether a name is one `evaluate` can produce for some cutoff (`ndcg@7` is, `ndcg@0` is not). */
export function isMetricName(name: string): boolean {
  if ((SCALAR_METRICS as readonly string[]).includes(name)) return true;
  if ((COUNT_METRICS as readonly string[]).includes(name)) return true;
  const m = /^([a-z_]+)@([1-9]\d*)$/.exec(name);
  return !!m && (CUTOFF_METRICS as readonly string[]).includes(m[1]);
}

export function isCountMetric(name: string): boolean {
  return (COUNT_METRICS as readonly string[]).includes(name);
}

function normaliseKs(ks: readonly number[]): number[] {
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`cutoff k must be a positive integer, got ${k}`);
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** Relevance codes for ranked docs that are not judged with a grade ≥ 0 (as trec_eval). */
const NOT_IN_QRELS = -1;
const UNJUDGED_IN_POOL = -2;

/**
 * One topic's ranking as trec_eval sees it: duplicates dropped (first kept), sorted by score
 * descending then doc id descending (bytewise), truncated to maxResults.
 */
export function rankTopic(entries: readonly RunEntry[], maxResults = Infinity): RunEntry[] {
  const seen = new Set<string>();
  const unique: RunEntry[] = [];
  for (const e of entries) {
    if (seen.has(e.docId)) continue;
    seen.add(e.docId);
    unique.push(e);
  }
  unique.sort((x, y) => {
    const sx = Number.isNaN(x.score) ? -Infinity : x.score;
    const sy = Number.isNaN(y.score) ? -Infinity : y.score;
    if (sx !== sy) return sx > sy ? -1 : 1;
    return compareBytes(y.docId, x.docId);
  });
  return unique.length > maxResults ? unique.slice(0, maxResults) : unique;
}

/** Metrics of one topic. `ranked` must already be in rank order (see rankTopic). */
export function evaluateTopic(
  judged: ReadonlyMap<string, number>,
  ranked: readonly RunEntry[],
  ks: readonly number[] = DEFAULT_KS,
  relLevel = 1,
): MetricValues {
  const cut = normaliseKs(ks);
  // Grade histogram over judged docs with grade ≥ 0 (negative = unjudged, outside every count).
  const levelCounts = new Map<number, number>();
  let numRel = 0;
  let numNonrel = 0;
  for (const rel of judged.values()) {
    if (rel < 0) continue;
    levelCounts.set(rel, (levelCounts.get(rel) ?? 0) + 1);
    if (rel >= relLevel) numRel++;
    else numNonrel++;
  }

  const rels = ranked.map((e) => {
    const r = judged.get(e.docId);
    return r === undefined ? NOT_IN_QRELS : r < 0 ? UNJUDGED_IN_POOL : r;
  });
  const isRel = (r: number) => r >= 0 && r >= relLevel;
  const numRet = rels.length;

  // Ideal gains: every positive grade, best first.
  const idealGains: number[] = [];
  for (const level of [...levelCounts.keys()].filter((l) => l > 0).sort((a, b) => b - a)) {
    for (let i = 0; i < levelCounts.get(level)!; i++) idealGains.push(level);
  }
  const idealPrefix = prefixDcg(idealGains);
  const dcgPrefix = prefixDcg(rels.map((r) => (r > 0 ? r : 0)));

  // Running counts along the ranking.
  const relSoFar: number[] = new Array(numRet + 1).fill(0); // relSoFar[i] = relevant in top i
  const apSoFar: number[] = new Array(numRet + 1).fill(0); // sum of precisions at relevant ranks ≤ i
  let firstRelRank = 0;
  let bprefSum = 0;
  let nonrelSoFar = 0;
  for (let i = 0; i < numRet; i++) {
    const r = rels[i];
    const rel = isRel(r);
    relSoFar[i + 1] = relSoFar[i] + (rel ? 1 : 0);
    apSoFar[i + 1] = apSoFar[i] + (rel ? relSoFar[i + 1] / (i + 1) : 0);
    if (rel && firstRelRank === 0) firstRelRank = i + 1;
    // bpref looks at judged docs only: unjudged and unpooled docs are skipped.
    if (r === NOT_IN_QRELS || r === UNJUDGED_IN_POOL) continue;
    if (rel) {
      bprefSum += nonrelSoFar > 0 ? 1 - Math.min(nonrelSoFar, numRel) / Math.min(numNonrel, numRel) : 1;
    } else nonrelSoFar++;
  }
  const relAt = (k: number) => relSoFar[Math.min(k, numRet)];
  const apAt = (k: number) => apSoFar[Math.min(k, numRet)];
  const ratio = (x: number, y: number) => (y > 0 ? x / y : 0);
  const numRelRet = relSoFar[numRet];

  const out: MetricValues = {
    map: ratio(apAt(numRet), numRel),
    ndcg: ratio(dcgPrefix[numRet], idealPrefix[idealGains.length]),
    mrr: firstRelRank > 0 ? 1 / firstRelRank : 0,
    rprec: ratio(relAt(numRel), numRel),
    bpref: ratio(bprefSum, numRel),
  };
  for (const k of cut) out[`ndcg@${k}`] = ratio(dcgPrefix[Math.min(k, numRet)], idealPrefix[Math.min(k, idealGains.length)]);
  for (const k of cut) out[`map@${k}`] = ratio(apAt(k), numRel);
  for (const k of cut) out[`mrr@${k}`] = firstRelRank > 0 && firstRelRank <= k ? 1 / firstRelRank : 0;
  for (const k of cut) out[`recall@${k}`] = ratio(relAt(k), numRel);
  for (const k of cut) out[`precision@${k}`] = relAt(k) / k;
  for (const k of cut) out[`hit@${k}`] = relAt(k) > 0 ? 1 : 0;
  out.num_rel = numRel;
  out.num_ret = numRet;
  out.num_rel_ret = numRelRet;
  return out;
}

/** prefix[i] = DCG of the first i gains, discount log2(rank + 1). */
function prefixDcg(gains: readonly number[]): number[] {
  const prefix = new Array<number>(gains.length + 1);
  prefix[0] = 0;
  for (let i = 0; i < gains.length; i++) {
    prefix[i + 1] = prefix[i] + (gains[i] > 0 ? gains[i] / Math.log2(i + 2) : 0);
  }
  return prefix;
}

/** Evaluate a run against qrels; see the module comment for the exact semantics. */
export function evaluate(qrels: Qrels, run: Run, opts: EvaluateOptions = {}): EvaluationResult {
  const ks = normaliseKs(opts.ks ?? DEFAULT_KS);
  const relLevel = opts.relLevel ?? 1;
  if (!Number.isFinite(relLevel) || relLevel < 0) throw new RangeError(`relLevel must be ≥ 0, got ${relLevel}`);
  const maxResults = opts.maxResultsPerQuery ?? Infinity;
  if (!(maxResults >= 1)) throw new RangeError(`maxResultsPerQuery must be ≥ 1, got ${maxResults}`);

  const qids = sortedQids([...qrels.keys()].filter((q) => opts.completeQueries || run.has(q)));
  const perQuery: Record<string, MetricValues> = {};
  for (const qid of qids) {
    const ranked = rankTopic(run.get(qid) ?? [], maxResults);
    perQuery[qid] = evaluateTopic(qrels.get(qid)!, ranked, ks, relLevel);
  }
  return { perQuery, mean: meanOf(perQuery, metricNames(ks)), queries: qids.length };
}

/**
 * Aggregate per-query values: arithmetic mean, except counts (num_*) which are summed.
 * `names` fixes the key order (default: the keys of the first query). No queries → all zeros.
 */
export function meanOf(perQuery: Record<string, MetricValues>, names?: readonly string[]): MetricValues {
  const rows = Object.values(perQuery);
  const keys = names ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  const out: MetricValues = {};
  for (const key of keys) {
    let sum = 0;
    for (const row of rows) sum += row[key] ?? 0;
    out[key] = isCountMetric(key) || rows.length === 0 ? sum : sum / rows.length;
  }
  return out;
}

/** The values of one metric for the given qids, in that order (missing → 0). */
export function metricVector(perQuery: Record<string, MetricValues>, metric: string, qids: readonly string[]): number[] {
  return qids.map((q) => perQuery[q]?.[metric] ?? 0);
}
