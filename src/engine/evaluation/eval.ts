import { writeOutDir } from '../artifact.js';
import type { RagConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { stableHash, stableStringify } from '../hash.js';
import { describeMissing, judgedCoverage, missingFix, type Coverage } from './coverage.js';
import type { GoldenQuery, GoldenSet } from './goldens.js';
import { evaluate, type EvaluationResult } from './metrics.js';
import { latencySummary } from './percentiles.js';
import { docIdOf, isChunkId, type Qrels, type Run } from './qrels.js';
import { Retriever, type StageTimings } from '../search/retriever.js';
import type { Caller, RetrievalMode } from '../types.js';
import type { IndexManifest } from '../store/manifest.js';

export interface EvalOptions {
  mode?: RetrievalMode;
  rerank?: string | null;
  rerankTopN?: number;
  rrfK?: number;
  candidates?: number;
  weights?: { bm25: number; vector: number };
  ks: number[];
  /** Caller for queries that do not name their own principals. */
  caller: Caller;
  /** Score even when judged-relevant ids can never be retrieved (they are counted as judged_missing). */
  allowMissing?: boolean;
  /** Told once what --allow-missing let through. */
  notice?: (msg: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Ranked documents per query in every run: trec_eval's convention, so map, ndcg, rprec and bpref mean what they mean there. */
export const RUN_DEPTH = 1000;
/** What the ranking rules are: part of the retrieval hash, so runs ranked by older rules show as different. */
export const RANKING = 'prefix-stable/1';

/** How an eval ranked: recorded in metrics.json and manifest.json, hashed as the retrieval hash. */
export interface RetrievalSettings {
  index: string;
  mode: RetrievalMode;
  rerank: string | null;
  rerank_top_n: number;
  rrf_k: number;
  candidates: number;
  weights: { bm25: number; vector: number };
  depth: number;
  ranking: string;
  ks: number[];
}

export interface EvalOutcome {
  goldenHash: string;
  retrieval: RetrievalSettings;
  retrievalHash: string;
  index: IndexManifest;
  run: Run;
  result: EvaluationResult;
  timings: Record<string, ReturnType<typeof latencySummary>>;
  /** Per query: total latency in ms (kept out of metrics.json). */
  queryMs: Record<string, number>;
  /** Per query: milliseconds per stage, for latency histograms. */
  queryStageMs: Record<string, Record<string, number>>;
  queryTexts: Record<string, string>;
  /** Judged-relevant ids no query could retrieve (only non-zero with allowMissing). */
  coverage: Coverage;
}

/** The relevance judgments an eval scores against: chunk judgments lift to their document unless a query is judged on chunks only. */
export function judgmentUnit(qrels: Qrels, qid: string): 'doc' | 'chunk' {
  const judged = qrels.get(qid);
  return judged && judged.size > 0 && [...judged.keys()].every(isChunkId) ? 'chunk' : 'doc';
}

function liftToDocs(qrels: Qrels): Qrels {
  const out: Qrels = new Map();
  for (const [qid, judged] of qrels) {
    if (judgmentUnit(qrels, qid) === 'chunk') {
      out.set(qid, judged);
      continue;
    }
    const m = new Map<string, number>();
    for (const [key, rel] of judged) {
      const doc = docIdOf(key);
      m.set(doc, Math.max(m.get(doc) ?? -Infinity, rel));
    }
    out.set(qid, m);
  }
  return out;
}

/** The caller a golden query runs as: its own principals (always with public), else the eval's. */
export function queryCaller(q: GoldenQuery, fallback: Caller): Caller {
  return q.principals
    ? { principals: [...new Set(['public', ...q.principals])].sort(), tenant: q.tenant ?? fallback.tenant }
    : { ...fallback, tenant: q.tenant ?? fallback.tenant };
}

/**
 * Run-file scores in rank order, lowered just below the previous one wherever they do not already
 * strictly decrease (exact ties, and the first positions of a deeper pass), so every scorer that
 * re-sorts by score (trec_eval, ir_measures, rag's own metrics) reads the ranking users get.
 */
export function strictlyDecreasing(scores: readonly number[]): number[] {
  const out: number[] = [];
  for (const s of scores) {
    const prev = out[out.length - 1];
    out.push(prev === undefined || s < prev ? s : prev - Math.max(1, Math.abs(prev)) * 1e-9);
  }
  return out;
}

/** Whether `prefix` is the start of `list`. */
function isPrefix(prefix: readonly string[], list: readonly string[]): boolean {
  return prefix.length <= list.length && prefix.every((x, i) => list[i] === x);
}

function dedupe(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * Runs every golden query through the same retriever as `rag query` (ACL pre-filter included) and
 * scores the ranking with trec_eval's definitions. Documents score as their best chunk.
 *
 * Each query is asked twice: once exactly as `rag query` asks it (k = retrieval.k; its time is the
 * reported latency), and once for the run, RUN_DEPTH documents deep. Rankings are prefix-stable,
 * so the first is the head of the second; that is checked on every query, and a mismatch stops
 * the eval instead of reporting numbers users never get.
 */
export async function runEval(retriever: Retriever, config: RagConfig, golden: GoldenSet, opts: EvalOptions): Promise<EvalOutcome> {
  const ks = [...opts.ks].sort((a, b) => a - b);
  const depth = Math.max(RUN_DEPTH, ...ks);
  const mode = opts.mode ?? retriever.defaultMode();
  const rerank = opts.rerank === undefined ? config.retrieval.rerank ?? null : opts.rerank;
  const retrieval: RetrievalSettings = {
    index: retriever.manifest.name,
    mode,
    rerank,
    rerank_top_n: opts.rerankTopN ?? config.retrieval.rerankTopN,
    rrf_k: opts.rrfK ?? config.retrieval.rrfK,
    candidates: opts.candidates ?? config.retrieval.candidates,
    weights: opts.weights ?? config.retrieval.weights,
    depth,
    ranking: RANKING,
    ks,
  };
  const qrels = liftToDocs(golden.qrels);
  const judged = golden.queries.filter((q) => qrels.has(q.id));
  if (judged.length === 0) {
    throw new UsageError(`golden set ${golden.source} has no query with judgments, so there is nothing to score`,
      'add judgments (rag label), or check --split and --qrels');
  }
  const byId = new Map(golden.queries.map((q) => [q.id, q]));
  const coverage = await judgedCoverage(retriever.store, retriever.manifest.table, qrels, (qid) => queryCaller(byId.get(qid) ?? { id: qid, text: '' }, opts.caller));
  if (coverage.missing > 0) {
    const what = `${coverage.missing} of ${coverage.relevant} judged-relevant ids (in ${Object.keys(coverage.perQuery).length} of ${judged.length} queries) can never be retrieved from index "${retriever.manifest.name}"`;
    if (!opts.allowMissing) {
      throw new UsageError(`${golden.source}: ${what}:\n${describeMissing(coverage).join('\n')}`, missingFix(coverage, retriever.manifest.name));
    }
    opts.notice?.(`${what} (--allow-missing: scored as misses, judged_missing = ${coverage.missing})`);
  }

  const run: Run = new Map();
  const stageValues: Record<string, number[]> = {};
  const queryMs: Record<string, number> = {};
  const queryStageMs: Record<string, Record<string, number>> = {};
  const queryTexts: Record<string, string> = {};
  const common = {
    mode, caller: opts.caller, rerank, rerankTopN: retrieval.rerank_top_n, rrfK: retrieval.rrf_k,
    candidates: retrieval.candidates, weights: retrieval.weights, fetch: false,
  } as const;
  // The deep ranking is ids only; passages are read for reranking and for the interactive head.
  await retriever.warm({ rerank, passages: Boolean(rerank) });
  let done = 0;
  for (const q of golden.queries) {
    const caller = queryCaller(q, opts.caller);
    const unit = judgmentUnit(golden.qrels, q.id);
    // The interactive search fetches its passages as `rag query` does, so its latency (the gate's p95_ms) includes that stage.
    const asked = await retriever.search(q.text, { ...common, caller, k: config.retrieval.k, fetch: true });
    const res = await retriever.search(q.text, { ...common, caller, k: depth, groupByDoc: unit === 'doc' });
    const key = (h: { doc_id: string; chunk_id: string }) => (unit === 'doc' ? h.doc_id : h.chunk_id);
    const ids = res.ranked.map(key);
    if (!isPrefix(dedupe(asked.ranked.map(key)), ids)) {
      throw new Error(`internal error: query ${q.id}'s interactive ranking is not the head of its eval ranking (please report it)`);
    }
    const scores = strictlyDecreasing(res.ranked.map((h) => h.score));
    run.set(q.id, ids.map((docId, i) => ({ docId, score: scores[i]! })));
    queryStageMs[q.id] = {};
    for (const [stage, ms] of Object.entries(asked.timings as StageTimings)) {
      if (typeof ms === 'number') {
        (stageValues[stage] ??= []).push(ms);
        queryStageMs[q.id]![stage] = Math.round(ms * 1000) / 1000;
      }
    }
    queryMs[q.id] = asked.timings.total_ms;
    queryTexts[q.id] = q.text;
    opts.onProgress?.(++done, golden.queries.length);
  }
  const result = evaluate(qrels, run, { ks: retrieval.ks, completeQueries: true });
  const timings: EvalOutcome['timings'] = {};
  for (const stage of Object.keys(stageValues).sort()) timings[stage] = latencySummary(stageValues[stage]!);
  return {
    goldenHash: golden.hash,
    retrieval,
    retrievalHash: stableHash(retrieval),
    index: retriever.manifest,
    run,
    result,
    timings,
    queryMs,
    queryStageMs,
    queryTexts,
    coverage,
  };
}

/** Metric values, latency keys and judged_missing: the namespace an eval gate reads. */
export function gateValues(outcome: Pick<EvalOutcome, 'result' | 'timings'> & { coverage?: Coverage }): Record<string, number> {
  const v: Record<string, number> = { ...outcome.result.mean };
  const total = outcome.timings.total_ms;
  if (total) {
    v.p50_ms = total.p50;
    v.p90_ms = total.p90;
    v.p95_ms = total.p95;
    v.p99_ms = total.p99;
    v.mean_ms = total.mean;
    v.max_ms = total.max;
  }
  if (outcome.coverage) v.judged_missing = outcome.coverage.missing;
  return v;
}

/** Rounds metric values to 10 decimals so tiny float noise never changes the bytes of metrics.json. */
function roundAll(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(values)) out[k] = Number.isInteger(x) ? x : Math.round(x * 1e10) / 1e10;
  return out;
}

export interface ArtifactFiles {
  'run.trec': string;
  'metrics.json': string;
  'manifest.json': string;
  'timings.json': string;
  'report.md': string;
  'junit.xml'?: string;
  'queries.json'?: string;
  /** The gate's verdict per rule, when gating (read by report.html and `rag runs`). */
  'gate.json'?: string;
  /** The weakest queries with their top passages, as each query's caller saw them. */
  'worst-queries.json'?: string;
  'report.html'?: string;
}

export function metricsJson(outcome: EvalOutcome, golden: GoldenSet): string {
  const perQuery: Record<string, Record<string, number>> = {};
  for (const [qid, v] of Object.entries(outcome.result.perQuery)) perQuery[qid] = roundAll(v);
  const doc = {
    golden: { source: golden.source, hash: golden.hash, queries: golden.queries.length },
    index: {
      name: outcome.index.name,
      model: outcome.index.model,
      chunker_hash: outcome.index.chunker.hash,
      table_version: outcome.index.table_version,
    },
    retrieval: outcome.retrieval,
    retrieval_hash: outcome.retrievalHash,
    queries: outcome.result.queries,
    mean: roundAll(outcome.result.mean),
    per_query: perQuery,
    judged_missing: { total: outcome.coverage.missing, per_query: outcome.coverage.perQuery },
  };
  return `${JSON.stringify(JSON.parse(stableStringify(doc)), null, 2)}\n`;
}

/** The file every eval artifact holds: what makes a directory replaceable by the next eval. */
export const EVAL_MARKER = 'metrics.json';

/** Writes an artifact directory atomically: everything goes to a temp sibling, then one rename. */
export function writeArtifact(outDir: string, files: ArtifactFiles, opts: { overwrite?: boolean; unique?: boolean } = {}): string {
  return writeOutDir(outDir, { ...files }, { ...opts, marker: EVAL_MARKER });
}

