/**
 * A golden set written for other tools: TREC qrels (`qid 0 doc grade`, what trec_eval and ranx
 * read), CSV with a header (spreadsheets, pandas; the columns `rag label --import` reads back)
 * and JSONL with one judgment per line (the same fields). Queries keep their order in the golden
 * set, judgments are sorted by id, so the same golden set always exports the same bytes.
 */
import { InputError } from '../engine/errors.js';
import type { GoldenQuery } from '../engine/evaluation/goldens.js';
import { compareBytes, isChunkId, type Qrels } from '../engine/evaluation/qrels.js';

export type ExportFormat = 'trec' | 'csv' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['trec', 'csv', 'jsonl'];

interface Judgment {
  qid: string;
  query: string;
  key: string;
  grade: number;
}

function judgments(queries: readonly GoldenQuery[], qrels: Qrels): Judgment[] {
  const out: Judgment[] = [];
  for (const q of queries) {
    const judged = qrels.get(q.id);
    if (!judged) continue;
    for (const key of [...judged.keys()].sort(compareBytes)) out.push({ qid: q.id, query: q.text, key, grade: judged.get(key)! });
  }
  return out;
}

/** RFC 4180: quote a field holding a comma, quote, line break or edge space; double the quotes. */
function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function exportGolden(queries: readonly GoldenQuery[], qrels: Qrels, format: ExportFormat, file: string): string {
  const rows = judgments(queries, qrels);
  switch (format) {
    case 'trec':
      return rows
        .map((j) => {
          for (const [what, id] of [['query id', j.qid], ['judged id', j.key]] as const) {
            if (/\s/.test(id) || id === '') {
              throw new InputError(file, undefined, `${what} ${JSON.stringify(id)} is empty or contains whitespace, which a TREC qrels line cannot hold`, 'export --format csv or jsonl instead, or rename the id');
            }
          }
          return `${j.qid} 0 ${j.key} ${j.grade}\n`;
        })
        .join('');
    case 'csv':
      return ['qid,query,doc_id,chunk_id,grade\n', ...rows.map((j) => {
        const chunk = isChunkId(j.key);
        return `${[j.qid, j.query, chunk ? '' : j.key, chunk ? j.key : ''].map(csvField).join(',')},${j.grade}\n`;
      })].join('');
    case 'jsonl':
      return rows.map((j) => `${JSON.stringify({ qid: j.qid, query: j.query, [isChunkId(j.key) ? 'chunk_id' : 'doc_id']: j.key, grade: j.grade })}\n`).join('');
  }
}
