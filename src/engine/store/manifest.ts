import { StoreError, UsageError } from '../errors.js';
import type { FtsSettings, Store } from './store.js';

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
