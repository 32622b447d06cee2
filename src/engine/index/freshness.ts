/**
 * Is an index behind the chunks? `rag audit lineage` lists the answer per document; `rag query`
 * and `rag eval` need the totals on every run, cheaply: when both tables are at the versions the
 * manifest recorded at the end of the last build, nothing can have changed and no rows are read.
 */
import type { IndexManifest } from '../store/manifest.js';
import { CHUNKS, type Store } from '../store/store.js';

export type IndexState = 'current' | 'stale' | 'partial' | 'missing';

export interface DocumentIndexState {
  index: string;
  rows: number;
  /** Latest `indexed_at` among the document's rows, null when none is indexed. */
  indexed_at: string | null;
  /** current: every chunk indexed as stored; stale: some rows differ from the chunks table; partial: some chunks not indexed. */
  state: IndexState;
}

export type ChunkMeta = { chunk_id: string; doc_id: string; row_hash: string; acl: string[]; tenant: string };

export const CHUNK_META_COLUMNS = ['chunk_id', 'doc_id', 'row_hash', 'acl', 'tenant'];

/**
 * The state of every document that has rows in the index (documents absent from the map have
 * none: "missing" when they have chunks). With `acl` (the audit), ACL and tenant are compared as
 * well as the hash, since an index row can be edited without its hash; rag itself never writes
 * one whose hash does not cover them, so the query path compares hashes only (and reads no list
 * column, which is most of the cost).
 */
export async function indexDocumentStates(
  store: Store,
  manifest: Pick<IndexManifest, 'name' | 'table'>,
  chunkById: Map<string, Pick<ChunkMeta, 'chunk_id' | 'doc_id' | 'row_hash'> & Partial<ChunkMeta>>,
  chunksByDoc: Map<string, number>,
  opts: { acl: boolean } = { acl: true },
): Promise<Map<string, DocumentIndexState>> {
  const columns = opts.acl ? [...CHUNK_META_COLUMNS, 'indexed_at'] : ['chunk_id', 'doc_id', 'row_hash', 'indexed_at'];
  const rows = await store.readAll<ChunkMeta & { indexed_at: string }>(manifest.table, columns);
  const states = new Map<string, DocumentIndexState>();
  const staleDocs = new Set<string>();
  for (const r of rows) {
    const s = states.get(r.doc_id) ?? { index: manifest.name, rows: 0, indexed_at: null, state: 'current' as IndexState };
    s.rows++;
    if (!s.indexed_at || r.indexed_at > s.indexed_at) s.indexed_at = r.indexed_at;
    states.set(r.doc_id, s);
    const c = chunkById.get(r.chunk_id);
    if (!c || c.row_hash !== r.row_hash || (opts.acl && (c.tenant !== r.tenant || !sameSet(c.acl ?? [], r.acl)))) staleDocs.add(r.doc_id);
  }
  for (const [docId, s] of states) {
    if (staleDocs.has(docId)) s.state = 'stale';
    else if (s.rows < (chunksByDoc.get(docId) ?? 0)) s.state = 'partial';
  }
  return states;
}

export interface IndexFreshness {
  current: boolean;
  /** Documents with chunks but no index rows. */
  missing: number;
  /** Documents with some of their chunks indexed. */
  partial: number;
  /** Documents whose index rows differ from their chunks (changed, re-permissioned, or gone). */
  stale: number;
  /** How it was decided: by table versions alone, or by reading the rows. */
  checked: 'versions' | 'rows';
}

/** The last row comparison per open store and table, valid while neither table moves (a long-lived reader asks often). */
const memo = new WeakMap<Store, Map<string, { key: string; result: IndexFreshness }>>();

/**
 * Totals of missing, partial and stale documents of an index, against the latest committed
 * versions of both tables (a long-lived reader's store sees other processes' commits here).
 */
export async function indexFreshness(store: Store, manifest: IndexManifest): Promise<IndexFreshness> {
  const chunksVersion = await store.latestVersion(CHUNKS);
  const version = await store.latestVersion(manifest.table);
  if (manifest.chunks_version !== undefined && manifest.chunks_version === chunksVersion && version === manifest.table_version) {
    return { current: true, missing: 0, partial: 0, stale: 0, checked: 'versions' };
  }
  const slots = memo.get(store) ?? new Map<string, { key: string; result: IndexFreshness }>();
  memo.set(store, slots);
  const key = `${chunksVersion}\0${version}`;
  const known = slots.get(manifest.table);
  if (known?.key === key) return known.result;
  const chunks = await store.readAll<Pick<ChunkMeta, 'chunk_id' | 'doc_id' | 'row_hash'>>(CHUNKS, ['chunk_id', 'doc_id', 'row_hash']);
  const chunkById = new Map(chunks.map((c) => [c.chunk_id, c]));
  const chunksByDoc = new Map<string, number>();
  for (const c of chunkById.values()) chunksByDoc.set(c.doc_id, (chunksByDoc.get(c.doc_id) ?? 0) + 1);
  const states = await indexDocumentStates(store, manifest, chunkById, chunksByDoc, { acl: false });
  let missing = 0;
  for (const docId of chunksByDoc.keys()) if (!states.has(docId)) missing++;
  let partial = 0;
  let stale = 0;
  for (const s of states.values()) {
    if (s.state === 'partial') partial++;
    else if (s.state === 'stale') stale++;
  }
  const result: IndexFreshness = { current: missing + partial + stale === 0, missing, partial, stale, checked: 'rows' };
  slots.set(manifest.table, { key, result });
  return result;
}

/** "3 documents missing, 1 partial" — the counts that are not zero. */
export function describeFreshness(f: IndexFreshness): string {
  const parts: string[] = [];
  if (f.missing) parts.push(`${f.missing} document${f.missing === 1 ? '' : 's'} missing`);
  if (f.partial) parts.push(`${f.partial} partial`);
  if (f.stale) parts.push(`${f.stale} stale`);
  return parts.join(', ');
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
