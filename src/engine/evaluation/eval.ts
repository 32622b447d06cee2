import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { RagConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { stableHash, stableStringify } from '../hash.js';
import type { GoldenSet } from './goldens.js';
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
  onProgress?: (done: number, total: number) => void;
}

export interface EvalOutcome {
  goldenHash: string;
  retrieval: Record<string, unknown>;
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

/** Who a golden query searches as: its own principals when the golden line names them, else the eval's caller. */
export function queryCaller(q: GoldenSet['queries'][number], fallback: Caller): Caller {
  return q.principals ? { principals: [...new Set(['public', ...q.principals])].sort(), tenant: q.tenant ?? fallback.tenant } : { ...fallback, tenant: q.tenant ?? fallback.tenant };
}

/**
 * Runs every golden query through the same retriever as `rag query` (ACL pre-filter included) and
 * scores the ranking with trec_eval's definitions. Documents score as their best chunk.
 */
export async function runEval(retriever: Retriever, config: RagConfig, golden: GoldenSet, opts: EvalOptions): Promise<EvalOutcome> {
  const depth = Math.max(...opts.ks);
  const mode = opts.mode ?? retriever.defaultMode();
  const rerank = opts.rerank === undefined ? config.retrieval.rerank ?? null : opts.rerank;
  const retrieval = {
    index: retriever.manifest.name,
    mode,
    rerank,
    rerankTopN: opts.rerankTopN ?? config.retrieval.rerankTopN,
    rrfK: opts.rrfK ?? config.retrieval.rrfK,
    candidates: opts.candidates ?? config.retrieval.candidates,
    weights: opts.weights ?? config.retrieval.weights,
    depth,
    ks: [...opts.ks].sort((a, b) => a - b),
  };
  const qrels = liftToDocs(golden.qrels);
  const run: Run = new Map();
  const stageValues: Record<string, number[]> = {};
  const queryMs: Record<string, number> = {};
  const queryStageMs: Record<string, Record<string, number>> = {};
  const queryTexts: Record<string, string> = {};
  // Eval ranks ids only; passages are read just for reranking.
  await retriever.warm({ rerank, passages: Boolean(rerank) });
  let done = 0;
  for (const q of golden.queries) {
    const caller = queryCaller(q, opts.caller);
    const unit = judgmentUnit(golden.qrels, q.id);
    const res = await retriever.search(q.text, {
      mode,
      k: depth,
      caller,
      rerank,
      rerankTopN: retrieval.rerankTopN,
      rrfK: retrieval.rrfK,
      candidates: retrieval.candidates,
      weights: retrieval.weights,
      groupByDoc: unit === 'doc',
      fetch: false,
    });
    run.set(
      q.id,
      res.ranked.map((h) => ({ docId: unit === 'doc' ? h.doc_id : h.chunk_id, score: h.score })),
    );
    queryStageMs[q.id] = {};
    for (const [stage, ms] of Object.entries(res.timings as StageTimings)) {
      if (typeof ms === 'number') {
        (stageValues[stage] ??= []).push(ms);
        queryStageMs[q.id]![stage] = Math.round(ms * 1000) / 1000;
      }
    }
    queryMs[q.id] = res.timings.total_ms;
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
  };
}

/** Metric values plus latency keys, the namespace a gate expression reads. */
export function gateValues(outcome: Pick<EvalOutcome, 'result' | 'timings'>): Record<string, number> {
  const v: Record<string, number> = { ...outcome.result.mean };
  const total = outcome.timings.total_ms;
  if (total) {
    v.p50_ms = total.p50;
    v.p95_ms = total.p95;
    v.p99_ms = total.p99;
  }
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
      table_version: outcome.index.tableVersion,
    },
    retrieval: outcome.retrieval,
    retrieval_hash: outcome.retrievalHash,
    queries: outcome.result.queries,
    mean: roundAll(outcome.result.mean),
    per_query: perQuery,
  };
  return `${JSON.stringify(JSON.parse(stableStringify(doc)), null, 2)}\n`;
}

/** Writes an artifact directory atomically: everything goes to a temp sibling, then one rename. */
export function writeArtifact(outDir: string, files: ArtifactFiles, opts: { overwrite?: boolean } = {}): string {
  const target = path.resolve(outDir);
  if (existsSync(target) && !opts.overwrite) {
    throw new UsageError(`output directory ${target} already exists`, 'pass another --out, or --overwrite');
  }
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (content !== undefined) writeFileSync(path.join(tmp, name), content);
  }
  if (existsSync(target)) {
    const old = `${target}.old-${process.pid}`;
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
  return target;
}

