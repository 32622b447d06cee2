import * as lancedb from '@lancedb/lancedb';
import { arrow, type ArrowTypes } from './arrow.js';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { inListChunks } from '../sql.js';
import type { ChunkRow, DocumentRow } from '../types.js';
import { IndexTable } from './index-table.js';
import { storeErrorFrom } from './store-errors.js';
import { lockLocal, lockRemote, type WriterLock, type WriterLockOptions } from './writer-lock.js';

const utf8List = () => new arrow.List(new arrow.Field('item', new arrow.Utf8(), true));

export const documentsSchema = new arrow.Schema([
  new arrow.Field('doc_id', new arrow.Utf8(), false),
  new arrow.Field('source', new arrow.Utf8(), false),
  new arrow.Field('connector', new arrow.Utf8(), false),
  new arrow.Field('title', new arrow.Utf8(), false),
  new arrow.Field('content_hash', new arrow.Utf8(), false),
  new arrow.Field('record_hash', new arrow.Utf8(), false),
  new arrow.Field('mtime', new arrow.Float64(), false),
  new arrow.Field('ingested_at', new arrow.Utf8(), false),
  new arrow.Field('acl', utf8List(), false),
  new arrow.Field('tenant', new arrow.Utf8(), false),
  new arrow.Field('metadata', new arrow.Utf8(), false),
  new arrow.Field('deleted', new arrow.Bool(), false),
  new arrow.Field('text', new arrow.Utf8(), false),
  new arrow.Field('fingerprint', new arrow.Utf8(), false),
]);

const chunkFields = () => [
  new arrow.Field('chunk_id', new arrow.Utf8(), false),
  new arrow.Field('doc_id', new arrow.Utf8(), false),
  new arrow.Field('ordinal', new arrow.Int32(), false),
  new arrow.Field('text', new arrow.Utf8(), false),
  new arrow.Field('title', new arrow.Utf8(), false),
  new arrow.Field('source', new arrow.Utf8(), false),
  new arrow.Field('connector', new arrow.Utf8(), false),
  new arrow.Field('heading_path', utf8List(), false),
  new arrow.Field('page', new arrow.Int32(), false),
  new arrow.Field('char_start', new arrow.Int32(), false),
  new arrow.Field('char_end', new arrow.Int32(), false),
  new arrow.Field('tokens', new arrow.Int32(), false),
  new arrow.Field('acl', utf8List(), false),
  new arrow.Field('tenant', new arrow.Utf8(), false),
  new arrow.Field('metadata', new arrow.Utf8(), false),
  new arrow.Field('meta_kv', utf8List(), false),
  new arrow.Field('content_hash', new arrow.Utf8(), false),
  new arrow.Field('row_hash', new arrow.Utf8(), false),
];

export const chunksSchema = new arrow.Schema(chunkFields());

export function indexSchema(dim: number | null): ArrowTypes.Schema {
  const fields: ArrowTypes.Field[] = [...chunkFields(), new arrow.Field('indexed_at', new arrow.Utf8(), false)];
  if (dim) {
    fields.push(
      new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
    );
  }
  return new arrow.Schema(fields);
}

export const manifestsSchema = new arrow.Schema([
  new arrow.Field('name', new arrow.Utf8(), false),
  new arrow.Field('json', new arrow.Utf8(), false),
]);

export type IndexRow = ChunkRow & { indexed_at: string; vector?: Float32Array | number[] };

/**
 * Rows of an Arrow table as plain objects, column by column: much cheaper than LanceDB's
 * `toArray()` row proxies on the query hot path.
 */
export function arrowRows<T>(table: ArrowTypes.Table): T[] {
  const n = table.numRows;
  const out: Record<string, unknown>[] = Array.from({ length: n }, () => ({}));
  for (const field of table.schema.fields) {
    const col = table.getChild(field.name)!;
    const isList = arrow.DataType.isList(field.type) || arrow.DataType.isFixedSizeList(field.type);
    for (let i = 0; i < n; i++) {
      const v = col.get(i);
      out[i]![field.name] = isList && v ? (field.name === 'vector' ? Float32Array.from(v.toArray()) : Array.from(v.toArray())) : typeof v === 'bigint' && field.name !== '_rowid' ? Number(v) : v;
    }
  }
  return out as T[];
}

export const DOCUMENTS = 'documents';
export const CHUNKS = 'chunks';
export const MANIFESTS = 'manifests';
const INDEX_TABLE_PREFIX = 'idx_';
export const indexTableName = (name: string) => `${INDEX_TABLE_PREFIX}${name}`;

/** Old table versions stay readable (time travel, `rag audit lineage --since`) this long. */
export const KEEP_VERSIONS_MS = 7 * 24 * 3600 * 1000;

/**
 * Full-text tokenizer settings of an index, as its manifest records them (snake_case, like every
 * JSON rag writes); `createSearchIndexes` hands them to LanceDB under LanceDB's own option names.
 */
export interface FtsSettings {
  with_position: boolean;
  base_tokenizer: 'simple' | 'whitespace' | 'raw' | 'ngram';
  language: string;
  stem: boolean;
  remove_stop_words: boolean;
  lowercase: boolean;
  ascii_folding: boolean;
  /** Character n-gram sizes, for the `ngram` base tokenizer (CJK text has no spaces between words). */
  ngram_min_length?: number;
  ngram_max_length?: number;
  prefix_only?: boolean;
}

/** IVF-HNSW-SQ build parameters, as the manifest records them. */
export interface VectorIndexParams {
  num_partitions: number;
  m: number;
  ef_construction: number;
}

/** Whether a store URI points at object storage rather than a local directory. */
export const isRemoteUri = (uri: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(uri);

/**
 * The embedded LanceDB store. Every mutation is a LanceDB commit (atomic and versioned), so an
 * interrupted run leaves the last committed version readable. A store opened as a writer holds
 * the writer lock (writer-lock.ts) until the process ends; readers take no lock.
 */
export class Store {
  private tables = new Map<string, lancedb.Table>();
  private lock: WriterLock | null = null;
  private constructor(
    readonly uri: string,
    private readonly conn: lancedb.Connection,
  ) {}

  static async open(
    uri: string,
    opts: { create?: boolean; storageOptions?: Record<string, string>; writer?: WriterLockOptions } = {},
  ): Promise<Store> {
    const remote = isRemoteUri(uri);
    const resolved = remote ? uri : path.resolve(uri);
    if (!remote && !opts.create && !existsSync(resolved)) {
      throw new StoreError(`no rag store at ${resolved}`, 'run `rag ingest PATH` first, or pass --db DIR');
    }
    let conn: lancedb.Connection;
    try {
      conn = await lancedb.connect(resolved, { storageOptions: opts.storageOptions ?? storageOptionsFromEnv(uri) });
      // Object storage fails late and verbosely; one listing up front turns it into one clear line.
      if (remote) await conn.tableNames();
    } catch (err) {
      const e = new StoreError(
        remote ? `cannot reach store ${resolved}: bucket missing or not reachable` : `cannot open store ${resolved}`,
        remote ? 'check that the bucket exists and RAG_S3_ENDPOINT, AWS_REGION and the AWS_* credentials are right' : 'check the path and its permissions (rerun with --verbose for the cause)',
      );
      e.detail = String((err as Error).message ?? err);
      throw e;
    }
    const store = new Store(resolved, conn);
    if (opts.writer) {
      try {
        store.lock = remote ? await lockRemote(conn, resolved, opts.writer) : await lockLocal(resolved, opts.writer);
      } catch (err) {
        throw storeErrorFrom(err, resolved);
      }
    }
    return store;
  }

  /** Whether this process holds the store's writer lock. */
  get isWriter(): boolean {
    return this.lock !== null;
  }

  /** Before each mutation: a writer whose lease was taken over must stop writing. */
  private async guard(): Promise<void> {
    if (this.lock) await this.lock.assertHeld();
  }

  async tableNames(): Promise<string[]> {
    return this.conn.tableNames();
  }

  /** The LanceDB handle of a table; never handed out of the store. */
  private async table(name: string): Promise<lancedb.Table | null> {
    const cached = this.tables.get(name);
    if (cached) return cached;
    const names = await this.conn.tableNames();
    if (!names.includes(name)) return null;
    let t: lancedb.Table;
    try {
      t = await this.conn.openTable(name);
    } catch (err) {
      if (this.removeUncommitted(name)) return null;
      throw storeErrorFrom(err, `table ${name} in ${this.uri}`);
    }
    this.tables.set(name, t);
    return t;
  }

  /**
   * A process killed while creating a table leaves a folder without any committed version. It
   * holds nothing readable, so the table is treated as absent; the writer removes the folder (for
   * anyone else it may be a table a writer is creating right now).
   */
  private removeUncommitted(name: string, writing = false): boolean {
    if (isRemoteUri(this.uri)) return false;
    const dir = path.join(this.uri, `${name}.lance`);
    if (!existsSync(dir) || existsSync(path.join(dir, '_versions'))) return false;
    if (this.lock || writing) rmSync(dir, { recursive: true, force: true });
    return true;
  }

  private async ensureTable(name: string, schema: ArrowTypes.Schema): Promise<lancedb.Table> {
    await this.guard();
    const existing = await this.table(name);
    if (existing) return existing;
    this.removeUncommitted(name, true);
    const t = await this.conn.createEmptyTable(name, schema, { existOk: true });
    this.tables.set(name, t);
    return t;
  }

  async dropTable(name: string): Promise<void> {
    await this.guard();
    const names = await this.conn.tableNames();
    if (names.includes(name)) await this.conn.dropTable(name);
    this.tables.delete(name);
  }

  /**
   * Brings tables written by an older rag up to the current schema: columns added since are
   * filled with their neutral value (one LanceDB commit each, nothing rewritten).
   */
  async migrate(): Promise<void> {
    const docs = await this.table(DOCUMENTS);
    if (docs) {
      await this.guard();
      const names = new Set((await docs.schema()).fields.map((f) => f.name));
      if (!names.has('fingerprint')) await docs.addColumns([{ name: 'fingerprint', valueSql: "''" }]);
    }
  }

  async readAll<T>(name: string, columns?: string[], where?: string): Promise<T[]> {
    const t = await this.table(name);
    if (!t) return [];
    let q = t.query();
    if (columns) q = q.select(columns);
    if (where) q = q.where(where);
    // Column by column from Arrow: 4× faster than row proxies on list columns (acl).
    return arrowRows<T>(await q.toArrow());
  }

  /** Upsert by key column: inserting twice is harmless, which makes interrupted runs resumable. */
  async upsert(name: string, schema: ArrowTypes.Schema, key: string, rows: Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    const t = await this.ensureTable(name, schema);
    const data = lancedb.makeArrowTable(rows, { schema });
    await t.mergeInsert(key).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
  }

  async add(name: string, schema: ArrowTypes.Schema, rows: Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    const t = await this.ensureTable(name, schema);
    await t.add(lancedb.makeArrowTable(rows, { schema }));
  }

  /** Creates the table (empty) when it does not exist yet. */
  async createTable(name: string, schema: ArrowTypes.Schema): Promise<void> {
    await this.ensureTable(name, schema);
  }

  async hasTable(name: string): Promise<boolean> {
    return (await this.table(name)) !== null;
  }

  async countRows(name: string, where?: string): Promise<number> {
    const t = await this.table(name);
    return t ? t.countRows(where) : 0;
  }

  async update(name: string, where: string, values: Record<string, string | number | boolean>): Promise<void> {
    await this.guard();
    const t = await this.table(name);
    if (t) await t.update({ where, values: values as Record<string, string> });
  }

  /**
   * Compacts a table's small fragments (scans and searches get faster) and forgets versions
   * older than KEEP_VERSIONS_MS; newer ones stay readable for time travel.
   */
  async optimize(name: string): Promise<void> {
    await this.guard();
    await (await this.table(name))?.optimize({ cleanupOlderThan: new Date(Date.now() - KEEP_VERSIONS_MS) });
  }

  /** Index tables (one per named index), whatever their manifests say. */
  async indexTableNames(): Promise<string[]> {
    return (await this.tableNames()).filter((n) => n.startsWith(INDEX_TABLE_PREFIX));
  }

  /**
   * Takes documents out of every index at once: a changed or deleted document (a revoked
   * permission above all) must not stay searchable until the next `rag index`.
   */
  async withdrawFromIndexes(docIds: readonly string[]): Promise<void> {
    if (docIds.length === 0) return;
    for (const t of await this.indexTableNames()) await this.deleteWhereIn(t, 'doc_id', docIds);
  }

  /**
   * A search handle on an index table at its latest version, or null when the table does not
   * exist. Each call opens a new handle, pinned to the version current at that moment.
   */
  async indexTable(name: string): Promise<IndexTable | null> {
    if (!(await this.table(name))) return null;
    try {
      return new IndexTable(await this.conn.openTable(name), name);
    } catch (err) {
      throw storeErrorFrom(err, `index table ${name}`);
    }
  }

  async hasIndexOn(name: string, column: string): Promise<boolean> {
    const t = await this.table(name);
    return t ? (await t.listIndices()).some((i) => i.columns.includes(column)) : false;
  }

  /**
   * The full-text index on `text` and the scalar indexes that make the ACL pre-filter cheap (it
   * runs on every search): a label list on `acl`, a bitmap on `tenant`. Replacing an index is one
   * commit, and the replaced index's files stay until old versions are cleaned up (KEEP_VERSIONS_MS),
   * so a search pinned to an earlier version never meets a half-built or vanished index.
   */
  async createSearchIndexes(name: string, fts: FtsSettings): Promise<void> {
    await this.guard();
    const t = await this.table(name);
    if (!t) throw new StoreError(`cannot index table ${name}: it does not exist`);
    const options = {
      withPosition: fts.with_position,
      baseTokenizer: fts.base_tokenizer,
      language: fts.language,
      stem: fts.stem,
      removeStopWords: fts.remove_stop_words,
      lowercase: fts.lowercase,
      asciiFolding: fts.ascii_folding,
      ...(fts.ngram_min_length !== undefined ? { ngramMinLength: fts.ngram_min_length } : {}),
      ...(fts.ngram_max_length !== undefined ? { ngramMaxLength: fts.ngram_max_length } : {}),
      ...(fts.prefix_only !== undefined ? { prefixOnly: fts.prefix_only } : {}),
    };
    await t.createIndex('text', { config: lancedb.Index.fts(options), replace: true });
    await t.createIndex('acl', { config: lancedb.Index.labelList(), replace: true });
    await t.createIndex('tenant', { config: lancedb.Index.bitmap(), replace: true });
  }

  /** IVF-HNSW-SQ over `vector` (cosine). */
  async createVectorIndex(name: string, params: VectorIndexParams): Promise<void> {
    await this.guard();
    const t = await this.table(name);
    if (!t) throw new StoreError(`cannot index table ${name}: it does not exist`);
    const config = lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: params.num_partitions, m: params.m, efConstruction: params.ef_construction });
    await t.createIndex('vector', { config, replace: true });
  }

  /** Versions of a table, oldest first, with their commit times. */
  async versions(name: string): Promise<{ version: number; timestamp: Date }[]> {
    const t = await this.table(name);
    if (!t) return [];
    return (await t.listVersions()).map((v) => ({ version: v.version, timestamp: v.timestamp })).sort((a, b) => a.version - b.version);
  }

  /**
   * Rows of an older version (time travel). A separate handle is checked out, so the store's own
   * handle keeps reading the latest version. Null when that version was cleaned up.
   */
  async readAtVersion<T>(name: string, version: number, columns: string[]): Promise<T[] | null> {
    if (!(await this.table(name))) return null;
    const t = await this.conn.openTable(name);
    try {
      // Only a version that is gone means null; a failing read (network, damaged files) is an error, not "cleaned up".
      if (!(await t.listVersions()).some((v) => v.version === version)) return null;
      await t.checkout(version);
      return arrowRows<T>(await t.query().select(columns).toArrow());
    } catch (err) {
      throw storeErrorFrom(err, this.uri);
    } finally {
      t.close();
    }
  }

  async deleteWhereIn(name: string, column: string, values: readonly string[]): Promise<void> {
    const t = await this.table(name);
    if (!t || values.length === 0) return;
    await this.guard();
    for (const clause of inListChunks(column, values)) await t.delete(clause);
  }

  async version(name: string): Promise<number | null> {
    const t = await this.table(name);
    return t ? t.version() : null;
  }

  /**
   * The latest committed version of a table, including other processes' commits since this store
   * first opened it (`version` stays at what this process reads). Later reads through the store
   * see that version too.
   */
  async latestVersion(name: string): Promise<number | null> {
    const t = await this.table(name);
    if (!t) return null;
    await t.checkoutLatest();
    return t.version();
  }

  /**
   * Manifests are read at their latest commit, even through a handle opened long ago: a switch to
   * a new index generation is visible to a long-lived reader on its next read.
   */
  private async latestManifests(): Promise<{ name: string; json: string }[]> {
    const t = await this.table(MANIFESTS);
    if (!t) return [];
    await t.checkoutLatest();
    return arrowRows<{ name: string; json: string }>(await t.query().toArrow());
  }

  /**
   * The stored JSON of one index manifest, as written (by this rag or an older one). Read it
   * through `store/manifest.ts`, which brings older key spellings up to today's.
   */
  async readManifestJson(name: string): Promise<unknown> {
    const row = (await this.latestManifests()).find((r) => r.name === name);
    return row ? JSON.parse(row.json) : null;
  }

  /** Every stored manifest's JSON, by name (see readManifestJson). */
  async readManifestsJson(): Promise<unknown[]> {
    const rows = await this.latestManifests();
    const byName = new Map(rows.map((r) => [r.name, r]));
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => JSON.parse(r.json) as unknown);
  }

  async writeManifest(name: string, value: unknown): Promise<void> {
    await this.upsert(MANIFESTS, manifestsSchema, 'name', [{ name, json: JSON.stringify(value) }]);
  }

  async deleteManifest(name: string): Promise<void> {
    await this.deleteWhereIn(MANIFESTS, 'name', [name]);
  }

  /**
   * Leaves one row per `key` value: extra copies (two writers at once in an older rag, or a
   * tampered table) are deleted by row id in one commit per 1,000 ids. Returns the kept row of
   * every key that had copies, with `columns`.
   */
  async removeDuplicates<T extends Record<string, unknown>>(name: string, key: string, columns: string[] = [key]): Promise<T[]> {
    const t = await this.table(name);
    if (!t) return [];
    const rows = arrowRows<Record<string, unknown> & { _rowid: bigint }>(await t.query().select([...new Set([key, ...columns])]).withRowId().toArrow());
    const first = new Map<unknown, Record<string, unknown> & { _rowid: bigint }>();
    const extra: bigint[] = [];
    const dupKeys = new Set<unknown>();
    for (const r of rows) {
      const k = r[key];
      const kept = first.get(k);
      if (!kept) first.set(k, r);
      else {
        // Keep the lowest row id: the copy committed first.
        if (r._rowid < kept._rowid) {
          extra.push(kept._rowid);
          first.set(k, r);
        } else extra.push(r._rowid);
        dupKeys.add(k);
      }
    }
    if (extra.length === 0) return [];
    await this.guard();
    for (let i = 0; i < extra.length; i += 1000) await t.delete(`_rowid IN (${extra.slice(i, i + 1000).join(', ')})`);
    return [...dupKeys].map((k) => {
      const { _rowid, ...row } = first.get(k)!;
      return row as T;
    });
  }

  /** Values of `key` that occur on more than one row, with their counts. */
  async duplicateKeys(name: string, key: string): Promise<{ key: string; count: number }[]> {
    const t = await this.table(name);
    if (!t) return [];
    const counts = new Map<string, number>();
    for (const r of await t.query().select([key]).toArray()) {
      const k = String(r[key]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].filter(([, n]) => n > 1).map(([k, count]) => ({ key: k, count })).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
    this.tables.clear();
    this.conn.close();
  }
}

/** S3-compatible storage settings from the usual AWS environment variables. */
export function storageOptionsFromEnv(uri: string): Record<string, string> | undefined {
  if (!uri.startsWith('s3://')) return undefined;
  const opts: Record<string, string> = {};
  const env = process.env;
  if (env.AWS_ACCESS_KEY_ID) opts.aws_access_key_id = env.AWS_ACCESS_KEY_ID;
  if (env.AWS_SECRET_ACCESS_KEY) opts.aws_secret_access_key = env.AWS_SECRET_ACCESS_KEY;
  if (env.AWS_REGION) opts.region = env.AWS_REGION;
  const endpoint = env.RAG_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    opts.endpoint = endpoint;
    if (endpoint.startsWith('http://')) opts.allow_http = 'true';
  }
  return opts;
}

export type { DocumentRow, ChunkRow };
