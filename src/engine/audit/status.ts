import type { Store } from '../store/store.js';
import { buildLineage, type IndexState } from './lineage.js';

/** `rag status`: what the store holds and whether each index keeps up with the chunks. */
export interface StoreStatus {
  store: string;
  documents: number;
  deleted: number;
  chunks: number;
  last_ingest: string | null;
  documents_table_version: number | null;
  tenants: { tenant: string; documents: number; chunks: number }[];
  indexes: {
    name: string;
    model: string | null;
    rows: number;
    table_version: number | null;
    updated_at: string;
    /** Live documents per state in this index (lineage's definitions). */
    documents: Record<IndexState, number>;
    /** True when every live document with chunks is current in this index. */
    up_to_date: boolean;
  }[];
}

export async function storeStatus(store: Store): Promise<StoreStatus> {
  const lineage = await buildLineage(store);
  const live = lineage.documents.filter((d) => !d.deleted);
  return {
    store: lineage.store,
    documents: lineage.totals.documents,
    deleted: lineage.totals.deleted,
    chunks: lineage.totals.chunks,
    last_ingest: lineage.sources.reduce<string | null>((m, s) => (!m || s.last_ingested_at > m ? s.last_ingested_at : m), null),
    documents_table_version: lineage.documents_table_version,
    tenants: lineage.totals.by_tenant.map((t) => ({ tenant: t.key, documents: t.documents, chunks: t.chunks })),
    indexes: lineage.indexes.map((ix) => {
      const counts: Record<IndexState, number> = { current: 0, stale: 0, partial: 0, missing: 0 };
      for (const d of live) {
        const s = d.indexes.find((x) => x.index === ix.name);
        if (s) counts[s.state]++;
      }
      return {
        name: ix.name,
        model: ix.model?.id ?? null,
        rows: ix.rows,
        table_version: ix.current_table_version,
        updated_at: ix.updated_at,
        documents: counts,
        up_to_date: counts.stale + counts.partial + counts.missing === 0,
      };
    }),
  };
}
