import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileDocId, isMultiDocument, kindForPath, parseBeirCorpus, parseJsonl, parseSource, type ParseFileOptions } from '../../connectors/index.js';
import { walk } from '../../connectors/filesystem.js';
import { AclInputError, aclForSource } from '../acl.js';
import { chunkDocument } from './chunker.js';
import type { RagConfig } from '../config.js';
import { errorMessage, UsageError } from '../errors.js';
import { metadataKeyValues } from './metadata.js';
import { sha256, stableHash, stableStringify } from '../hash.js';
import { CHUNKS, chunksSchema, DOCUMENTS, documentsSchema, Store } from '../store/store.js';
import { inListChunks } from '../sql.js';
import { chunkerHash, sourceOrigin } from './provenance.js';
import { resolveDocRoot } from './doc-root.js';
import type { ChunkRow, DocumentRow, ParsedDocument } from '../types.js';

export type IngestFormat = 'auto' | 'beir' | 'jsonl';

export interface IngestOptions {
  paths: string[];
  format: IngestFormat;
  prune: boolean;
  /** Where relative input paths are resolved (default: the working directory). */
  cwd?: string;
  batchSize?: number;
  onProgress?: (p: { done: number; total?: number; source?: string }) => void;
}

export interface IngestFailure {
  source: string;
  line?: number;
  error: string;
  /** A document refused for its ACL: any stored version of it is withdrawn (fail closed). */
  withdraw?: string;
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
  /** Files in walked folders that no connector reads (a file named explicitly is never skipped). */
  unsupported: number;
  chunks_written: number;
  documents: number;
  failures: IngestFailure[];
  /** One-line notices about the run as a whole (e.g. OCR unavailable), each once. */
  notices: string[];
  skipped: IngestSkip[];
  /** Ids (documents or chunks) that had extra copies in the store, removed and rewritten by this run. */
  duplicates_removed: number;
  store_version: number | null;
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
  // OCR output is flagged per chunk, so a filter (`ocr=true`) or a reader can weigh it.
  const ocrMetadata = { ...(parsed.metadata ?? {}), ocr: true };
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
      metadata: d.ocr ? stableStringify(ocrMetadata) : metadataJson,
      meta_kv: d.ocr ? metadataKeyValues(ocrMetadata) : metaKv,
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
  root: string,
  report: WalkReport,
  scopes: string[],
  known: Map<string, ExistingDoc>,
  notices: string[],
): AsyncGenerator<ParsedDocument | { unchangedId: string } | { unsupported: string }> {
  const failures = report.failures;
  const configPrint = fileConfigFingerprint(config);
  const parseOpts: ParseFileOptions = { tables: config.tables, ocr: config.ocr };
  const note = (ns: string[]) => ns.forEach((n) => notices.includes(n) || notices.push(n));
  for (const p of opts.paths) {
    const abs = path.resolve(cwd, p);
    if (!existsSync(abs)) throw new UsageError(`path not found: ${p}`, 'check the path, or run from the folder that holds it');
    if (opts.format === 'beir') {
      const { documents, failures: f, origin } = await parseBeirCorpus(abs, { cwd: root });
      scopes.push(origin);
      failures.push(...f);
      yield* documents;
      continue;
    }
    // A file named explicitly is ingested whatever the include/exclude globs say.
    const isDir = statSync(abs).isDirectory();
    const files = walk(abs, isDir ? config : { include: [], exclude: [] }, cwd, root, (skip) => {
      if (skip.kind === 'link') return void report.skipped.push({ source: skip.rel, reason: skip.reason });
      report.failures.push({ source: skip.rel, error: skip.reason });
      report.unreadableFolders.push(skip.rel);
    });
    scopes.push(walkScope(abs, root));
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
      // A folder holds whatever a project holds (configs, images, lock files): only a file named
      // on the command line is an error when no connector reads it.
      if (isDir && !kindForPath(file.rel)) {
        yield { unsupported: file.rel };
        continue;
      }
      if (isMultiDocument(file.rel, parseOpts)) {
        try {
          const batch = await parseSource(file.abs, file.rel, parseOpts);
          failures.push(...batch.failures);
          note(batch.notices);
          yield* batch.documents;
        } catch (err) {
          failures.push({ source: file.rel, error: errorMessage(err) });
        }
        continue;
      }
      try {
        // Same size, mtime and settings as when it was stored: nothing to parse.
        const st = statSync(file.abs);
        const fingerprint = `${st.size}:${st.mtimeMs}:${configPrint}`;
        const prev = known.get(fileDocId(file.rel));
        if (prev && !prev.deleted && prev.fingerprint === fingerprint) {
          yield { unchangedId: prev.doc_id };
          continue;
        }
        const batch = await parseSource(file.abs, file.rel, parseOpts);
        failures.push(...batch.failures);
        note(batch.notices);
        // Partly unreadable (a page OCR could not read): no fingerprint, so the next run retries it.
        for (const doc of batch.documents) yield batch.failures.length ? doc : { ...doc, fingerprint };
      } catch (err) {
        failures.push({ source: file.rel, error: errorMessage(err), ...(err instanceof AclInputError ? { withdraw: fileDocId(file.rel) } : {}) });
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
  return stableHash({ acl: config.acl, tenant: config.tenant, chunking: config.chunking, parser: PARSER_VERSION, ocr: config.ocr }).slice(0, 16);
}

function walkScope(abs: string, root: string): string {
  const rel = path.relative(root, abs);
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
  // Ids (and sources, and the ACL rules' globs) are relative to the project root, never the cwd.
  const root = await resolveDocRoot(store, { configRoot: config.root, cwd, paths: opts.paths });
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
    unsupported: 0,
    chunks_written: 0,
    documents: 0,
    failures: [],
    notices: [],
    skipped: [],
    duplicates_removed: dupDocs.length + dupChunks.length,
    store_version: null,
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
    summary.chunks_written += newChunks.length;
  };

  const report: WalkReport = { failures: [], skipped: [], unreadableFolders: [] };
  const failures = report.failures;
  for await (const item of readSources(opts, config, cwd, root, report, scopes, existing, summary.notices)) {
    if ('unsupported' in item) {
      summary.unsupported++;
      continue;
    }
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
    let rows: ReturnType<typeof buildRows>;
    try {
      rows = buildRows(parsed, config, now);
    } catch (err) {
      if (!(err instanceof AclInputError)) throw err;
      failures.push({ source: parsed.source, error: err.message, withdraw: parsed.docId });
      continue;
    }
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

  const tombstone = async (ids: string[]) => {
    await store.deleteWhereIn(CHUNKS, 'doc_id', ids);
    await store.withdrawFromIndexes(ids);
    for (const where of inListChunks('doc_id', ids)) await store.update(DOCUMENTS, where, { deleted: true, ingested_at: now });
  };
  // A document whose ACL was refused: its stored version (under an older ACL) is withdrawn too,
  // so until the ACL is fixed nobody sees it, rather than whoever the old ACL allowed.
  const refused = failures.filter((f) => f.withdraw && existing.get(f.withdraw)?.deleted === false);
  if (refused.length) {
    const ids = [...new Set(refused.map((f) => f.withdraw!))];
    await tombstone(ids);
    for (const f of refused) f.error += ' (its stored version was withdrawn)';
    summary.deleted += ids.length;
  }

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
      await tombstone(ids);
      summary.deleted += ids.length;
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
  summary.store_version = await store.version(DOCUMENTS);
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

