import { StoreError, UsageError } from '../errors.js';
import { snakeKeysDeep } from '../json-keys.js';
import { indexTableName, type FtsSettings, type Store } from './store.js';

/**
 * What an index is: which table holds it, which exact embedding built its vectors, which chunker
 * cut its chunks. Written by the index stage, read by search, evaluation and audit; it lives with
 * the store because it is how every later stage finds an index's table. Stored as JSON in the
 * `manifests` table and copied into eval artifacts and audit reports, so its keys are snake_case;
 * manifests written by an older rag (camelCase) are read through `normaliseManifest`.
 */
export interface IndexManifest {
  name: string;
  table: string;
  /** `embedding` identifies the vectors exactly: weights, tokenizer and embedder code. */
  model: null | { id: string; kind: string; weights_sha256: string; dim: number; embedding?: string };
  /** The chunking settings the chunks were cut with (config `chunking`), and their hash. */
  chunker: { config: ChunkerSettings; hash: string };
  fts: FtsSettings;
  ann: null | { type: string; params: Record<string, unknown> };
  rows: number;
  table_version: number;
  created_at: string;
  updated_at: string;
  /** Which build of the index `table` holds: 0 is `idx_<name>`, a rebuild makes the next one. */
  generation?: number;
  /** Version of the chunks table the index was built from: equal to it now (and `table_version` to the table's) means current. */
  chunks_version?: number | null;
  /** Earlier generations still readable by searches opened before the switch; dropped after `index.graceSeconds`. */
  retired_tables?: RetiredTable[];
}

/** Config `chunking` (`maxTokens`, …) as a manifest or report records it. */
export interface ChunkerSettings {
  max_tokens: number;
  overlap_tokens: number;
  hard_max_tokens: number;
}

export function chunkerSettings(c: { maxTokens: number; overlapTokens: number; hardMaxTokens: number }): ChunkerSettings {
  return { max_tokens: c.maxTokens, overlap_tokens: c.overlapTokens, hard_max_tokens: c.hardMaxTokens };
}

export interface RetiredTable {
  table: string;
  retired_at: string;
}

/**
 * The table of one generation of an index. Generation 0 keeps the pre-generation name
 * `idx_<name>`; later ones are `idx_<name>.g<N>`. Index names cannot hold a dot, so no
 * generation of one index can be mistaken for another index.
 */
export function generationTable(name: string, generation: number): string {
  return generation === 0 ? indexTableName(name) : `${indexTableName(name)}.g${generation}`;
}

/** The generation a table holds of index `name`, or null when it is not one of its tables. */
export function generationOf(name: string, table: string): number | null {
  const base = indexTableName(name);
  if (table === base) return 0;
  const m = table.startsWith(`${base}.g`) ? /^\d+$/.exec(table.slice(base.length + 2)) : null;
  return m ? Number(m[0]) : null;
}

/**
 * A manifest (or the copy of one an eval artifact holds) with today's key names. Manifests written
 * before keys were snake_case (`tableVersion`, `weightsSha256`, chunker `maxTokens`, FTS
 * `withPosition`, ANN `numPartitions`…) are still in stores and old artifacts; every object of a
 * manifest is rag's own, so every key is renamed; nothing else changes.
 */
export function normaliseManifest(raw: unknown): IndexManifest {
  return snakeKeysDeep(raw) as IndexManifest;
}

/** The manifest of index `name`, or null when the store has none by that name. */
export async function findIndexManifest(store: Store, name: string): Promise<IndexManifest | null> {
  const raw = await store.readManifestJson(name);
  return raw === null ? null : normaliseManifest(raw);
}

/** Every index manifest of the store, by name. */
export async function listIndexManifests(store: Store): Promise<IndexManifest[]> {
  return (await store.readManifestsJson()).map(normaliseManifest);
}

export async function readIndexManifest(store: Store, name: string): Promise<IndexManifest> {
  const m = await findIndexManifest(store, name);
  if (!m) {
    const all = await listIndexManifests(store);
    // A name the store does not have is a usage error when others exist; no index at all means
    // the store is not ready yet.
    if (all.length) throw new UsageError(`no index named "${name}"`, `use --index with one of: ${all.map((x) => x.name).join(', ')}`);
    throw new StoreError(`the store has no index yet (asked for "${name}")`, 'run `rag index` first');
  }
  return m;
}
