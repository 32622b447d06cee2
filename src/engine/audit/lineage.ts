/**
 * Lineage: what is in the store and where it came from. Built from the `documents` table, the
 * `chunks` table, each index manifest and each index table, so every answer points at a row that
 * can be checked by hand.
 */
import { highestAcl, type HighestAcl } from './audience.js';
import { UsageError } from '../errors.js';
import type { DocumentRow } from '../types.js';
import { listIndexManifests, type IndexManifest } from '../store/manifest.js';
import { sourceOrigin } from '../ingest/provenance.js';
import { CHUNK_META_COLUMNS, indexDocumentStates, sameSet, type ChunkMeta, type DocumentIndexState, type IndexState } from '../index/freshness.js';
import { CHUNKS, DOCUMENTS, type Store } from '../store/store.js';

export { sameSet, type DocumentIndexState, type IndexState };

export interface IndexLineage {
  name: string;
  table: string;
  model: IndexManifest['model'];
  chunker: IndexManifest['chunker'];
  ann: IndexManifest['ann'];
  rows: number;
  /** Version recorded in the manifest when the index was last built. */
  manifest_table_version: number;
  /** Version of the table now: differs when something wrote to it after the build (ingest prune, or tampering). */
  current_table_version: number | null;
  created_at: string;
  updated_at: string;
}

export interface DocumentLineage {
  doc_id: string;
  source: string;
  origin: string;
  connector: string;
  title: string;
  content_hash: string;
  record_hash: string;
  ingested_at: string;
  mtime: number;
  acl: string[];
  tenant: string;
  deleted: boolean;
  chunks: number;
  indexes: DocumentIndexState[];
}

export interface SourceLineage {
  /** The file (or folder of records) documents came from. */
  origin: string;
  connectors: string[];
  documents: number;
  deleted: number;
  chunks: number;
  last_ingested_at: string;
}

export interface PrincipalTotals {
  key: string;
  documents: number;
  chunks: number;
}

export type ChangeKind = 'added' | 'changed' | 'deleted';

export interface DocumentChange {
  doc_id: string;
  source: string;
  change: ChangeKind;
  ingested_at: string;
  /** What changed when known: content, record (acl/tenant/title/metadata/chunker). */
  detail?: string;
}

export interface ChangesSince {
  since: string;
  /** Documents-table version the comparison starts from (null: compared by ingested_at). */
  base_version: number | null;
  current_version: number | null;
  method: 'version' | 'ingested_at';
  changes: DocumentChange[];
}

export interface LineageReport {
  store: string;
  generated_at: string;
  documents_table_version: number | null;
  chunks_table_version: number | null;
  indexes: IndexLineage[];
  sources: SourceLineage[];
  documents: DocumentLineage[];
  totals: {
    documents: number;
    deleted: number;
    chunks: number;
    by_principal: PrincipalTotals[];
    by_tenant: PrincipalTotals[];
  };
  since?: ChangesSince;
  /** The report names every document with its title and ACL: what a reader must hold to read it. */
  highest_acl: HighestAcl;
}

export interface LineageOptions {
  /** Index names to describe; default all. */
  indexes?: string[];
  /** A documents-table version number, or a date (ISO 8601 or anything Date.parse reads). */
  since?: string;
  /** Include tombstoned documents in the per-document list (always counted in totals). */
  includeDeleted?: boolean;
}

type DocMeta = Omit<DocumentRow, 'metadata' | 'text' | 'fingerprint'>;

const DOC_COLUMNS = ['doc_id', 'source', 'connector', 'title', 'content_hash', 'record_hash', 'mtime', 'ingested_at', 'acl', 'tenant', 'deleted'];

/** The manifests of the named indexes (all when none named); an unknown name is a usage error. */
export async function selectIndexes(store: Store, names?: string[]): Promise<IndexManifest[]> {
  const all = await listIndexManifests(store);
  if (!names || names.length === 0) return all;
  return names.map((n) => {
    const m = all.find((x) => x.name === n);
    if (!m) {
      throw new UsageError(
        `no index named "${n}"`,
        all.length ? `use --index with one of: ${all.map((x) => x.name).join(', ')}` : 'run `rag index` first',
      );
    }
    return m;
  });
}

export async function buildLineage(store: Store, opts: LineageOptions = {}): Promise<LineageReport> {
  const docs = await store.readAll<DocMeta>(DOCUMENTS, DOC_COLUMNS);
  const chunks = await store.readAll<ChunkMeta>(CHUNKS, CHUNK_META_COLUMNS);
  const manifests = await selectIndexes(store, opts.indexes);

  const chunkById = new Map(chunks.map((c) => [c.chunk_id, c]));
  const chunksByDoc = countBy(chunks, (c) => c.doc_id);

  const indexes: IndexLineage[] = [];
  const perIndexDocState = new Map<string, Map<string, DocumentIndexState>>();
  for (const m of manifests) {
    indexes.push({
      name: m.name,
      table: m.table,
      model: m.model,
      chunker: m.chunker,
      ann: m.ann,
      rows: m.rows,
      manifest_table_version: m.table_version,
      current_table_version: await store.version(m.table),
      created_at: m.created_at,
      updated_at: m.updated_at,
    });
    perIndexDocState.set(m.name, await indexDocumentStates(store, m, chunkById, chunksByDoc));
  }

  const documents: DocumentLineage[] = docs
    .map((d) => ({
      doc_id: d.doc_id,
      source: d.source,
      origin: sourceOrigin(d.source),
      connector: d.connector,
      title: d.title,
      content_hash: d.content_hash,
      record_hash: d.record_hash,
      ingested_at: d.ingested_at,
      mtime: d.mtime,
      acl: [...d.acl].sort(),
      tenant: d.tenant,
      deleted: d.deleted,
      chunks: chunksByDoc.get(d.doc_id) ?? 0,
      indexes: manifests.map(
        (m) =>
          perIndexDocState.get(m.name)!.get(d.doc_id) ??
          ({ index: m.name, rows: 0, indexed_at: null, state: d.deleted || !chunksByDoc.get(d.doc_id) ? 'current' : 'missing' } satisfies DocumentIndexState),
      ),
    }))
    .sort((a, b) => cmp(a.source, b.source) || cmp(a.doc_id, b.doc_id));

  const sources = new Map<string, SourceLineage>();
  for (const d of documents) {
    const s = sources.get(d.origin) ?? { origin: d.origin, connectors: [], documents: 0, deleted: 0, chunks: 0, last_ingested_at: '' };
    if (!s.connectors.includes(d.connector)) s.connectors.push(d.connector);
    if (d.deleted) s.deleted++;
    else s.documents++;
    s.chunks += d.chunks;
    if (d.ingested_at > s.last_ingested_at) s.last_ingested_at = d.ingested_at;
    sources.set(d.origin, s);
  }

  const live = documents.filter((d) => !d.deleted);
  const byPrincipal = new Map<string, PrincipalTotals>();
  const byTenant = new Map<string, PrincipalTotals>();
  for (const d of live) {
    for (const p of d.acl) bump(byPrincipal, p, d.chunks);
    bump(byTenant, d.tenant, d.chunks);
  }

  const report: LineageReport = {
    store: store.uri,
    generated_at: new Date().toISOString(),
    documents_table_version: await store.version(DOCUMENTS),
    chunks_table_version: await store.version(CHUNKS),
    indexes,
    sources: [...sources.values()].sort((a, b) => cmp(a.origin, b.origin)),
    documents: opts.includeDeleted ? documents : live,
    totals: {
      documents: live.length,
      deleted: documents.length - live.length,
      chunks: chunks.length,
      by_principal: [...byPrincipal.values()].sort((a, b) => cmp(a.key, b.key)),
      by_tenant: [...byTenant.values()].sort((a, b) => cmp(a.key, b.key)),
    },
    highest_acl: highestAcl(opts.includeDeleted ? documents : live),
  };
  if (opts.since !== undefined) report.since = await changesSince(store, opts.since, docs);
  return report;
}

/** Parses `--since`: a non-negative integer is a table version, anything else must be a date. */
export function parseSince(since: string): { version: number } | { date: Date } {
  const s = since.trim();
  if (/^\d+$/.test(s)) return { version: Number(s) };
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new UsageError(`--since "${since}" is neither a table version nor a date`, 'pass a version number (see `rag audit lineage --json` documents_table_version) or a date such as 2024-05-01');
  }
  return { date: new Date(t) };
}

/**
 * Documents added, changed or deleted since a version of the `documents` table (or the last version
 * committed at or before a date). Old rows are read with a LanceDB time-travel checkout on a
 * separate handle, so the store's own handle keeps reading the latest version.
 */
export async function changesSince(store: Store, since: string, current?: DocMeta[]): Promise<ChangesSince> {
  const parsed = parseSince(since);
  const now = current ?? (await store.readAll<DocMeta>(DOCUMENTS, DOC_COLUMNS));
  const versions = await store.versions(DOCUMENTS);
  if (versions.length === 0) return { since, base_version: null, current_version: null, method: 'version', changes: [] };
  const currentVersion = (await store.version(DOCUMENTS))!;
  let base: number;
  if ('version' in parsed) {
    if (parsed.version > currentVersion) {
      throw new UsageError(`--since ${parsed.version}: the documents table is only at version ${currentVersion}`, 'pass an existing version');
    }
    base = parsed.version;
  } else {
    const before = versions.filter((v) => v.timestamp.getTime() <= parsed.date.getTime());
    base = before.length ? before[before.length - 1]!.version : 0;
  }
  let old: DocMeta[] = [];
  if (base > 0) {
    const rows = await store.readAtVersion<DocMeta>(DOCUMENTS, base, DOC_COLUMNS);
    if (rows === null) {
      // The version was cleaned up (compaction): fall back to timestamps, which are always there.
      if ('date' in parsed) return byIngestedAt(since, parsed.date, now, currentVersion);
      throw new UsageError(`documents table version ${base} is no longer available`, 'use --since DATE, or a version listed by the store');
    }
    old = rows;
  }
  return { since, base_version: base, current_version: currentVersion, method: 'version', changes: diffDocs(old, now) };
}

/** Pure diff of two snapshots of the documents table. */
export function diffDocs(before: DocMeta[], after: DocMeta[]): DocumentChange[] {
  const prev = new Map(before.map((d) => [d.doc_id, d]));
  const out: DocumentChange[] = [];
  for (const d of after) {
    const p = prev.get(d.doc_id);
    const wasLive = p !== undefined && !p.deleted;
    if (d.deleted) {
      if (wasLive) out.push({ doc_id: d.doc_id, source: d.source, change: 'deleted', ingested_at: d.ingested_at });
      continue;
    }
    if (!wasLive) {
      out.push({ doc_id: d.doc_id, source: d.source, change: 'added', ingested_at: d.ingested_at });
    } else if (p.record_hash !== d.record_hash) {
      const what: string[] = [];
      if (p.content_hash !== d.content_hash) what.push('content');
      if (!sameSet(p.acl, d.acl)) what.push('acl');
      if (p.tenant !== d.tenant) what.push('tenant');
      if (p.title !== d.title) what.push('title');
      out.push({ doc_id: d.doc_id, source: d.source, change: 'changed', ingested_at: d.ingested_at, detail: what.length ? what.join(', ') : 'metadata or chunker' });
    }
  }
  const afterIds = new Set(after.map((d) => d.doc_id));
  for (const p of before) {
    if (!afterIds.has(p.doc_id) && !p.deleted) out.push({ doc_id: p.doc_id, source: p.source, change: 'deleted', ingested_at: p.ingested_at, detail: 'row removed' });
  }
  return out.sort((a, b) => cmp(a.doc_id, b.doc_id));
}

function byIngestedAt(since: string, date: Date, now: DocMeta[], currentVersion: number): ChangesSince {
  const iso = date.toISOString();
  const changes: DocumentChange[] = now
    .filter((d) => d.ingested_at >= iso)
    .map((d) => ({ doc_id: d.doc_id, source: d.source, change: d.deleted ? ('deleted' as const) : ('changed' as const), ingested_at: d.ingested_at, detail: d.deleted ? undefined : 'added or changed' }))
    .sort((a, b) => cmp(a.doc_id, b.doc_id));
  return { since, base_version: null, current_version: currentVersion, method: 'ingested_at', changes };
}

function bump(map: Map<string, PrincipalTotals>, key: string, chunks: number): void {
  const t = map.get(key) ?? { key, documents: 0, chunks: 0 };
  t.documents++;
  t.chunks += chunks;
  map.set(key, t);
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
