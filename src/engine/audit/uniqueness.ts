/**
 * One row per id, in every table: documents by `doc_id`, chunks and index rows by `chunk_id`,
 * embedding caches by `content_hash`, manifests by `name`. A copy is not harmless data: it is
 * scored twice, counted twice by lineage, and copied by the next `rag index`. The next
 * `rag ingest` (documents, chunks) and `rag index` (index tables, caches, manifests) repair it.
 */
import { CHUNKS, DOCUMENTS, MANIFESTS, type Store } from '../store/store.js';

/** Shaped like acl-probe's InvariantViolation (which lists these with the ACL invariants). */
export interface DuplicateViolation {
  kind: 'duplicate-row';
  table: string;
  doc_id: string;
  chunk_id?: string;
  actual: { acl: string[]; tenant: string };
  message: string;
}

type Keyed = { doc_id: string; chunk_id?: string };

/** Violations for rows already read: `key` names the id column of each table. */
export function duplicateRows(table: string, key: 'doc_id' | 'chunk_id', rows: Keyed[]): DuplicateViolation[] {
  const count = new Map<string, { n: number; row: Keyed }>();
  for (const r of rows) {
    const k = String(r[key]);
    const e = count.get(k);
    if (e) e.n++;
    else count.set(k, { n: 1, row: r });
  }
  const repair = table === DOCUMENTS || table === CHUNKS ? 'rag ingest' : 'rag index';
  return [...count]
    .filter(([, e]) => e.n > 1)
    .map(([k, e]) => ({
      kind: 'duplicate-row' as const,
      table,
      doc_id: e.row.doc_id,
      ...(key === 'chunk_id' ? { chunk_id: k } : {}),
      actual: { acl: [], tenant: '' },
      message: `${key} "${k}" is stored ${e.n} times; the next \`${repair}\` keeps one`,
    }));
}

/** Copies in the tables the ACL audit does not otherwise read: manifests and embedding caches. */
export async function duplicateSideRows(store: Store): Promise<DuplicateViolation[]> {
  const tables: [string, string][] = [[MANIFESTS, 'name']];
  for (const t of await store.tableNames()) if (t.startsWith('emb_')) tables.push([t, 'content_hash']);
  const out: DuplicateViolation[] = [];
  for (const [table, key] of tables) {
    for (const d of await store.duplicateKeys(table, key)) {
      out.push({
        kind: 'duplicate-row',
        table,
        doc_id: '',
        actual: { acl: [], tenant: '' },
        message: `${key} "${d.key.slice(0, 80)}" is stored ${d.count} times; the next \`rag index\` keeps one`,
      });
    }
  }
  return out;
}
