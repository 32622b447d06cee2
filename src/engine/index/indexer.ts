import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FtsLanguage, RagConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { sha256, stableStringify } from '../hash.js';
import { chunkerHash } from '../ingest/provenance.js';
import { listModels, loadEmbedder, type Embedder } from '../models/index.js';
import { CHUNKS, indexSchema, MANIFESTS, Store, type FtsSettings, type IndexRow, type VectorIndexParams } from '../store/store.js';
import { arrow } from '../store/arrow.js';
import { inListChunks } from '../sql.js';
import { chunkerSettings, findIndexManifest, generationOf, generationTable, type IndexManifest, type RetiredTable } from '../store/manifest.js';
import type { ChunkRow } from '../types.js';

export interface IndexOptions {
  name: string;
  /** Model id, "none" for BM25 only, or undefined for config → existing manifest → best present. */
  model?: string;
  rebuild?: boolean;
  batchSize?: number;
  onProgress?: (p: { done: number; total: number; phase: string }) => void;
  onNotice?: (msg: string) => void;
}

export interface IndexSummary {
  name: string;
  model: string | null;
  embedded: number;
  reused: number;
  removed: number;
  unchanged: number;
  rows: number;
  ann: boolean;
  table_version: number;
  seconds: number;
  chunks_per_second: number;
  /** Extra copies of index or embedding-cache rows found and removed before the build. */
  duplicates_removed: number;
  /** The table the index now lives in (a rebuild switches to a new generation). */
  table: string;
}

/** Full-text settings: English stemming and stop words, as the BM25 baselines we compare with. */
export const FTS_CONFIG: FtsSettings = {
  with_position: false,
  base_tokenizer: 'simple',
  language: 'English',
  stem: true,
  remove_stop_words: true,
  lowercase: true,
  ascii_folding: true,
};

/**
 * Full-text settings of a language (config `index.language`, or `index.languages[NAME]` for one
 * index). Stemming languages use LanceDB's stemmer and stop words; "cjk" indexes overlapping
 * character unigrams and bigrams, because Chinese and Japanese do not separate words with spaces:
 * a query is cut the same way (LanceDB tokenises it with the index's own settings), so a two-
 * character word matches as a bigram and a single character still matches at all.
 */
export function ftsSettings(language: FtsLanguage): FtsSettings {
  if (language === 'english') return FTS_CONFIG;
  if (language === 'cjk') {
    return { ...FTS_CONFIG, base_tokenizer: 'ngram', ngram_min_length: 1, ngram_max_length: 2, prefix_only: false, stem: false, remove_stop_words: false };
  }
  if (language === 'simple') return { ...FTS_CONFIG, stem: false, remove_stop_words: false };
  return { ...FTS_CONFIG, language: language[0]!.toUpperCase() + language.slice(1) };
}

/** The full-text language of a named index: its own entry in `index.languages`, else `index.language`. */
export function indexLanguage(config: RagConfig, name: string): FtsLanguage {
  return config.index.languages[name] ?? config.index.language;
}

/** Preference order when no model is named: the strongest embedder that is present. */
const PREFERRED_MODELS = ['BAAI/bge-small-en-v1.5', 'sentence-transformers/all-MiniLM-L6-v2'];

export async function chooseModel(config: RagConfig, requested: string | undefined, existing: IndexManifest | null): Promise<string | null> {
  const pick = requested ?? config.index.model ?? existing?.model?.id;
  if (pick === 'none') return null;
  if (pick) return pick;
  if (existing && !existing.model) return null;
  const present = (await listModels()).filter((m) => m.kind !== 'cross-encoder');
  for (const id of PREFERRED_MODELS) if (present.some((m) => m.id === id)) return id;
  return present[0]?.id ?? null;
}

/** Bump when embedding code changes its output for the same model files. */
const EMBEDDER_VERSION = 2;

/** What makes two vectors of the same text equal: weights, tokenizer and embedder code. */
function embeddingId(e: Embedder): string {
  const tokenizer = path.join(e.info.dir, 'tokenizer.json');
  const tokHash = existsSync(tokenizer) ? sha256(readFileSync(tokenizer)) : '';
  return sha256(`${e.info.id}\n${e.info.weights_sha256}\n${tokHash}\n${EMBEDDER_VERSION}`).slice(0, 16);
}



function embCacheSchema(dim: number) {
  return new arrow.Schema([
    new arrow.Field('content_hash', new arrow.Utf8(), false),
    new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
  ]);
}

/**
 * Builds or updates a named index from the chunks table. Only rows whose chunk or ACL changed are
 * rewritten; vectors are looked up in a per-model cache by text hash, so only text never embedded
 * by this model is sent to it. Each batch is its own commit: an interrupted run resumes.
 *
 * A rebuild (asked for, or forced by a new model) never touches the table searches are reading:
 * it fills the next generation's table, then switches the manifest to it in one commit. The
 * previous table stays readable for `index.graceSeconds`, so a search that opened it finishes on
 * it; a later build drops it. Callers hold the store's writer lock.
 */
export async function buildIndex(store: Store, config: RagConfig, opts: IndexOptions): Promise<IndexSummary> {
  const started = performance.now();
  // A dot would make `idx_<name>` read as a generation of another index (see generationTable).
  if (!/^[A-Za-z0-9_-]+$/.test(opts.name)) throw new UsageError(`invalid index name "${opts.name}"`, 'use letters, digits, "-" and "_" only');
  let duplicatesRemoved = (await store.removeDuplicates(MANIFESTS, 'name')).length;
  let manifest = await findIndexManifest(store, opts.name);
  const modelId = await chooseModel(config, opts.model, manifest);
  const embedder = modelId ? await loadEmbedder(modelId) : null;
  if (!embedder) opts.onNotice?.('no embedding model: this index is BM25-only (pass --model ID, see `rag models list`)');

  const embedding = embedder ? embeddingId(embedder) : null;
  const modelChanged =
    manifest !== null &&
    ((manifest.model?.id ?? null) !== (embedder?.info.id ?? null) || (manifest.model?.embedding ?? null) !== embedding);
  let table = manifest?.table ?? generationTable(opts.name, 0);
  let generation = manifest?.generation ?? (manifest ? (generationOf(opts.name, manifest.table) ?? 0) : 0);
  let retired: RetiredTable[] = manifest?.retired_tables ?? [];
  let replacing: string | null = null;
  if (manifest && (opts.rebuild || modelChanged || !(await store.hasTable(manifest.table)))) {
    if (modelChanged) opts.onNotice?.(`embedding model changed (${manifest?.model?.id ?? "none"} → ${embedder?.info.id ?? "none"}, or its weights, tokenizer or code): rebuilding index "${opts.name}"`);
    generation = await nextGeneration(store, opts.name, manifest);
    if (await store.hasTable(manifest.table)) replacing = manifest.table;
    table = generationTable(opts.name, generation);
    await store.dropTable(table); // what an interrupted rebuild left there
    manifest = null;
  } else if (!manifest && opts.rebuild) {
    await store.dropTable(table); // never went live: no search can be reading it
  }
  const fts = ftsSettings(indexLanguage(config, opts.name));
  const ftsChanged = manifest !== null && stableStringify(manifest.fts) !== stableStringify(fts);
  if (ftsChanged) opts.onNotice?.(`full-text language changed for index "${opts.name}" (now ${indexLanguage(config, opts.name)}): rebuilding its BM25 index`);
  const schema = indexSchema(embedder ? embedder.dim : null);
  await store.createTable(table, schema);
  duplicatesRemoved += (await store.removeDuplicates(table, 'chunk_id')).length;
  if (embedding) duplicatesRemoved += (await store.removeDuplicates(`emb_${embedding}`, 'content_hash')).length;

  // The chunks table version read first: the index reflects at least this version of it.
  const chunksVersion = await store.version(CHUNKS);
  // Copies of a chunk row (a damaged chunks table: the next ingest repairs it) are indexed once.
  const chunks = [...new Map((await store.readAll<{ chunk_id: string; row_hash: string }>(CHUNKS, ['chunk_id', 'row_hash'])).map((c) => [c.chunk_id, c])).values()];
  if (chunks.length === 0) throw new UsageError('the store holds no chunks', 'run `rag ingest PATH` first');
  const indexed = new Map((await store.readAll<{ chunk_id: string; row_hash: string }>(table, ['chunk_id', 'row_hash'])).map((r) => [r.chunk_id, r.row_hash]));
  const wanted = new Map(chunks.map((c) => [c.chunk_id, c.row_hash]));
  const toRemove = [...indexed.entries()].filter(([id, h]) => wanted.get(id) !== h).map(([id]) => id);
  const addIds = chunks.filter((c) => indexed.get(c.chunk_id) !== c.row_hash).map((c) => c.chunk_id);
  const toAdd = (await chunkRows(store, addIds, chunks.length)).sort((a, b) => (a.chunk_id < b.chunk_id ? -1 : 1));
  await store.deleteWhereIn(table, 'chunk_id', toRemove);

  let embedded = 0;
  let reused = 0;
  const batchSize = opts.batchSize ?? 512;
  const now = new Date().toISOString();
  for (let i = 0; i < toAdd.length; i += batchSize) {
    const batch = toAdd.slice(i, i + batchSize);
    const rows: IndexRow[] = batch.map((c) => ({ ...c, indexed_at: now }));
    if (embedder) {
      const cacheName = `emb_${embedding!}`;
      const cacheSchema = embCacheSchema(embedder.dim);
      const hashes = [...new Set(batch.map((c) => c.content_hash))];
      const cached = new Map<string, Float32Array>();
      if (await store.hasTable(cacheName)) {
        for (let j = 0; j < hashes.length; j += 500) {
          const got = await store.readAll<{ content_hash: string; vector: Float32Array }>(
            cacheName,
            undefined,
            `content_hash IN (${hashes.slice(j, j + 500).map((h) => `'${h}'`).join(', ')})`,
          );
          for (const g of got) cached.set(g.content_hash, Float32Array.from(g.vector));
        }
      }
      const wanted = new Set<string>();
      const missing = batch.filter((c) => !cached.has(c.content_hash) && !wanted.has(c.content_hash) && wanted.add(c.content_hash));
      if (missing.length) {
        const vectors = await embedder.embedPassages(missing.map(passageText), (d) =>
          opts.onProgress?.({ done: i + d, total: toAdd.length, phase: 'embedding' }),
        );
        missing.forEach((c, k) => cached.set(c.content_hash, vectors[k]!));
        await store.add(cacheName, cacheSchema, missing.map((c, k) => ({ content_hash: c.content_hash, vector: Array.from(vectors[k]!) })));
      }
      embedded += missing.length;
      reused += batch.length - missing.length;
      for (const r of rows) r.vector = Array.from(cached.get(r.content_hash)!);
    }
    await store.add(table, schema, rows as unknown as Record<string, unknown>[]);
    opts.onProgress?.({ done: Math.min(i + batchSize, toAdd.length), total: toAdd.length, phase: 'indexing' });
  }

  const rowCount = await store.countRows(table);
  const changed = toAdd.length > 0 || toRemove.length > 0 || !manifest;
  // A small change is merged into the existing indexes (optimize: compaction + index deltas);
  // a new table or a large change rebuilds them.
  const small = manifest !== null && (await store.hasIndexOn(table, 'text')) && toAdd.length + toRemove.length <= Math.max(100, rowCount * 0.1);
  if (changed && small && !ftsChanged) {
    await store.optimize(table);
  } else if (changed || ftsChanged) {
    // Rows arrive in many small commits; one compacted fragment halves fetch and search time.
    await store.optimize(table);
    await store.createSearchIndexes(table, fts);
  }
  let ann: IndexManifest['ann'] = manifest?.ann ?? null;
  if (embedder && rowCount >= config.index.annThreshold && ((changed && !small) || !ann)) {
    // HNSW inside IVF partitions, scalar-quantised; searches re-rank the survivors with exact
    // distances (refineFactor), which keeps recall@10 ≈ 1 even under a selective ACL pre-filter.
    const partitions = Math.max(1, Math.ceil(rowCount / config.index.annPartitionRows));
    const params: VectorIndexParams = { num_partitions: partitions, m: 16, ef_construction: 150 };
    opts.onNotice?.(`building ANN index (IVF-HNSW-SQ, ${partitions} partition${partitions > 1 ? 's' : ''}) over ${rowCount} rows`);
    await store.createVectorIndex(table, params);
    ann = { type: 'IVF_HNSW_SQ', params: { distance_type: 'cosine', ...params } };
  } else if (rowCount < config.index.annThreshold) {
    ann = null;
  }
  const tableVersion = (await store.version(table))!;
  const nowDone = new Date().toISOString();
  if (replacing) retired = [...retired, { table: replacing, retired_at: nowDone }];
  const existing = new Set(await store.indexTableNames());
  retired = retired.filter((r) => r.table !== table && existing.has(r.table) && Date.now() - Date.parse(r.retired_at) < config.index.graceSeconds * 1000);
  // The switch: one commit of the manifests table. Searches that read the manifest before it keep
  // the table they opened; every later one opens the new table.
  const next: IndexManifest = {
    name: opts.name,
    table,
    model: embedder ? { id: embedder.info.id, kind: embedder.info.kind, weights_sha256: embedder.info.weights_sha256, dim: embedder.dim, embedding: embedding! } : null,
    chunker: { config: chunkerSettings(config.chunking), hash: chunkerHash(config) },
    fts,
    ann,
    rows: rowCount,
    table_version: tableVersion,
    created_at: manifest?.created_at ?? nowDone,
    updated_at: changed || ftsChanged ? nowDone : manifest!.updated_at,
    generation,
    chunks_version: chunksVersion,
    retired_tables: retired,
  };
  await store.writeManifest(opts.name, next);
  await dropUnusedGenerations(store, opts.name, table, retired);
  const seconds = (performance.now() - started) / 1000;
  return {
    name: opts.name,
    model: embedder?.info.id ?? null,
    embedded,
    reused,
    removed: toRemove.length,
    unchanged: chunks.length - toAdd.length,
    rows: rowCount,
    ann: ann !== null,
    table_version: tableVersion,
    seconds,
    chunks_per_second: toAdd.length / Math.max(seconds, 1e-9),
    duplicates_removed: duplicatesRemoved,
    table,
  };
}

/**
 * Full rows of the chunks to (re)index. A small update (`rag ingest --watch`, one edited file)
 * reads just those rows; reading every chunk's text would cost seconds on a large store.
 */
async function chunkRows(store: Store, ids: string[], total: number): Promise<ChunkRow[]> {
  if (ids.length === 0) return [];
  if (ids.length > 2000 || ids.length > total / 4) {
    const want = new Set(ids);
    return dedupe((await store.readAll<ChunkRow>(CHUNKS)).filter((c) => want.has(c.chunk_id)));
  }
  const out: ChunkRow[] = [];
  for (const where of inListChunks('chunk_id', ids)) out.push(...(await store.readAll<ChunkRow>(CHUNKS, undefined, where)));
  return dedupe(out);
}

const dedupe = (rows: ChunkRow[]) => [...new Map(rows.map((c) => [c.chunk_id, c])).values()];

/** One past the highest generation this index has or had (a table left by an interrupted rebuild counts). */
async function nextGeneration(store: Store, name: string, manifest: IndexManifest): Promise<number> {
  const gens = [manifest.generation ?? 0, ...(manifest.retired_tables ?? []).map((r) => generationOf(name, r.table) ?? 0)];
  for (const t of await store.indexTableNames()) gens.push(generationOf(name, t) ?? -1);
  return Math.max(...gens) + 1;
}

/**
 * After the manifest switch: drops this index's tables that no search can be reading any more —
 * tables retired longer ago than the grace period, and tables of interrupted rebuilds that never
 * went live. Safe only under the writer lock (no other build is filling a generation).
 */
async function dropUnusedGenerations(store: Store, name: string, live: string, keep: RetiredTable[]): Promise<void> {
  const kept = new Set(keep.map((r) => r.table));
  for (const t of await store.indexTableNames()) {
    if (t !== live && !kept.has(t) && generationOf(name, t) !== null) await store.dropTable(t);
  }
}

/** What the embedder sees of a chunk: its title and heading path give the passage context. */
export function passageText(c: Pick<ChunkRow, 'text' | 'title' | 'heading_path' | 'connector'>): string {
  // BEIR documents already begin with their title (the connector puts it there).
  if (c.connector === 'beir') return c.text;
  const context = [c.title, ...c.heading_path.filter((h) => h !== c.title)].filter(Boolean).join(' › ');
  return context ? `${context}\n${c.text}` : c.text;
}
