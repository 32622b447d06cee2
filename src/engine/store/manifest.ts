import { StoreError, UsageError } from '../errors.js';
import { indexTableName, type FtsSettings, type Store } from './store.js';

/**
 * What an index is: which table holds it, which exact embedding built its vectors, which chunker
 * cut its chunks. Written by the index stage, read by search, evaluation and audit; it lives with
 * the store because it is how every later stage finds an index's table.
 */
export interface IndexManifest {
  name: string;
  table: string;
  /** `embedding` identifies the vectors exactly: weights, tokenizer and embedder code. */
  model: null | { id: string; kind: string; weightsSha256: string; dim: number; embedding?: string };
  chunker: { config: { maxTokens: number; overlapTokens: number; hardMaxTokens: number }; hash: string };
  fts: FtsSettings;
  ann: null | { type: string; params: Record<string, unknown> };
  rows: number;
  tableVersion: number;
  createdAt: string;
  updatedAt: string;
  /** Which build of the index `table` holds: 0 is `idx_<name>`, a rebuild makes the next one. */
  generation?: number;
  /** Version of the chunks table the index was built from: equal to it now (and `tableVersion` to the table's) means current. */
  chunks_version?: number | null;
  /** Earlier generations still readable by searches opened before the switch; dropped after `index.graceSeconds`. */
  retired_tables?: RetiredTable[];
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

export async function readIndexManifest(store: Store, name: string): Promise<IndexManifest> {
  const m = await store.readManifest<IndexManifest>(name);
  if (!m) {
    const all = await store.readManifests<IndexManifest>();
    // A name the store does not have is a usage error when others exist; no index at all means
    // the store is not ready yet.
    if (all.length) throw new UsageError(`no index named "${name}"`, `use --index with one of: ${all.map((x) => x.name).join(', ')}`);
    throw new StoreError(`the store has no index yet (asked for "${name}")`, 'run `rag index` first');
  }
  return m;
}
