import type { StoreStatus } from '../engine/audit/status.js';
import { makeTable } from './table.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function statusText(s: StoreStatus, extra: { config: string | null; modelsDir: string }): string {
  const out = [
    `store:   ${s.store}`,
    `config:  ${extra.config ?? '(none: defaults)'}`,
    `models:  ${extra.modelsDir}`,
    `content: ${plural(s.documents, 'document')} (${s.deleted} deleted), ${plural(s.chunks, 'chunk')}; last ingest ${s.last_ingest ?? 'never'}`,
  ];
  if (s.tenants.length) {
    const t = makeTable(['tenant', 'documents', 'chunks']);
    for (const x of s.tenants) t.push([x.tenant, String(x.documents), String(x.chunks)]);
    out.push(t.toString());
  }
  if (s.indexes.length === 0) {
    out.push('indexes: none — run `rag index`');
    return out.join('\n');
  }
  const t = makeTable(['index', 'model', 'rows', 'version', 'updated', 'documents']);
  for (const ix of s.indexes) {
    const d = ix.documents;
    const lag = [d.stale && `${d.stale} stale`, d.partial && `${d.partial} partial`, d.missing && `${d.missing} missing`].filter(Boolean).join(', ');
    t.push([ix.name, ix.model ?? 'none (BM25 only)', String(ix.rows), String(ix.table_version ?? '—'), ix.updated_at.slice(0, 19).replace('T', ' '), lag ? `${d.current} current; ${lag}` : `all ${d.current} current`]);
  }
  out.push(t.toString());
  const behind = s.indexes.filter((ix) => !ix.up_to_date);
  for (const ix of behind) out.push(`index "${ix.name}" is behind the chunks: run \`rag index${ix.name === 'default' ? '' : ` --name ${ix.name}`}\``);
  return out.join('\n');
}
