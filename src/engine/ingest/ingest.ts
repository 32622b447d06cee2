import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileDocId, parseBeirCorpus, parseFile, parseJsonl } from '../../connectors/index.js';
import { walk } from '../../connectors/filesystem.js';
import { aclForSource } from '../acl.js';
import { chunkDocument } from './chunker.js';
import type { RagConfig } from '../config.js';
import { errorMessage, UsageError } from '../errors.js';
import { metadataKeyValues } from './metadata.js';
import { sha256, stableHash, stableStringify } from '../hash.js';
import { CHUNKS, chunksSchema, DOCUMENTS, documentsSchema, Store } from '../store/store.js';
import { inListChunks } from '../sql.js';
import { chunkerHash, sourceOrigin } from './provenance.js';
import type { ChunkRow, DocumentRow, ParsedDocument } from '../types.js';

export type IngestFormat = 'auto' | 'beir' | 'jsonl';

export interface IngestOptions {
  paths: string[];
  format: IngestFormat;
  prune: boolean;
  cwd?: string;
  batchSize?: number;
  onProgress?: (p: { done: number; total?: number; source?: string }) => void;
}

export interface IngestFailure {
  source: string;
  line?: number;
  error: string;
}

/** A source deliberately not read (a symbolic link), as opposed to one that failed. */
export interface IngestSkip {
  source: string;
  reason: string;
}

export interface IngestSummary {
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  chunksWritten: number;
  documents: number;
  failures: IngestFailure[];
  skipped: IngestSkip[];
  /** Ids (documents or chunks) that had extra copies in the store, removed and rewritten by this run. */
  duplicates_removed: number;
  storeVersion: number | null;
}

/** What the walk reported on the way: unreadable folders fail (and protect what is under them), links are skipped. */
interface WalkReport {
  failures: IngestFailure[];
  skipped: IngestSkip[];
  unreadableFolders: string[];
}


function isUnder(origin: string, scope: string): boolean {
  return origin === scope || origin.startsWith(scope.endsWith('/') ? scope : `${scope}/`);
}

/** Builds the stored rows of one parsed document: ACL resolved, chunks cut, hashes computed. */
export function buildRows(
  parsed: ParsedDocument,
  config: RagConfig,
  now: string,
): { doc: DocumentRow; chunks: ChunkRow[] } {
  const { acl, tenant } = aclForSource(config, sourceOrigin(parsed.source), { acl: parsed.acl, tenant: parsed.tenant });
  const contentHash = sha256(parsed.text);
  const metadataJson = stableStringify(parsed.metadata ?? {});
  const metaKv = metadataKeyValues(parsed.metadata ?? {});
  const recordHash = stableHash({
    contentHash,
    acl,
    tenant,
    title: parsed.title,
    metadata: parsed.metadata ?? {},
    connector: parsed.connector,
    source: parsed.source,
    chunker: chunkerHash(config),
  });
  const drafts = chunkDocument(parsed, config.chunking);
  const chunks: ChunkRow[] = drafts.map((d) => {
    const textHash = sha256(d.text);
    const base = {
      chunk_id: `${parsed.docId}#${d.ordinal}:${textHash.slice(0, 8)}`,
      doc_id: parsed.docId,
      ordinal: d.ordinal,
      text: d.text,
      title: parsed.title,
      source: parsed.source,
      connector: parsed.connector,
      heading_path: d.headingPath,
      page: d.page ?? 0,
      char_start: d.charStart,
      char_end: d.charEnd,
      tokens: d.tokens,
      acl,
      tenant,
      metadata: metadataJson,
      meta_kv: metaKv,
      content_hash: textHash,
    };
    return { ...base, row_hash: stableHash(base) };
  });
  const doc: DocumentRow = {
    doc_id: parsed.docId,
    source: parsed.source,
    connector: parsed.connector,
    title: parsed.title,
    content_hash: contentHash,
    record_hash: recordHash,
    mtime: parsed.mtime ?? 0,
    ingested_at: now,
    acl,
    tenant,
    metadata: metadataJson,
    deleted: false,
    text: parsed.text,
    fingerprint: parsed.fingerprint ?? '',
  };
  return { doc, chunks };
}

type ExistingDoc = Pick<DocumentRow, 'doc_id' | 'record_hash' | 'deleted' | 'source' | 'fingerprint' | 'ingested_at'>;

/** A stream of parsed documents and per-source failures from every input path. */
async function* readSources(
  opts: IngestOptions,
  config: RagConfig,
  cwd: string,
  report: WalkReport,
  scopes: string[],
  known: Map<string, ExistingDoc>,
): AsyncGenerator<ParsedDocument | { unchangedId: string }> {
  const failures = report.failures;
  const configPrint = fileConfigFingerprint(config);
  for (const p of opts.paths) {
    const abs = path.resolve(cwd, p);
    if (!existsSync(abs)) throw new UsageError(`path not found: ${p}`, 'check the path, or run from the folder that holds it');
    if (opts.format === 'beir') {
      const { documents, failures: f, origin } = await parseBeirCorpus(abs, { cwd });
      scopes.push(origin);
      failures.push(...f);
      yield* documents;
      continue;
    }
    // A file named explicitly is ingested whatever the include/exclude globs say.
    const files = walk(abs, statSync(abs).isDirectory() ? config : { include: [], exclude: [] }, cwd, (skip) => {
      if (skip.kind === 'link') return void report.skipped.push({ source: skip.rel, reason: skip.reason });
      report.failures.push({ source: skip.rel, error: skip.reason });
      report.unreadableFolders.push(skip.rel);
    });
    scopes.push(walkScope(abs, cwd));
    for (const file of files) {
      const isJsonl = opts.format === 'jsonl' || /\.(jsonl|ndjson)$/i.test(file.abs);
      if (isJsonl) {
        try {
          const { documents, failures: f } = await parseJsonl(file.abs, config.jsonl, { rel: file.rel });
          failures.push(...f);
          yield* documents;
        } catch (err) {
          failures.push({ source: file.rel, error: errorMessage(err) });
        }
        continue;
      }
      if (opts.format === 'jsonl') continue;
      try {
        // Same size, mtime and settings as when it was stored: nothing to parse.
        const st = statSync(file.abs);
        const fingerprint = `${st.size}:${st.mtimeMs}:${configPrint}`;
        const prev = known.get(fileDocId(file.rel));
        if (prev && !prev.deleted && prev.fingerprint === fingerprint) {
          yield { unchangedId: prev.doc_id };
          continue;
        }
        const doc = await parseFile(file.abs, file.rel);
        if (doc) yield { ...doc, fingerprint };
      } catch (err) {
        failures.push({ source: file.rel, error: errorMessage(err) });
      }
    }
  }
}

/**
 * Everything besides a file's bytes that decides its stored rows: ACL and tenant rules, chunker,
 * and the parser version (bump PARSER_VERSION when a connector's output changes).
 */
const PARSER_VERSION = 1;
function fileConfigFingerprint(config: RagConfig): string {
  return stableHash({ acl: config.acl, tenant: config.tenant, chunking: config.chunking, parser: PARSER_VERSION }).slice(0, 16);
}

function walkScope(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return (rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel || '.').split(path.sep).join('/');
}

/**
 * Ingests sources into the store: new and changed documents are (re)chunked and committed in
 * batches, unchanged ones are skipped by record hash, vanished ones are tombstoned. Each batch
 * writes chunks first and documents last, so a crash mid-batch is redone by the next run.
 * Changed and deleted documents are withdrawn from every index at once: a revoked permission
 * takes effect without waiting for `rag index`.
 */
export async function ingest(store: Store, config: RagConfig, opts: IngestOptions): Promise<IngestSummary> {
  const cwd = opts.cwd ?? process.cwd();
  const batchSize = opts.batchSize ?? 1000;
  const now = new Date().toISOString();
  await store.migrate();
  // One row per id is an invariant (`rag audit acl` checks it). Extra copies are removed first and
  // their documents rewritten below, so chunks, documents and indexes agree again.
  const dupDocs = await store.removeDuplicates<{ doc_id: string }>(DOCUMENTS, 'doc_id');
  const dupChunks = await store.removeDuplicates<{ chunk_id: string; doc_id: string }>(CHUNKS, 'chunk_id', ['chunk_id', 'doc_id']);
  const repair = new Set([...dupDocs, ...dupChunks].map((r) => r.doc_id));
  const existing = new Map(
    (await store.readAll<ExistingDoc>(DOCUMENTS, ['doc_id', 'record_hash', 'deleted', 'source', 'fingerprint', 'ingested_at'])).map((d) => [
      d.doc_id,
      repair.has(d.doc_id) ? { ...d, record_hash: '', fingerprint: '' } : d,
    ]),
  );
  const summary: IngestSummary = {
    added: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    failed: 0,
    chunksWritten: 0,
    documents: 0,
    failures: [],
    skipped: [],
    duplicates_removed: dupDocs.length + dupChunks.length,
    storeVersion: null,
  };
  const seen = new Set<string>();
  const scopes: string[] = [];
  const refreshed: DocumentRow[] = [];
  let pending: { doc: DocumentRow; chunks: ChunkRow[] }[] = [];
  let done = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const docIds = batch.map((b) => b.doc.doc_id);
    const newChunks = batch.flatMap((b) => b.chunks);
    const newIds = new Set(newChunks.map((c) => c.chunk_id));
    await store.upsert(CHUNKS, chunksSchema, 'chunk_id', newChunks as unknown as Record<string, unknown>[]);
    const old = await readChunkIdsOf(store, docIds);
    const stale = old.filter((id) => !newIds.has(id));
    await store.deleteWhereIn(CHUNKS, 'chunk_id', stale);
    await store.withdrawFromIndexes(docIds.filter((id) => existing.has(id)));
    await store.upsert(DOCUMENTS, documentsSchema, 'doc_id', batch.map((b) => b.doc) as unknown as Record<string, unknown>[]);
    summary.chunksWritten += newChunks.length;
  };

  const report: WalkReport = { failures: [], skipped: [], unreadableFolders: [] };
  const failures = report.failures;
  for await (const item of readSources(opts, config, cwd, report, scopes, existing)) {
    done++;
    if ('unchangedId' in item) {
      seen.add(item.unchangedId);
      summary.unchanged++;
      if (done % 200 === 0) opts.onProgress?.({ done });
      continue;
    }
    const parsed = item;
    if (seen.has(parsed.docId)) {
      failures.push({ source: parsed.source, error: `duplicate document id "${parsed.docId}" (already read from another source); skipped` });
      continue;
    }
    seen.add(parsed.docId);
    const rows = buildRows(parsed, config, now);
    const prev = existing.get(parsed.docId);
    if (prev && !prev.deleted && prev.record_hash === rows.doc.record_hash) {
      summary.unchanged++;
      // Touched but not changed: remember the new fingerprint so the next run skips parsing.
      if (rows.doc.fingerprint && rows.doc.fingerprint !== prev.fingerprint) refreshed.push({ ...rows.doc, ingested_at: prev.ingested_at ?? rows.doc.ingested_at });
    } else {
      if (prev && !prev.deleted) summary.updated++;
      else summary.added++;
      pending.push(rows);
      if (pending.length >= batchSize) await flush();
    }
    if (done % 200 === 0) opts.onProgress?.({ done, source: parsed.source });
  }
  await flush();
  await store.upsert(DOCUMENTS, documentsSchema, 'doc_id', refreshed as unknown as Record<string, unknown>[]);

  // A source that failed keeps its previous version: never tombstone what we could not read.
  const failedOrigins = new Set(failures.map((f) => sourceOrigin(f.source)));
  if (opts.prune) {
    const gone = [...existing.values()].filter(
      (d) =>
        !d.deleted &&
        !seen.has(d.doc_id) &&
        scopes.some((s) => isUnder(sourceOrigin(d.source), s)) &&
        !failedOrigins.has(d.source) &&
        !failedOrigins.has(sourceOrigin(d.source)) &&
        !report.unreadableFolders.some((f) => isUnder(sourceOrigin(d.source), f)),
    );
    if (gone.length) {
      const ids = gone.map((d) => d.doc_id);
      await store.deleteWhereIn(CHUNKS, 'doc_id', ids);
      await store.withdrawFromIndexes(ids);
      for (const where of inListChunks('doc_id', ids)) await store.update(DOCUMENTS, where, { deleted: true, ingested_at: now });
      summary.deleted = ids.length;
    }
  }
  opts.onProgress?.({ done, total: done });
  if (summary.added + summary.updated + summary.deleted > 0) {
    // Batches leave small fragments behind; compacting keeps scans (and `rag index`) fast.
    for (const name of [CHUNKS, DOCUMENTS]) await store.optimize(name);
  }
  summary.failures = failures;
  summary.skipped = report.skipped;
  summary.failed = new Set(failures.map((f) => `${f.source}:${f.line ?? ''}`)).size;
  summary.documents = (await store.readAll<{ doc_id: string }>(DOCUMENTS, ['doc_id'], 'deleted = false')).length;
  summary.storeVersion = await store.version(DOCUMENTS);
  return summary;
}

async function readChunkIdsOf(store: Store, docIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < docIds.length; i += 500) {
    const slice = docIds.slice(i, i + 500);
    const [where] = inListChunks('doc_id', slice);
    const rows = await store.readAll<{ chunk_id: string }>(CHUNKS, ['chunk_id'], where);
    out.push(...rows.map((r) => r.chunk_id));
  }
  return out;
}

