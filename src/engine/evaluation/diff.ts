/**
 * `rag diff-eval`: is run B better than run A, on which queries, and is the difference real?
 *
 * Inputs are run artifacts written by `rag eval --out` (metrics.json + manifest.json + run.trec +
 * queries.json) or plain TREC run files scored here against `--qrels`. Both are reduced to a
 * `DiffInput`: per-query metric values, the ranked lists (for "which documents entered or left the
 * top k"), query texts, and a flat list of facts (golden set, model, weights, chunker, retrieval
 * config, index version) whose differences explain what changed between A and B.
 *
 * Statistics (all paired over the queries both runs scored, all seeded, so identical inputs give
 * identical numbers): percentile bootstrap CI of mean(B − A), a two-sided paired randomization
 * (sign-flip) test and a paired t-test per metric. The permutation p-value is primary: it is the
 * one Holm–Bonferroni-adjusted across the compared metrics for the gate (`p Holm`). The t-test p is
 * reported beside it (and Holm-adjusted too, for reference) — when the two disagree, the
 * per-query differences are far from normal and the permutation test is the one to trust.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkOutDir, writeOutDir } from '../artifact.js';
import { normaliseArtifactFile } from './artifact-keys.js';
import { InputError, UsageError } from '../errors.js';
import { checkDiffGate, normaliseMetricName, type DiffGateOutcome, type DiffGateRule, type UnderpoweredPolicy } from './gate.js';
import { loadGoldenSet } from './goldens.js';
import { stableHash, stableStringify } from '../hash.js';
import { DEFAULT_KS, evaluate, rankTopic } from './metrics.js';
import { docIdOf, qrelsToObject, type Qrels, type Run } from './qrels.js';
import {
  DEFAULT_ITERATIONS,
  DEFAULT_SEED,
  EXACT_PERMUTATION_MAX_N,
  compareRuns,
  holmBonferroni,
  pairedTTest,
  testPower,
  type MetricComparison,
} from './stats.js';
import { assertScorable, parseTrecRun, readQrels } from './trec.js';

/** Compared when `--metric` is not given (those both inputs have). */
export const DEFAULT_DIFF_METRICS = ['ndcg@10', 'mrr@10', 'recall@100'] as const;

export type PerQuery = Record<string, Record<string, number>>;

export interface DiffInput {
  /** The path as the user gave it. */
  path: string;
  kind: 'artifact' | 'run';
  /** Content hash of the golden set (artifact) or of the qrels (run file). */
  goldenHash: string;
  perQuery: PerQuery;
  /** Metric names present for every query. */
  metrics: string[];
  /** Rankings, when run.trec is available; used for the documents that entered or left the top k. */
  run: Run | null;
  queryTexts: Record<string, string>;
  /** Judgments, when known (qrels file, or the golden set the artifact names, if its hash matches). */
  qrels: Qrels | null;
  /** What produced the run, flattened to `field → value` for the manifest diff; ordered. */
  facts: Array<[string, string]>;
  /** A short name for tables: retrieval mode (+ rerank) or run tag. */
  label: string;
}

export interface LoadInputOptions {
  /** Judgments file: required to score run files; with artifacts, only marks relevant documents. */
  qrels?: string;
  /** Extra cutoffs to compute when scoring a run file (from the requested metrics). */
  ks?: readonly number[];
}

type RunFileOptions = LoadInputOptions & { qrelsFile?: string };

// ---------------------------------------------------------------------------------------------
// Loading

/** One JSON file of an artifact, with old key spellings brought up to today's. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, undefined, `cannot read: ${(err as Error).message}`, 'check the path');
  }
  try {
    return normaliseArtifactFile(path.basename(file), JSON.parse(text));
  } catch (err) {
    throw new InputError(file, undefined, `invalid JSON: ${(err as Error).message}`, 're-create the artifact with rag eval --out DIR');
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function str(v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'none';
  return typeof v === 'string' ? v : stableStringify(v);
}

/** Metric names that every query has. */
function commonMetrics(perQuery: PerQuery): string[] {
  const rows = Object.values(perQuery);
  if (rows.length === 0) return [];
  return Object.keys(rows[0]).filter((m) => rows.every((r) => typeof r[m] === 'number'));
}

function parsePerQuery(file: string, value: unknown): PerQuery {
  if (!isRecord(value)) throw new InputError(file, undefined, 'per_query is missing or not an object', 're-create the artifact with rag eval --out DIR');
  const out: PerQuery = {};
  for (const [qid, row] of Object.entries(value)) {
    if (!isRecord(row)) throw new InputError(file, undefined, `per_query["${qid}"] is not an object of metric values`, 're-create the artifact with rag eval --out DIR');
    const values: Record<string, number> = {};
    for (const [m, x] of Object.entries(row)) {
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new InputError(file, undefined, `per_query["${qid}"]["${m}"] is not a finite number`, 're-create the artifact with rag eval --out DIR');
      }
      values[m] = x;
    }
    out[qid] = values;
  }
  return out;
}

/** Hash of judgments alone: the "golden set" identity of a run scored against a qrels file. */
export function qrelsHash(qrels: Qrels): string {
  return stableHash({ qrels: qrelsToObject(qrels) });
}

/** Cutoffs the metric names need (`ndcg@20` → 20), plus the defaults. */
export function cutoffsFor(metrics: readonly string[]): number[] {
  const ks = new Set<number>(DEFAULT_KS);
  for (const m of metrics) {
    const k = /@(\d+)$/.exec(m)?.[1];
    if (k) ks.add(Number(k));
  }
  return [...ks].sort((a, b) => a - b);
}

/** Load A or B: a `rag eval` artifact directory, or a TREC run file (then `opts.qrels` is required). */
export async function loadDiffInput(input: string, opts: LoadInputOptions = {}): Promise<DiffInput> {
  const info = existsSync(input) ? statSync(input) : undefined;
  if (!info) {
    throw new InputError(input, undefined, 'not found',
      'pass a directory written by `rag eval --out DIR`, or a TREC run file together with --qrels FILE');
  }
  const qrels = opts.qrels ? await readQrels(opts.qrels) : null;
  return info.isDirectory() ? loadArtifact(input, qrels) : loadRunFile(input, qrels, { ...opts, qrelsFile: opts.qrels });
}

async function loadArtifact(dir: string, qrelsGiven: Qrels | null): Promise<DiffInput> {
  const metricsFile = path.join(dir, 'metrics.json');
  if (!existsSync(metricsFile)) {
    throw new InputError(dir, undefined, 'is a directory without metrics.json, so not a run artifact',
      'pass a directory written by `rag eval --out DIR`, or a TREC run file with --qrels FILE');
  }
  const metrics = readJson(metricsFile);
  if (!isRecord(metrics)) throw new InputError(metricsFile, undefined, 'not a JSON object', 're-create the artifact with rag eval --out DIR');
  const perQuery = parsePerQuery(metricsFile, metrics.per_query);
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = existsSync(manifestFile) ? readJson(manifestFile) : undefined;
  const m = isRecord(manifest) ? manifest : {};
  const golden = isRecord(m.golden) ? m.golden : isRecord(metrics.golden) ? metrics.golden : {};
  const goldenHash = typeof golden.hash === 'string' ? golden.hash : undefined;
  if (!goldenHash) {
    throw new InputError(metricsFile, undefined, 'golden.hash is missing, so the golden set cannot be checked',
      're-create the artifact with rag eval --out DIR');
  }
  const retrieval = isRecord(m.retrieval) ? m.retrieval : isRecord(metrics.retrieval) ? metrics.retrieval : {};

  const runFile = path.join(dir, 'run.trec');
  // rag eval percent-encodes ids with whitespace when it writes run.trec; undo that so ids match the judgments.
  const run = existsSync(runFile) ? parseTrecRun(readFileSync(runFile, 'utf8'), runFile, { decodeIds: true }) : null;
  const queriesFile = path.join(dir, 'queries.json');
  const texts = existsSync(queriesFile) ? readJson(queriesFile) : {};
  const queryTexts: Record<string, string> = {};
  if (isRecord(texts)) for (const [q, t] of Object.entries(texts)) if (typeof t === 'string') queryTexts[q] = t;

  let qrels = qrelsGiven;
  if (!qrels && typeof golden.source === 'string') {
    // Best effort: the golden set is only used for relevance marks and missing query texts, and
    // only when it is still the one the artifact was scored on.
    try {
      const set = await loadGoldenFromSource(golden.source);
      if (set.hash === goldenHash) {
        qrels = set.qrels;
        for (const q of set.queries) queryTexts[q.id] ??= q.text;
      }
    } catch {
      /* not available here: no relevance marks */
    }
  }

  return {
    path: dir,
    kind: 'artifact',
    goldenHash,
    perQuery,
    metrics: commonMetrics(perQuery),
    run,
    queryTexts,
    qrels,
    facts: artifactFacts(m, metrics, golden, retrieval),
    label: `${str(retrieval.mode)}${retrieval.rerank ? '+rerank' : ''}`,
  };
}

/**
 * Re-open the golden set an artifact names in `golden.source`, as `rag eval` wrote it:
 * `jsonl:FILE`, `beir:DIR (split S)` or `qrels:FILE + queries:FILE` (a bare path also works).
 */
export function loadGoldenFromSource(source: string): ReturnType<typeof loadGoldenSet> {
  const beir = /^beir:(.*) \(split (.+)\)$/.exec(source);
  if (beir) return loadGoldenSet(beir[1], { split: beir[2] });
  const pair = /^qrels:(.*) \+ queries:(.*)$/.exec(source);
  if (pair) return loadGoldenSet(pair[2], { qrels: pair[1] });
  return loadGoldenSet(source.replace(/^jsonl:/, ''));
}

function artifactFacts(
  manifest: Record<string, unknown>,
  metrics: Record<string, unknown>,
  golden: Record<string, unknown>,
  retrieval: Record<string, unknown>,
): Array<[string, string]> {
  const index = isRecord(manifest.index) ? manifest.index : isRecord(metrics.index) ? metrics.index : {};
  const model = isRecord(index.model) ? index.model : null;
  const chunker = isRecord(index.chunker) ? index.chunker : null;
  const facts: Array<[string, string]> = [
    ['golden set hash', str(golden.hash)],
    ['golden set source', str(golden.source)],
    ['golden set queries', str(golden.queries)],
    ['model', model ? str(model.id) : index.model === null ? 'none (BM25 only)' : '—'],
    ['model weights sha256', model ? str(model.weights_sha256) : '—'],
    ['model dim', model ? str(model.dim) : '—'],
    ['chunker hash', str(chunker ? chunker.hash : index.chunker_hash)],
    ['chunker config', chunker ? str(chunker.config) : '—'],
    ['index name', str(index.name)],
    ['index table version', str(index.table_version)],
    ['index rows', str(index.rows)],
  ];
  for (const key of Object.keys(retrieval).sort()) facts.push([`retrieval ${key}`, str(retrieval[key])]);
  // Hashed again from the settings as read: a run written before keys were snake_case stored the
  // hash of the old spellings, and the same settings must not show as a difference.
  const stored = manifest.retrieval_hash ?? metrics.retrieval_hash;
  facts.push(['retrieval hash', Object.keys(retrieval).length ? stableHash(retrieval) : str(stored)]);
  facts.push(['caller', str(manifest.caller)]);
  facts.push(['rag version', str(manifest.rag_version)]);
  return facts;
}

async function loadRunFile(file: string, qrels: Qrels | null, opts: RunFileOptions): Promise<DiffInput> {
  if (!qrels) {
    throw new UsageError(`${file} is a file, so it is read as a TREC run, which needs judgments to be scored`,
      'pass --qrels FILE (TREC or BEIR qrels), or give a directory written by `rag eval --out DIR`');
  }
  const text = readFileSync(file, 'utf8');
  const run = parseTrecRun(text, file);
  assertScorable(qrels, run, opts.qrelsFile ?? 'the qrels', file);
  const tag = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim().split(/\s+/)[5] ?? '—';
  // -c semantics, as `rag eval`: a judged query the run has no answer for scores zero.
  const result = evaluate(qrels, run, { ks: opts.ks ?? DEFAULT_KS, completeQueries: true });
  const hash = qrelsHash(qrels);
  return {
    path: file,
    kind: 'run',
    goldenHash: hash,
    perQuery: result.perQuery,
    metrics: commonMetrics(result.perQuery),
    run,
    queryTexts: {},
    qrels,
    facts: [
      ['golden set hash', hash],
      ['run file', file],
      ['run tag', tag],
      ['queries in run', String(run.size)],
    ],
    label: tag,
  };
}

// ---------------------------------------------------------------------------------------------
// Comparability

export interface FactDifference {
  field: string;
  a: string;
  b: string;
}

/** Fields whose values differ between A and B (fields only one side knows are listed too). */
export function manifestDifferences(a: DiffInput, b: DiffInput): FactDifference[] {
  const bMap = new Map(b.facts);
  const aMap = new Map(a.facts);
  const out: FactDifference[] = [];
  for (const [field, va] of a.facts) {
    const vb = bMap.get(field) ?? '—';
    if (va !== vb) out.push({ field, a: va, b: vb });
  }
  for (const [field, vb] of b.facts) if (!aMap.has(field) && vb !== '—') out.push({ field, a: '—', b: vb });
  return out;
}

export function describeDifferences(diffs: readonly FactDifference[], width = 64): string[] {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  return diffs.map((d) => `${d.field}: ${cut(d.a)} → ${cut(d.b)}`);
}

/**
 * Two runs scored on different golden sets cannot be compared query by query: refuse (exit 2)
 * with what differs, unless forced.
 */
export function assertComparable(a: DiffInput, b: DiffInput, force: boolean): void {
  if (a.goldenHash === b.goldenHash || force) return;
  const lines = describeDifferences(manifestDifferences(a, b)).map((l) => `  ${l}`);
  throw new UsageError(
    `A and B were not scored on the same golden set (hash ${a.goldenHash.slice(0, 12)}… vs ${b.goldenHash.slice(0, 12)}…), so their per-query numbers are not paired.\n` +
      `What differs between A (${a.path}) and B (${b.path}):\n${lines.join('\n')}`,
    're-run `rag eval` for both on the same --golden, or pass --force to compare the queries they share anyway',
  );
}

// ---------------------------------------------------------------------------------------------
// Metrics to compare

/**
 * The compared metrics: those asked for (default ndcg@10, mrr@10, recall@100 when both have
 * them), plus any metric a gate rule names. Every one must exist in both inputs.
 */
export function resolveMetrics(requested: readonly string[], gateRules: readonly DiffGateRule[], a: DiffInput, b: DiffInput): string[] {
  const both = a.metrics.filter((m) => b.metrics.includes(m));
  const missingFrom = (m: string) => [a, b].filter((x) => !x.metrics.includes(m));
  const check = (m: string) => {
    const missing = missingFrom(m);
    if (missing.length) {
      throw new UsageError(`metric ${m} is not in ${missing.map((x) => x.path).join(' and ')}`,
        `compare one both have (${both.slice(0, 12).join(', ')}${both.length > 12 ? ', …' : ''}), or re-run rag eval with --k including that cutoff`);
    }
  };
  let metrics: string[];
  if (requested.length) {
    metrics = requested.map((name) => {
      const m = normaliseMetricName(name);
      if (!m) throw new UsageError(`unknown metric "${name}"`, `compare one of: ${both.slice(0, 12).join(', ')}`);
      return m;
    });
  } else {
    metrics = DEFAULT_DIFF_METRICS.filter((m) => both.includes(m));
    if (metrics.length === 0) {
      if (both.length === 0) throw new UsageError(`${a.path} and ${b.path} have no metric in common`, 'compare two artifacts of rag eval');
      metrics = [both[0]];
    }
  }
  for (const rule of gateRules) if (rule.kind === 'max-drop') metrics.push(rule.metric);
  metrics = [...new Set(metrics)];
  metrics.forEach(check);
  return metrics;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface MetricDiff extends MetricComparison {
  /** delta / mean_a; null when mean_a is 0. */
  rel_delta: number | null;
  /** Two-sided paired randomization test (primary; `p` and `p_adjusted` are this test's). */
  p_permutation: number;
  permutation_exact: boolean;
  /** Two-sided paired t-test, and its Holm adjustment across the same metrics. */
  p_t_test: number;
  p_t_test_adjusted: number;
  t: number;
  df: number;
  /** Smallest p the permutation test can reach on this set (see stats.ts testPower). */
  min_p: number;
  /** Minimum detectable |Δ| at 80% power, alpha / (compared metrics); null below 2 queries. */
  mde: number | null;
}

export interface DocMove {
  doc_id: string;
  /** 1-based rank in A's / B's full ranking; null when that run did not retrieve it. */
  rank_a: number | null;
  rank_b: number | null;
  /** Judged grade, when judgments are known; undefined = not judged or unknown. */
  rel?: number;
}

export interface Mover {
  qid: string;
  text?: string;
  a: number;
  b: number;
  delta: number;
  /** In B's top k but not A's. */
  entered: DocMove[];
  /** In A's top k but not B's. */
  left: DocMove[];
  /** Every judged-relevant document (grade > 0) with its rank in A and in B: why the metric moved. */
  relevant: DocMove[];
}

export interface DiffOptions {
  metrics: readonly string[];
  alpha?: number;
  iterations?: number;
  seed?: number;
  confidence?: number;
  /** Top k for entered / left documents. */
  k?: number;
  /** Movers per direction. */
  top?: number;
  gate?: readonly DiffGateRule[];
  /** What a gate does with a drop beyond its allowance that the set is too small to test. */
  underpowered?: UnderpoweredPolicy;
  /** Set when golden sets differ and the user passed --force. */
  forced?: boolean;
}

export interface DiffResult {
  a: { path: string; kind: DiffInput['kind']; label: string; golden_hash: string };
  b: { path: string; kind: DiffInput['kind']; label: string; golden_hash: string };
  same_golden_set: boolean;
  forced: boolean;
  /** What differs between the two manifests (model, weights, chunker, retrieval, index, golden set). */
  differences: FactDifference[];
  settings: {
    alpha: number; iterations: number; seed: number; confidence: number; k: number; top: number; test: 'permutation'; correction: 'holm';
    underpowered: UnderpoweredPolicy; power: number;
  };
  queries: { paired: number; only_in_a: string[]; only_in_b: string[] };
  metrics: MetricDiff[];
  movers: {
    metric: string;
    k: number;
    /** False when a run.trec is missing, so entered/left documents are unknown. */
    rankings: boolean;
    improved: Mover[];
    regressed: Mover[];
  };
  gate: DiffGateOutcome | null;
}

export const DEFAULT_ALPHA = 0.05;
/** The power at which the minimum detectable effect is reported. */
export const POWER = 0.8;

/** Compare B against A. Pure and deterministic for given inputs and seed. */
export function diffRuns(a: DiffInput, b: DiffInput, opts: DiffOptions): DiffResult {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must be between 0 and 1, got ${alpha}`, 'e.g. --alpha 0.05');
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const seed = opts.seed ?? DEFAULT_SEED;
  const confidence = opts.confidence ?? 0.95;
  const k = opts.k ?? 10;
  const top = opts.top ?? 5;
  if (opts.metrics.length === 0) throw new UsageError('no metric to compare', 'pass --metric ndcg@10');

  const base = compareRuns(a.perQuery, b.perQuery, opts.metrics, { test: 'permutation', iterations, seed, confidence });
  if (base.qids.length === 0) {
    throw new UsageError(`${a.path} and ${b.path} have no query in common`, 'compare two runs of the same golden set');
  }
  const ttests = opts.metrics.map((metric) =>
    pairedTTest(
      base.qids.map((q) => a.perQuery[q][metric] ?? 0),
      base.qids.map((q) => b.perQuery[q][metric] ?? 0),
    ),
  );
  const tAdjusted = holmBonferroni(ttests.map((t) => t.p));
  // Holm tests the smallest p at alpha / m: a change must be that clear to pass the gate.
  const powers = opts.metrics.map((metric) =>
    testPower(
      base.qids.map((q) => a.perQuery[q][metric] ?? 0),
      base.qids.map((q) => b.perQuery[q][metric] ?? 0),
      alpha / opts.metrics.length,
      { power: POWER, iterations },
    ),
  );
  const metrics: MetricDiff[] = base.comparisons.map((c, i) => ({
    ...c,
    rel_delta: c.mean_a !== 0 ? c.delta / Math.abs(c.mean_a) : null,
    p_permutation: c.p,
    permutation_exact: c.n <= EXACT_PERMUTATION_MAX_N,
    p_t_test: ttests[i].p,
    p_t_test_adjusted: tAdjusted[i],
    t: ttests[i].t,
    df: ttests[i].df,
    min_p: powers[i].min_p,
    mde: powers[i].mde,
  }));

  const moversMetric = opts.metrics[0];
  const movers = findMovers(a, b, base.qids, moversMetric, k, top);
  const underpowered = opts.underpowered ?? 'fail';
  const gate = opts.gate && opts.gate.length ? checkDiffGate(opts.gate, metrics, alpha, underpowered) : null;

  return {
    a: { path: a.path, kind: a.kind, label: a.label, golden_hash: a.goldenHash },
    b: { path: b.path, kind: b.kind, label: b.label, golden_hash: b.goldenHash },
    same_golden_set: a.goldenHash === b.goldenHash,
    forced: Boolean(opts.forced) && a.goldenHash !== b.goldenHash,
    differences: manifestDifferences(a, b),
    settings: { alpha, iterations, seed, confidence, k, top, test: 'permutation', correction: 'holm', underpowered, power: POWER },
    queries: { paired: base.qids.length, only_in_a: base.only_in_a, only_in_b: base.only_in_b },
    metrics,
    movers: { metric: moversMetric, k, rankings: Boolean(a.run && b.run), ...movers },
    gate,
  };
}

/** Differences smaller than this are ties (rounding in metrics.json is 1e-10). */
const TIE = 1e-9;

function findMovers(a: DiffInput, b: DiffInput, qids: readonly string[], metric: string, k: number, top: number): { improved: Mover[]; regressed: Mover[] } {
  const rows = qids.map((qid) => {
    const va = a.perQuery[qid][metric] ?? 0;
    const vb = b.perQuery[qid][metric] ?? 0;
    return { qid, a: va, b: vb, delta: vb - va };
  });
  // Stable order for equal deltas: the query order of the artifacts.
  const improved = rows.filter((r) => r.delta > TIE).sort((x, y) => y.delta - x.delta).slice(0, top);
  const regressed = rows.filter((r) => r.delta < -TIE).sort((x, y) => x.delta - y.delta).slice(0, top);
  const qrels = b.qrels ?? a.qrels;
  const detail = (r: (typeof rows)[number]): Mover => ({
    ...r,
    text: a.queryTexts[r.qid] ?? b.queryTexts[r.qid],
    ...topKChanges(a.run, b.run, qrels, r.qid, k),
  });
  return { improved: improved.map(detail), regressed: regressed.map(detail) };
}

/** Grade of a document: its own judgment, else the best judgment of one of its chunks. */
function gradeOf(judged: ReadonlyMap<string, number> | undefined, docId: string): number | undefined {
  if (!judged) return undefined;
  const own = judged.get(docId);
  if (own !== undefined) return own;
  let best: number | undefined;
  for (const [key, rel] of judged) if (key !== docId && docIdOf(key) === docId) best = Math.max(best ?? -Infinity, rel);
  return best;
}

/** The documents that entered and left the top k, with their ranks on both sides. */
export function topKChanges(runA: Run | null, runB: Run | null, qrels: Qrels | null, qid: string, k: number): { entered: DocMove[]; left: DocMove[]; relevant: DocMove[] } {
  if (!runA || !runB) return { entered: [], left: [], relevant: [] };
  // The order metrics see (score, then doc id as trec_eval), not the file's rank column.
  const rankedA = rankTopic(runA.get(qid) ?? []).map((e) => e.docId);
  const rankedB = rankTopic(runB.get(qid) ?? []).map((e) => e.docId);
  const rankIn = (ranked: string[]) => {
    const m = new Map(ranked.map((d, i) => [d, i + 1]));
    return (d: string) => m.get(d) ?? null;
  };
  const rA = rankIn(rankedA);
  const rB = rankIn(rankedB);
  const topA = new Set(rankedA.slice(0, k));
  const topB = new Set(rankedB.slice(0, k));
  const judged = qrels?.get(qid);
  const move = (docId: string): DocMove => {
    const rel = gradeOf(judged, docId);
    return { doc_id: docId, rank_a: rA(docId), rank_b: rB(docId), ...(rel !== undefined ? { rel } : {}) };
  };
  const relevantDocs = new Set<string>();
  for (const [key, rel] of judged ?? []) if (rel > 0) relevantDocs.add(rA(key) !== null || rB(key) !== null ? key : docIdOf(key));
  const bestRank = (m: DocMove) => Math.min(m.rank_a ?? Infinity, m.rank_b ?? Infinity);
  return {
    entered: rankedB.slice(0, k).filter((d) => !topA.has(d)).map(move),
    left: rankedA.slice(0, k).filter((d) => !topB.has(d)).map(move),
    relevant: [...relevantDocs].map(move).sort((x, y) => bestRank(x) - bestRank(y) || (x.doc_id < y.doc_id ? -1 : x.doc_id > y.doc_id ? 1 : 0)),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

/** The machine-readable comparison: stable key order, no timestamps (same inputs → same bytes). */
export function comparisonJson(result: DiffResult): string {
  return `${JSON.stringify(JSON.parse(stableStringify(result)), null, 2)}\n`;
}

/** An earlier diff-eval report holds this file; nothing else is ever replaced by --overwrite. */
export const DIFF_MARKER = 'comparison.json';

/** Refuses --out before the inputs are read (see checkOutDir). */
export function assertReplaceableOut(outDir: string, overwrite?: boolean): void {
  checkOutDir(outDir, { overwrite, marker: DIFF_MARKER });
}

/** Writes the report directory atomically: a temp sibling, then one rename. */
export function writeDiffReport(outDir: string, files: Record<string, string>, opts: { overwrite?: boolean } = {}): string {
  return writeOutDir(outDir, files, { ...opts, marker: DIFF_MARKER });
}
