import { InputError } from '../errors.js';
import type { RetrievalMode } from '../types.js';

/** One query of `rag query --batch FILE`. */
export interface BatchQuery {
  id: string;
  query: string;
  k?: number;
  mode?: RetrievalMode;
  filter?: string;
  /** 1-based line in the file, for messages. */
  line: number;
}

const MODES = new Set(['bm25', 'vector', 'hybrid']);

/**
 * Reads a batch file: JSONL (`{"id", "query"}` plus optional `k`, `mode`, `filter`) or TSV
 * (`id<TAB>query`). Every line is checked before the first search, so a bad line costs nothing.
 */
export function parseBatchFile(text: string, file: string): BatchQuery[] {
  const out: BatchQuery[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim() || raw.startsWith('#')) return;
    let q: BatchQuery;
    if (raw.trimStart().startsWith('{')) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(raw) as Record<string, unknown>;
      } catch (err) {
        throw new InputError(file, line, `invalid JSON (${(err as Error).message})`, 'one object per line: {"id": "q1", "query": "…"}');
      }
      const text = obj.query ?? obj.text;
      if (typeof text !== 'string' || !text.trim()) throw new InputError(file, line, 'no "query" text', 'give each line a "query" string');
      if (obj.k !== undefined && !(Number.isInteger(obj.k) && (obj.k as number) >= 1 && (obj.k as number) <= 10_000)) throw new InputError(file, line, `"k" must be an integer from 1 to 10000, got ${JSON.stringify(obj.k)}`);
      if (obj.mode !== undefined && !MODES.has(obj.mode as string)) throw new InputError(file, line, `"mode" must be bm25, vector or hybrid, got ${JSON.stringify(obj.mode)}`);
      if (obj.filter !== undefined && typeof obj.filter !== 'string') throw new InputError(file, line, '"filter" must be a string such as "product=billing"');
      q = { id: obj.id === undefined ? `q${line}` : String(obj.id), query: text, k: obj.k as number | undefined, mode: obj.mode as RetrievalMode | undefined, filter: obj.filter as string | undefined, line };
    } else {
      const tab = raw.indexOf('\t');
      if (tab < 0) throw new InputError(file, line, 'neither JSON nor id<TAB>query', 'write JSONL {"id","query"} or TSV id<TAB>query lines');
      const text = raw.slice(tab + 1).trim();
      if (!text) throw new InputError(file, line, 'empty query after the tab');
      q = { id: raw.slice(0, tab).trim() || `q${line}`, query: text, line };
    }
    if (seen.has(q.id)) throw new InputError(file, line, `duplicate id "${q.id}"`, 'give every query its own id');
    seen.add(q.id);
    out.push(q);
  });
  if (out.length === 0) throw new InputError(file, undefined, 'holds no queries', 'one query per line: JSONL {"id","query"} or TSV id<TAB>query');
  return out;
}
