/**
 * Judged-relevant ids that an eval could never retrieve: absent from the index, or invisible to
 * the principals a query runs as. A metric computed over such a golden set is wrong without any
 * sign of it (a whole store ingested from another directory scored 0.12 instead of 0.97), so eval
 * counts them before the first query and refuses by default.
 */
import { isVisible } from '../acl.js';
import { inListChunks } from '../sql.js';
import { DOCUMENTS, type Store } from '../store/store.js';
import type { Caller } from '../types.js';
import { isChunkId, sortedQids, type Qrels } from './qrels.js';

export type MissingCause = 'invisible' | 'not-indexed' | 'other-root' | 'absent';

export interface MissingJudgment {
  qid: string;
  id: string;
  cause: MissingCause;
  /** For `other-root`: the stored id that names the same file from another root. */
  storedAs?: string;
}

export interface Coverage {
  /** Judged-relevant ids (grade ≥ relLevel) over all queries. */
  relevant: number;
  /** How many of them can never be retrieved. */
  missing: number;
  /** qid → missing count, for queries with at least one. */
  perQuery: Record<string, number>;
  /** Every missing judgment, in query then id order. */
  items: MissingJudgment[];
}

type Row = { doc_id: string; chunk_id: string; acl: string[]; tenant: string };

async function rowsWhere(store: Store, table: string, column: 'doc_id' | 'chunk_id', ids: string[], columns: string[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const where of inListChunks(column, ids)) out.push(...(await store.readAll<Row>(table, columns, where)));
  return out;
}

/**
 * Checks every judged-relevant id of `qrels` (document ids, or chunk ids for chunk-judged queries)
 * against the index table, as the caller each query runs as.
 */
export async function judgedCoverage(
  store: Store,
  indexTable: string,
  qrels: Qrels,
  callerOf: (qid: string) => Caller,
  relLevel = 1,
): Promise<Coverage> {
  const wanted = { doc_id: new Set<string>(), chunk_id: new Set<string>() };
  let relevant = 0;
  for (const judged of qrels.values()) {
    for (const [id, rel] of judged) {
      if (rel < relLevel) continue;
      relevant++;
      wanted[isChunkId(id) ? 'chunk_id' : 'doc_id'].add(id);
    }
  }
  const cols = ['doc_id', 'chunk_id', 'acl', 'tenant'];
  const byKey = new Map<string, Row[]>();
  for (const column of ['doc_id', 'chunk_id'] as const) {
    const rows = await rowsWhere(store, indexTable, column, [...wanted[column]], cols);
    for (const r of rows) {
      const key = r[column];
      const list = byKey.get(key);
      if (list) list.push(r);
      else byKey.set(key, [r]);
    }
  }

  const items: MissingJudgment[] = [];
  const perQuery: Record<string, number> = {};
  for (const qid of sortedQids(qrels.keys())) {
    const caller = callerOf(qid);
    for (const [id, rel] of [...qrels.get(qid)!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (rel < relLevel) continue;
      const rows = byKey.get(id);
      if (rows && rows.some((r) => isVisible(r, caller))) continue;
      items.push({ qid, id, cause: rows ? 'invisible' : 'absent' });
      perQuery[qid] = (perQuery[qid] ?? 0) + 1;
    }
  }
  await explainAbsent(store, items);
  return { relevant, missing: items.length, perQuery, items };
}

/** Why an id is not in the index: ingested but not indexed, or stored under another root's path. */
async function explainAbsent(store: Store, items: MissingJudgment[]): Promise<void> {
  const absent = items.filter((m) => m.cause === 'absent');
  if (absent.length === 0) return;
  const docIds = [...new Set(absent.map((m) => (isChunkId(m.id) ? m.id.slice(0, m.id.indexOf('#')) : m.id)))];
  const stored = new Set<string>();
  for (const where of inListChunks('doc_id', docIds)) {
    for (const r of await store.readAll<{ doc_id: string }>(DOCUMENTS, ['doc_id'], `${where} AND deleted = false`)) stored.add(r.doc_id);
  }
  let all: string[] | null = null;
  for (const m of absent) {
    const doc = isChunkId(m.id) ? m.id.slice(0, m.id.indexOf('#')) : m.id;
    if (stored.has(doc) && !isChunkId(m.id)) {
      m.cause = 'not-indexed';
      continue;
    }
    // A path id that matches the tail of a stored id (or the other way round) was made relative
    // to another directory.
    all ??= (await store.readAll<{ doc_id: string }>(DOCUMENTS, ['doc_id'], 'deleted = false')).map((r) => r.doc_id);
    const other = all.find((s) => s !== doc && (s.endsWith(`/${doc}`) || doc.endsWith(`/${s}`)));
    if (other) {
      m.cause = 'other-root';
      m.storedAs = other;
    }
  }
}

const CAUSES: Record<MissingCause, string> = {
  invisible: 'in the index but invisible to the principals the query runs as',
  'not-indexed': 'ingested but not in this index',
  'other-root': 'not in the store under this id',
  absent: 'not in the store',
};

/** One line per missing judgment (the first `limit`), for the error and the warning. */
export function describeMissing(coverage: Coverage, limit = 5): string[] {
  const lines = coverage.items.slice(0, limit).map((m) =>
    `  query ${m.qid}: ${m.id} — ${CAUSES[m.cause]}${m.storedAs ? ` (the store has ${m.storedAs}: ids relative to another root)` : ''}`);
  if (coverage.items.length > limit) lines.push(`  … and ${coverage.items.length - limit} more`);
  return lines;
}

/** The most likely fix for what is missing, by its most common cause. */
export function missingFix(coverage: Coverage, indexName: string): string {
  const count = (c: MissingCause) => coverage.items.filter((m) => m.cause === c).length;
  const main = (['other-root', 'not-indexed', 'invisible', 'absent'] as const).reduce((a, b) => (count(b) > count(a) ? b : a));
  const tail = 'or pass --allow-missing to score anyway (judged_missing is then reported and can be gated on)';
  switch (main) {
    case 'other-root':
      return `the golden set's ids and the store's were made relative to different roots: set "root" in the config or rebuild the store (README "Ingest"), ${tail}`;
    case 'not-indexed':
      return `run \`rag index --name ${indexName}\`, ${tail}`;
    case 'invisible':
      return `give those queries the principals that may see them ("as" in the golden set, or --as), ${tail}`;
    default:
      return `ingest the sources those ids come from, or fix the golden set, ${tail}`;
  }
}
