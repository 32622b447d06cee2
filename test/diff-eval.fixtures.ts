/**
 * Constructed pairs of runs with known answers, for the diff-eval suites.
 *
 * Query i has one relevant document `q{i}-rel` (grade 1) and judged non-relevant `q{i}-n1`; the
 * rest of each ranking is unjudged filler. A run is described by the rank at which it places the
 * relevant document for each query, so the effect on ndcg@10 / mrr@10 is known by construction.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DiffInput } from '../src/engine/evaluation/diff.js';
import { formatGoldenJsonl, goldenHash, type GoldenQuery } from '../src/engine/evaluation/goldens.js';
import { stableHash } from '../src/engine/hash.js';
import { evaluate } from '../src/engine/evaluation/metrics.js';
import type { Qrels, Run, RunEntry } from '../src/engine/evaluation/qrels.js';
import { mulberry32 } from '../src/engine/evaluation/stats.js';
import { formatQrels, formatRun } from '../src/engine/evaluation/trec.js';

export const DEPTH = 20;
export const KS = [1, 3, 5, 10, 100];

export const qid = (i: number) => `q${i + 1}`;

export function queries(n: number): GoldenQuery[] {
  return Array.from({ length: n }, (_, i) => ({ id: qid(i), text: `what does experiment ${i + 1} show about topic ${i % 7}` }));
}

export function qrelsFor(n: number): Qrels {
  const q: Qrels = new Map();
  for (let i = 0; i < n; i++) q.set(qid(i), new Map([[`${qid(i)}-rel`, 1], [`${qid(i)}-n1`, 0]]));
  return q;
}

/** A ranking of DEPTH documents with the relevant one at `relRank` (1-based; > DEPTH = absent). */
export function ranking(q: string, relRank: number): RunEntry[] {
  const docs: string[] = [];
  let filler = 1;
  for (let r = 1; r <= DEPTH; r++) {
    if (r === relRank) docs.push(`${q}-rel`);
    else if (r === 2 && relRank !== 2) docs.push(`${q}-n1`);
    else docs.push(`${q}-f${String(filler++).padStart(2, '0')}`);
  }
  return docs.map((docId, i) => ({ docId, score: DEPTH - i }));
}

export function runFromRanks(ranks: readonly number[]): Run {
  return new Map(ranks.map((r, i) => [qid(i), ranking(qid(i), r)]));
}

/**
 * Relevant-document ranks for known situations:
 * - identical: B = A;
 * - drop: on two queries in three the relevant document falls four places (1–3 → 5–7);
 * - noise: B's ranks are A's ranks shuffled across queries — queries move both ways, every
 *   metric's mean is exactly unchanged;
 * - exchangeable: A and B draw each query's rank independently from the same distribution, so
 *   the null hypothesis holds (used to check the false-positive rate over many seeds).
 */
export function scenario(kind: 'identical' | 'drop' | 'noise' | 'exchangeable', n = 60, seed = 7): { a: number[]; b: number[] } {
  const rand = mulberry32(seed);
  const draw = () => 1 + Math.floor(rand() * 12); // uniform on 1..12: sometimes outside the top 10
  if (kind === 'exchangeable') {
    const a = Array.from({ length: n }, draw);
    const b = Array.from({ length: n }, draw);
    return { a, b };
  }
  if (kind === 'noise') {
    const a = Array.from({ length: n }, draw);
    const b = [...a];
    for (let i = b.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [b[i], b[j]] = [b[j], b[i]];
    }
    return { a, b };
  }
  const a = Array.from({ length: n }, (_, i) => 1 + (i % 3));
  if (kind === 'identical') return { a, b: [...a] };
  return { a, b: a.map((r, i) => (i % 3 === 2 ? r : r + 4)) };
}

export interface InputSpec {
  path: string;
  ranks: readonly number[];
  qrels?: Qrels;
  goldenHash?: string;
  facts?: Array<[string, string]>;
  label?: string;
}

/** An in-memory DiffInput, scored exactly as `rag eval` would score the run. */
export function inputFrom(spec: InputSpec): DiffInput {
  const n = spec.ranks.length;
  const qrels = spec.qrels ?? qrelsFor(n);
  const run = runFromRanks(spec.ranks);
  const result = evaluate(qrels, run, { ks: KS, completeQueries: true });
  const perQuery = result.perQuery;
  return {
    path: spec.path,
    kind: 'artifact',
    goldenHash: spec.goldenHash ?? goldenHash(queries(n), qrels),
    perQuery,
    metrics: Object.keys(Object.values(perQuery)[0]),
    run,
    queryTexts: Object.fromEntries(queries(n).map((q) => [q.id, q.text])),
    qrels,
    facts: spec.facts ?? [['golden set hash', spec.goldenHash ?? goldenHash(queries(n), qrels)]],
    label: spec.label ?? spec.path,
  };
}

export interface ArtifactSpec {
  ranks: readonly number[];
  mode: 'bm25' | 'hybrid';
  model?: { id: string; weights_sha256: string } | null;
  /** Override the queries (e.g. a different golden set). */
  goldenQueries?: GoldenQuery[];
  /** Where the golden JSONL lives (written once by writeGolden). */
  goldenFile: string;
}

/** Write the golden set as rag JSONL; returns its path. */
export function writeGolden(dir: string, n: number, qs: GoldenQuery[] = queries(n)): string {
  const file = path.join(dir, `golden-${stableHash(qs).slice(0, 8)}.jsonl`);
  writeFileSync(file, formatGoldenJsonl(qs, qrelsFor(n)));
  return file;
}

/** Write a run artifact in the layout `rag eval --out` produces. */
export function writeArtifactDir(dir: string, spec: ArtifactSpec): string {
  const n = spec.ranks.length;
  const qs = spec.goldenQueries ?? queries(n);
  const qrels = qrelsFor(n);
  const hash = goldenHash(qs, qrels);
  const run = runFromRanks(spec.ranks);
  const result = evaluate(qrels, run, { ks: KS, completeQueries: true });
  const model = spec.model === undefined ? null : spec.model;
  const index = {
    name: 'default',
    table: 'idx_default',
    model: model ? { ...model, kind: 'onnx', dim: 384 } : null,
    chunker: { config: { max_tokens: 256, overlap_tokens: 32, hard_max_tokens: 512 }, hash: 'c0ffee' },
    fts: {},
    ann: null,
    rows: 1234,
    table_version: 3,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
  };
  const retrieval = { index: 'default', mode: spec.mode, rerank: null, rrf_k: 60, candidates: 100, depth: 100, ks: KS };
  const golden = { source: `jsonl:${spec.goldenFile}`, hash, queries: n };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.trec'), formatRun(run, `rag-${spec.mode}`));
  writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify({
    golden,
    index: { name: 'default', model: index.model, chunker_hash: 'c0ffee', table_version: 3 },
    retrieval,
    retrieval_hash: stableHash(retrieval),
    queries: result.queries,
    mean: result.mean,
    per_query: result.perQuery,
  }, null, 2));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    rag_version: '0.1.0',
    node_version: process.version,
    created_at: '2024-01-01T00:00:00.000Z',
    golden,
    index,
    retrieval,
    retrieval_hash: stableHash(retrieval),
    caller: { principals: ['public'], tenant: 'default' },
  }, null, 2));
  writeFileSync(path.join(dir, 'queries.json'), JSON.stringify(Object.fromEntries(qs.map((q) => [q.id, q.text])), null, 2));
  return dir;
}

export function writeQrelsFile(file: string, n: number): string {
  writeFileSync(file, formatQrels(qrelsFor(n)));
  return file;
}

export function writeRunFile(file: string, ranks: readonly number[], tag: string): string {
  writeFileSync(file, formatRun(runFromRanks(ranks), tag));
  return file;
}
