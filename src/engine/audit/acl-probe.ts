/**
 * The ACL audit: an automated permission test over the real store.
 *
 * 1. Invariants, read straight from the tables: every row carries an ACL and a tenant, each chunk's
 *    ACL equals its document's, each index row's ACL equals its chunk's (a stale ACL in an index
 *    table is exactly what the pre-filter trusts, so it is a leak waiting to happen).
 * 2. Probes: for restricted chunks, queries built from the chunk's own distinctive terms and its most
 *    distinctive sentence are run through `Retriever.search` — the one code path every command uses —
 *    in every mode, as callers who may not see the chunk. A hit the caller may not see, judged by
 *    the document's ACL (the source of truth) as well as by the row's own, is a leak.
 */
import { highestAcl, type HighestAcl } from './audience.js';
import { isVisible, PUBLIC } from '../acl.js';
import type { RagConfig } from '../config.js';
import { mulberry32 } from '../evaluation/stats.js';
import { AclViolationError, errorMessage } from '../errors.js';
import type { IndexManifest } from '../store/manifest.js';
import { Retriever } from '../search/retriever.js';
import { CHUNKS, DOCUMENTS, type Store } from '../store/store.js';
import type { Caller, RetrievalMode } from '../types.js';
import { sameSet, selectIndexes } from './lineage.js';
import { duplicateRows, duplicateSideRows } from './uniqueness.js';

export interface AclProbeOptions {
  /** Index names to probe; default all. */
  indexes?: string[];
  /** Modes to probe (default bm25, vector, hybrid; vector modes only where the index has vectors). */
  modes?: RetrievalMode[];
  /** At most this many restricted chunks are probed per index (seeded sample). */
  maxProbes?: number;
  /** At most this many unauthorised callers per probed chunk (seeded sample, key callers always kept). */
  callersPerProbe?: number;
  seed?: number;
  k?: number;
  onProgress?: (p: { index: string; done: number; total: number }) => void;
  notice?: (msg: string) => void;
}

export interface AclRef {
  acl: string[];
  tenant: string;
}

export type ViolationKind =
  | 'document-missing-acl'
  | 'document-missing-tenant'
  | 'chunk-missing-acl'
  | 'chunk-missing-tenant'
  | 'chunk-orphan'
  | 'chunk-of-deleted-document'
  | 'chunk-acl-mismatch'
  | 'index-missing-acl'
  | 'index-missing-tenant'
  | 'index-orphan'
  | 'index-acl-mismatch'
  | 'duplicate-row';

export interface InvariantViolation {
  kind: ViolationKind;
  table: string;
  doc_id: string;
  chunk_id?: string;
  /** What the row should carry (its document's / chunk's ACL), when known. */
  expected?: AclRef;
  actual: AclRef;
  message: string;
}

export interface Leak {
  index: string;
  mode: RetrievalMode;
  caller: Caller;
  query: string;
  query_kind: QueryKind;
  /** The chunk the query was built from. */
  probe_chunk: string;
  chunk_id: string;
  doc_id: string;
  /** ACL and tenant of the returned row (what the pre-filter saw). */
  row_acl: AclRef;
  /** ACL and tenant of its document: who should see it. */
  true_acl: AclRef;
  /** result: returned as a hit; defence-in-depth: the retriever's own post-check refused it. */
  detected_by: 'result' | 'defence-in-depth';
  rank?: number;
}

export type QueryKind = 'terms' | 'sentence';

export interface IndexProbeSummary {
  index: string;
  modes: RetrievalMode[];
  skipped_modes: { mode: RetrievalMode; reason: string }[];
  rows: number;
  restricted_chunks: number;
  probed_chunks: number;
  /** probed_chunks / restricted_chunks (1 when nothing is restricted). */
  coverage: number;
  /** Probed chunks an authorised caller finds in the top k with the probe queries: evidence the probes would catch a leak. */
  reachable: number;
  reach_rate: number;
  trials: number;
  leaks: number;
}

export interface AclAuditReport {
  store: string;
  generated_at: string;
  seed: number;
  k: number;
  callers: Caller[];
  indexes: IndexProbeSummary[];
  trials: number;
  restricted_chunks: number;
  probed_chunks: number;
  coverage: number;
  leaks: Leak[];
  /** Every leaking trial, including repeats of a leak already listed. */
  leak_trials: number;
  violations: InvariantViolation[];
  passed: boolean;
  /** Leaks quote restricted text (the probe queries) and name restricted chunks: who may read this report. */
  highest_acl: HighestAcl;
}

const DEFAULT_MODES: RetrievalMode[] = ['bm25', 'vector', 'hybrid'];

type DocRow = { doc_id: string; acl: string[]; tenant: string; deleted: boolean };
type ChunkAclRow = { chunk_id: string; doc_id: string; acl: string[]; tenant: string };
type IndexProbeRow = ChunkAclRow & { text: string };

export async function auditAcl(store: Store, config: RagConfig, opts: AclProbeOptions = {}): Promise<AclAuditReport> {
  const seed = opts.seed ?? 1;
  const k = opts.k ?? 10;
  const maxProbes = opts.maxProbes ?? 200;
  const callersPerProbe = opts.callersPerProbe ?? 8;
  const manifests = await selectIndexes(store, opts.indexes);

  const docs = await store.readAll<DocRow>(DOCUMENTS, ['doc_id', 'acl', 'tenant', 'deleted']);
  const chunks = await store.readAll<ChunkAclRow>(CHUNKS, ['chunk_id', 'doc_id', 'acl', 'tenant']);
  const indexRows = new Map<string, IndexProbeRow[]>();
  for (const m of manifests) indexRows.set(m.name, await store.readAll<IndexProbeRow>(m.table, ['chunk_id', 'doc_id', 'acl', 'tenant', 'text']));

  const docById = new Map(docs.map((d) => [d.doc_id, d]));
  const chunkById = new Map(chunks.map((c) => [c.chunk_id, c]));
  const violations = [
    ...checkStoreInvariants(docs, chunks),
    ...manifests.flatMap((m) => checkIndexInvariants(m.table, indexRows.get(m.name)!, chunkById)),
    ...duplicateRows(DOCUMENTS, 'doc_id', docs),
    ...duplicateRows(CHUNKS, 'chunk_id', chunks),
    ...manifests.flatMap((m) => duplicateRows(m.table, 'chunk_id', indexRows.get(m.name)!)),
    ...(await duplicateSideRows(store)),
  ];

  // Who should see a row: its document decides; failing that, the chunks table; failing that, the row.
  const truth = (row: ChunkAclRow): AclRef => {
    const d = docById.get(row.doc_id);
    if (d) return { acl: d.acl, tenant: d.tenant };
    const c = chunkById.get(row.chunk_id);
    return c ? { acl: c.acl, tenant: c.tenant } : { acl: row.acl, tenant: row.tenant };
  };

  const callers = enumerateCallers(config, [docs, chunks, ...indexRows.values()].flat());
  const nobody: Caller = { principals: [], tenant: config.tenant.default };

  const leaks: Leak[] = [];
  const leakKeys = new Set<string>();
  let leakTrials = 0;
  const summaries: IndexProbeSummary[] = [];
  for (const m of manifests) {
    const rows = indexRows.get(m.name)!;
    const summary = await probeIndex(store, config, m, rows, {
      callers,
      nobody,
      truth,
      k,
      seed,
      maxProbes,
      callersPerProbe,
      modes: opts.modes ?? DEFAULT_MODES,
      notice: opts.notice,
      onProgress: opts.onProgress,
      onLeak: (leak) => {
        leakTrials++;
        const key = `${leak.index}\0${leak.mode}\0${callerKey(leak.caller)}\0${leak.chunk_id}`;
        if (leakKeys.has(key)) return;
        leakKeys.add(key);
        leaks.push(leak);
      },
    });
    summary.leaks = leaks.filter((l) => l.index === m.name).length;
    summaries.push(summary);
  }

  const restricted = summaries.reduce((s, x) => s + x.restricted_chunks, 0);
  const probed = summaries.reduce((s, x) => s + x.probed_chunks, 0);
  return {
    store: store.uri,
    generated_at: new Date().toISOString(),
    seed,
    k,
    callers: [...callers, nobody],
    indexes: summaries,
    trials: summaries.reduce((s, x) => s + x.trials, 0),
    restricted_chunks: restricted,
    probed_chunks: probed,
    coverage: restricted ? probed / restricted : 1,
    leaks,
    leak_trials: leakTrials,
    violations,
    passed: leaks.length === 0 && violations.length === 0,
    highest_acl: highestAcl([...leaks.flatMap((l) => [l.true_acl, l.row_acl]), ...violations.flatMap((v) => ('expected' in v && v.expected ? [v.expected, v.actual] : [v.actual]))]),
  };
}

interface ProbeContext {
  callers: Caller[];
  nobody: Caller;
  truth: (row: ChunkAclRow) => AclRef;
  k: number;
  seed: number;
  maxProbes: number;
  callersPerProbe: number;
  modes: RetrievalMode[];
  notice?: (msg: string) => void;
  onProgress?: AclProbeOptions['onProgress'];
  onLeak: (leak: Leak) => void;
}

async function probeIndex(store: Store, config: RagConfig, m: IndexManifest, rows: IndexProbeRow[], ctx: ProbeContext): Promise<IndexProbeSummary> {
  const summary: IndexProbeSummary = {
    index: m.name,
    modes: [],
    skipped_modes: [],
    rows: rows.length,
    restricted_chunks: 0,
    probed_chunks: 0,
    coverage: 1,
    reachable: 0,
    reach_rate: 0,
    trials: 0,
    leaks: 0,
  };
  const retriever = await Retriever.open(store, config, m.name);
  for (const mode of ctx.modes) {
    if (mode !== 'bm25' && !retriever.hasVectors) {
      summary.skipped_modes.push({ mode, reason: 'index has no vectors' });
      continue;
    }
    summary.modes.push(mode);
  }
  if (summary.modes.some((x) => x !== 'bm25')) {
    try {
      await retriever.warm();
    } catch (err) {
      const reason = `embedding model unavailable: ${errorMessage(err)}`;
      ctx.notice?.(`index "${m.name}": ${reason}; probing BM25 only`);
      for (const mode of summary.modes.filter((x) => x !== 'bm25')) summary.skipped_modes.push({ mode, reason });
      summary.modes = summary.modes.filter((x) => x === 'bm25');
    }
  }

  const restricted = rows.filter((r) => ctx.callers.some((c) => !isVisible(ctx.truth(r), c)));
  summary.restricted_chunks = restricted.length;
  const idf = inverseDocumentFrequencies(rows.map((r) => r.text));
  const rng = mulberry32(ctx.seed);
  const sample = sampleSorted(restricted, ctx.maxProbes, rng);

  let done = 0;
  for (const row of sample) {
    const queries = probeQueries(row.text, idf);
    done++;
    if (queries.length === 0) continue;
    summary.probed_chunks++;
    const own = ctx.truth(row);

    // Sanity: an authorised caller finds the chunk with these queries, so the probe has teeth.
    const owner: Caller = { principals: [...new Set([PUBLIC, ...own.acl])].sort(), tenant: own.tenant };
    let found = false;
    for (const q of queries) {
      const res = await safeSearch(retriever, q.text, 'bm25', owner, ctx.k);
      if (res.hits?.some((h) => h.chunk.chunk_id === row.chunk_id)) found = true;
    }
    if (found) summary.reachable++;

    const unauthorised = ctx.callers.filter((c) => !isVisible(own, c));
    const chosen = [...pickCallers(unauthorised, own, ctx.callersPerProbe, rng), ctx.nobody];
    for (const caller of chosen) {
      for (const mode of summary.modes) {
        for (const q of queries) {
          summary.trials++;
          const res = await safeSearch(retriever, q.text, mode, caller, ctx.k);
          const base = { index: m.name, mode, caller, query: q.text, query_kind: q.kind, probe_chunk: row.chunk_id };
          if (res.violation) {
            const hitRow = rows.find((r) => r.chunk_id === res.violation);
            ctx.onLeak({
              ...base,
              chunk_id: res.violation,
              doc_id: hitRow?.doc_id ?? '',
              row_acl: hitRow ? { acl: hitRow.acl, tenant: hitRow.tenant } : { acl: [], tenant: '' },
              true_acl: hitRow ? ctx.truth(hitRow) : { acl: [], tenant: '' },
              detected_by: 'defence-in-depth',
            });
            continue;
          }
          for (const h of res.hits ?? []) {
            const t = ctx.truth(h.chunk);
            if (isVisible(t, caller) && isVisible(h.chunk, caller)) continue;
            ctx.onLeak({
              ...base,
              chunk_id: h.chunk.chunk_id,
              doc_id: h.chunk.doc_id,
              row_acl: { acl: h.chunk.acl, tenant: h.chunk.tenant },
              true_acl: t,
              detected_by: 'result',
              rank: h.rank,
            });
          }
        }
      }
    }
    ctx.onProgress?.({ index: m.name, done, total: sample.length });
  }
  summary.coverage = summary.restricted_chunks ? summary.probed_chunks / summary.restricted_chunks : 1;
  summary.reach_rate = summary.probed_chunks ? summary.reachable / summary.probed_chunks : 0;
  return summary;
}

/** A search whose defence-in-depth refusal is a finding, not a crash. */
export async function safeSearch(
  retriever: Pick<Retriever, 'search'>,
  query: string,
  mode: RetrievalMode,
  caller: Caller,
  k: number,
): Promise<{ hits?: Awaited<ReturnType<Retriever['search']>>['hits']; violation?: string }> {
  try {
    const res = await retriever.search(query, { mode, k, caller, rerank: null });
    return { hits: res.hits };
  } catch (err) {
    if (err instanceof AclViolationError) return { violation: err.chunkId };
    throw err;
  }
}

/**
 * Every tenant, alone with `public`, and every principal found in any ACL (with `public`) in every
 * tenant: the first catches cross-tenant leaks, the second leaks between groups of one tenant.
 */
export function enumerateCallers(config: RagConfig, rows: { acl: readonly string[]; tenant: string }[]): Caller[] {
  const tenants = new Set<string>([config.tenant.default]);
  const principals = new Set<string>();
  for (const r of rows) {
    if (r.tenant) tenants.add(r.tenant);
    for (const p of r.acl ?? []) if (p && p !== PUBLIC) principals.add(p);
  }
  const out: Caller[] = [];
  for (const tenant of [...tenants].sort()) {
    out.push({ principals: [PUBLIC], tenant });
    for (const p of [...principals].sort()) out.push({ principals: [PUBLIC, p].sort(), tenant });
  }
  return out;
}

/**
 * Up to `n` callers, always keeping the ones most likely to expose a bug: public alone in the chunk's
 * tenant, and a caller holding the chunk's own principal in another tenant (a cross-tenant probe).
 */
function pickCallers(unauthorised: Caller[], own: AclRef, n: number, rng: () => number): Caller[] {
  if (unauthorised.length <= n) return unauthorised;
  const key = unauthorised.filter(
    (c) =>
      (c.tenant === own.tenant && c.principals.length === 1) ||
      (c.tenant !== own.tenant && c.principals.some((p) => p !== PUBLIC && own.acl.includes(p))),
  );
  const kept = key.slice(0, n);
  const rest = unauthorised.filter((c) => !kept.includes(c));
  return [...kept, ...sampleSorted(rest, n - kept.length, rng)];
}

export function callerKey(c: Caller): string {
  return `${c.principals.join('+') || '(none)'}@${c.tenant}`;
}

// ---------- invariants ----------

export function checkStoreInvariants(docs: DocRow[], chunks: ChunkAclRow[]): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  const docById = new Map(docs.map((d) => [d.doc_id, d]));
  for (const d of docs) {
    if (d.deleted) continue;
    const actual = { acl: d.acl, tenant: d.tenant };
    if (!hasAcl(d.acl)) out.push({ kind: 'document-missing-acl', table: DOCUMENTS, doc_id: d.doc_id, actual, message: 'document has no ACL' });
    if (!d.tenant) out.push({ kind: 'document-missing-tenant', table: DOCUMENTS, doc_id: d.doc_id, actual, message: 'document has no tenant' });
  }
  for (const c of chunks) {
    const actual = { acl: c.acl, tenant: c.tenant };
    const base = { table: CHUNKS, doc_id: c.doc_id, chunk_id: c.chunk_id, actual };
    if (!hasAcl(c.acl)) out.push({ ...base, kind: 'chunk-missing-acl', message: 'chunk has no ACL' });
    if (!c.tenant) out.push({ ...base, kind: 'chunk-missing-tenant', message: 'chunk has no tenant' });
    const d = docById.get(c.doc_id);
    if (!d) {
      out.push({ ...base, kind: 'chunk-orphan', message: `chunk's document ${c.doc_id} is not in the documents table` });
      continue;
    }
    const expected = { acl: d.acl, tenant: d.tenant };
    if (d.deleted) out.push({ ...base, expected, kind: 'chunk-of-deleted-document', message: `chunk of deleted document ${c.doc_id} is still stored` });
    else if (!sameSet(c.acl, d.acl) || c.tenant !== d.tenant) {
      out.push({ ...base, expected, kind: 'chunk-acl-mismatch', message: `chunk ACL ${fmtAcl(actual)} differs from its document's ${fmtAcl(expected)}` });
    }
  }
  return out;
}

export function checkIndexInvariants(table: string, rows: ChunkAclRow[], chunkById: Map<string, ChunkAclRow>): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  for (const r of rows) {
    const actual = { acl: r.acl, tenant: r.tenant };
    const base = { table, doc_id: r.doc_id, chunk_id: r.chunk_id, actual };
    if (!hasAcl(r.acl)) out.push({ ...base, kind: 'index-missing-acl', message: 'index row has no ACL' });
    if (!r.tenant) out.push({ ...base, kind: 'index-missing-tenant', message: 'index row has no tenant' });
    const c = chunkById.get(r.chunk_id);
    if (!c) {
      out.push({ ...base, kind: 'index-orphan', message: 'index row has no chunk in the chunks table (deleted or re-chunked) but is still searchable' });
      continue;
    }
    const expected = { acl: c.acl, tenant: c.tenant };
    if (!sameSet(r.acl, c.acl) || r.tenant !== c.tenant) {
      out.push({ ...base, expected, kind: 'index-acl-mismatch', message: `index row ACL ${fmtAcl(actual)} differs from the chunk's ${fmtAcl(expected)}` });
    }
  }
  return out;
}

const hasAcl = (acl: readonly string[] | null | undefined) => Array.isArray(acl) && acl.length > 0 && acl.every((p) => typeof p === 'string' && p.length > 0);

export const fmtAcl = (a: AclRef) => `[${[...a.acl].sort().join(', ')}]@${a.tenant || '(none)'}`;

// ---------- probe queries ----------

const STOPWORDS = new Set(
  (
    'the and for are but not you all any can had her was one our out has him his how its may new now old see two way who did get let put say she too use this that with from have they will your what when where which while would there their them then than these those been were into more most some such only also other over very just about after again against because before being below between both during each few further here once same should through under until whom why does doing down off own few nor yes'
  ).split(' '),
);

/** Lower-cased word tokens worth searching for: letters/digits, at least 3 characters, no stop words. */
export function contentTerms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (w.length >= 3 && !STOPWORDS.has(w) && !/^\d+$/.test(w)) out.push(w);
  }
  return out;
}

export function inverseDocumentFrequencies(texts: string[]): Map<string, number> {
  const df = new Map<string, number>();
  for (const t of texts) for (const w of new Set(contentTerms(t))) df.set(w, (df.get(w) ?? 0) + 1);
  const n = texts.length;
  const idf = new Map<string, number>();
  for (const [w, f] of df) idf.set(w, Math.log(1 + n / f));
  return idf;
}

/**
 * Two probes from a chunk's own text: its top tf-idf terms (what a curious user would type) and its
 * most distinctive sentence (what a user who has seen a fragment would paste).
 */
export function probeQueries(text: string, idf: Map<string, number>, maxTerms = 6, maxSentenceWords = 30): { kind: QueryKind; text: string }[] {
  const terms = contentTerms(text);
  if (terms.length === 0) return [];
  const tf = new Map<string, number>();
  for (const w of terms) tf.set(w, (tf.get(w) ?? 0) + 1);
  const weight = (w: string) => idf.get(w) ?? Math.log(2);
  const top = [...tf.entries()]
    .map(([w, f]) => ({ w, s: f * weight(w) }))
    .sort((a, b) => b.s - a.s || (a.w < b.w ? -1 : 1))
    .slice(0, maxTerms)
    .map((x) => x.w);
  const out: { kind: QueryKind; text: string }[] = [{ kind: 'terms', text: top.join(' ') }];

  let best: { words: string[]; score: number } | null = null;
  for (const sentence of text.split(/(?<=[.!?])\s+|\n+/)) {
    const words = sentence.match(/[\p{L}\p{N}]+/gu) ?? [];
    const content = [...new Set(contentTerms(sentence))];
    if (content.length < 3) continue;
    const score = content.reduce((s, w) => s + weight(w), 0);
    if (!best || score > best.score) best = { words: words.slice(0, maxSentenceWords), score };
  }
  const sentence = best?.words.join(' ');
  if (sentence && sentence.toLowerCase() !== out[0]!.text) out.push({ kind: 'sentence', text: sentence });
  return out;
}

// ---------- seeded sampling ----------

export { mulberry32 } from '../evaluation/stats.js';

/** Up to n items chosen without replacement, returned in their original order. */
function sampleSorted<T>(items: T[], n: number, rng: () => number): T[] {
  if (items.length <= n) return items;
  const idx = items.map((_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}
