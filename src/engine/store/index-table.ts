import type * as lancedb from '@lancedb/lancedb';
import type { ArrowTypes } from './arrow.js';

/** ANN search effort, already decided by the caller (search owns the policy, the store applies it). */
export interface AnnSearchParams {
  nprobes: number;
  refineFactor: number;
  /** HNSW candidate list; omitted for IVF indexes without a graph. */
  ef?: number;
}

/**
 * A read handle on one index table, pinned to the version it was opened at: every search a
 * retriever runs through it sees the same rows, whatever writers commit meanwhile. Results come
 * back as Arrow tables with `_rowid`, so a second phase can fetch the survivors by row id.
 */
export class IndexTable {
  constructor(
    private readonly table: lancedb.Table,
    readonly name: string,
  ) {}

  version(): Promise<number> {
    return this.table.version();
  }

  countRows(): Promise<number> {
    return this.table.countRows();
  }

  /** Every row's `columns` with its row id. */
  scan(columns: string[]): Promise<ArrowTypes.Table> {
    return this.table.query().select(columns).withRowId().toArrow();
  }

  /** BM25 over `text`, pre-filtered by `where`; adds `_score`. */
  fullText(query: string, where: string, columns: string[], limit: number): Promise<ArrowTypes.Table> {
    return this.table
      .query()
      .fullTextSearch(query, { columns: 'text' })
      .where(where)
      .select([...columns, '_score'])
      .withRowId()
      .limit(limit)
      .toArrow();
  }

  /** Cosine nearest neighbours of `vector`, pre-filtered by `where`; adds `_distance`. */
  nearest(vector: Float32Array, where: string, columns: string[], limit: number, ann?: AnnSearchParams): Promise<ArrowTypes.Table> {
    let q = this.table.vectorSearch(vector).column('vector').distanceType('cosine').where(where).select([...columns, '_distance']).withRowId().limit(limit);
    if (ann) {
      q = q.nprobes(ann.nprobes).refineFactor(ann.refineFactor);
      if (ann.ef !== undefined) q = q.ef(ann.ef);
    }
    return q.toArrow();
  }

  /** Rows by row id (the second phase of a search). */
  take(rowIds: bigint[], columns: string[]): Promise<ArrowTypes.Table> {
    return this.table.takeRowIds(rowIds).select(columns).toArrow();
  }
}
