/**
 * `rag label --import FILE`: merges judgments made elsewhere (a spreadsheet, another tool) into
 * the journal, as if they had been typed, so they count for agreement and the golden rule alike.
 *
 * CSV: a header row naming the columns, any order:
 *   qid, query (needed for a query the golden set does not know yet), doc_id or chunk_id, grade,
 *   and optionally labeler, note, at.
 * JSONL: one object per line, either a judgment {"qid","query"?,"doc_id"|"chunk_id","grade",
 *   "labeler"?,"note"?,"at"?} or a rag golden line {"id","query","judgments":{key: grade}}.
 * Every problem names the file, the line and the fix; nothing is written unless the whole file
 * is valid.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { MAX_GRADE } from '../evaluation/goldens.js';
import { docIdOf, isChunkId } from '../evaluation/qrels.js';
import { isGrade, judgmentKey, verdictOf, type Journal, type LabelEvent } from './journal.js';

export interface ImportOptions {
  /** Labeler for rows that do not name one (--labeler, $RAG_LABELER, $USER); such rows are an error without it. */
  labeler?: string;
  /** qid → query text already known (golden set, journal), for rows without a query column. */
  knownQueries: Map<string, string>;
  indexManifestHash?: string;
  /** Time stamp for rows without `at`. */
  now?: string;
}

interface Row {
  line: number;
  qid?: unknown;
  query?: unknown;
  doc_id?: unknown;
  chunk_id?: unknown;
  grade?: unknown;
  labeler?: unknown;
  note?: unknown;
  at?: unknown;
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, commas and newlines inside quotes. */
export function parseCsv(text: string, file: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let started = false;
  const s = text.replace(/^\uFEFF/, '');
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    started = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (!started) {
      rowLine = line;
      started = true;
    }
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') cells.push(cell), (cell = '');
    else if (ch === '\r' && s[i + 1] === '\n') continue;
    else if (ch === '\n') {
      endRow();
      line++;
    } else cell += ch;
  }
  if (quoted) throw new InputError(file, rowLine, 'a quoted field is never closed', 'close the field with a double quote (write "" for a quote inside it)');
  if (started) endRow();
  return rows;
}

function csvRows(text: string, file: string): Row[] {
  const rows = parseCsv(text, file);
  if (rows.length === 0) throw new InputError(file, undefined, 'no rows', 'the first row names the columns: qid,query,doc_id,grade[,labeler,note]');
  const header = rows[0]!.cells.map((c) => c.trim().toLowerCase());
  const alias: Record<string, keyof Row> = { qid: 'qid', query_id: 'qid', id: 'qid', query: 'query', text: 'query', doc_id: 'doc_id', docid: 'doc_id', chunk_id: 'chunk_id', grade: 'grade', relevance: 'grade', labeler: 'labeler', note: 'note', at: 'at' };
  const cols = header.map((h) => alias[h]);
  if (!cols.includes('qid') || !cols.includes('grade') || !(cols.includes('doc_id') || cols.includes('chunk_id'))) {
    throw new InputError(file, rows[0]!.line, `header "${rows[0]!.cells.join(',')}" lacks qid, grade or doc_id/chunk_id`, 'start the CSV with a header such as qid,query,doc_id,grade,labeler,note');
  }
  return rows.slice(1).map(({ line, cells }) => {
    if (cells.length !== header.length) {
      throw new InputError(file, line, `${cells.length} fields where the header has ${header.length}`, 'quote fields that contain commas ("a, b") and keep one value per column');
    }
    const r: Row = { line };
    cells.forEach((c, i) => {
      const col = cols[i];
      if (col && col !== 'line' && c.trim() !== '') (r as unknown as Record<string, unknown>)[col] = c.trim();
    });
    return r;
  });
}

function jsonlRows(text: string, file: string): Row[] {
  const out: Row[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new InputError(file, line, `invalid JSON: ${(err as Error).message}`, 'one JSON object per line, e.g. {"qid":"q1","doc_id":"docs/a.md","grade":2}');
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new InputError(file, line, 'line is not a JSON object', 'one JSON object per line, e.g. {"qid":"q1","doc_id":"docs/a.md","grade":2}');
    }
    const rec = obj as Record<string, unknown>;
    if ('judgments' in rec) {
      const j = rec.judgments;
      if (j === null || typeof j !== 'object' || Array.isArray(j)) {
        throw new InputError(file, line, '"judgments" must be an object of id → grade', 'write e.g. "judgments": {"docs/a.md": 2}');
      }
      for (const [key, grade] of Object.entries(j as Record<string, unknown>)) {
        out.push({ line, qid: rec.id, query: rec.query, doc_id: key, grade, labeler: rec.labeler, at: rec.at });
      }
      return;
    }
    out.push({ line, qid: rec.qid ?? rec.id, query: rec.query, doc_id: rec.doc_id, chunk_id: rec.chunk_id, grade: rec.grade, labeler: rec.labeler, note: rec.note, at: rec.at });
  });
  return out;
}

/** Parses and validates an import file into grade (and note) events. Throws on the first bad row. */
export function parseImport(file: string, text: string, opts: ImportOptions): LabelEvent[] {
  const isJsonl = file.toLowerCase().endsWith('.jsonl') || file.toLowerCase().endsWith('.json') || text.trimStart().startsWith('{');
  const rows = isJsonl ? jsonlRows(text, file) : csvRows(text, file);
  const queries = new Map(opts.knownQueries);
  const now = opts.now ?? new Date().toISOString();
  const events: LabelEvent[] = [];
  for (const r of rows) {
    const str = (v: unknown) => (typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '');
    const qid = str(r.qid);
    if (!qid) throw new InputError(file, r.line, 'missing qid', 'every row names the query id it judges');
    const key = str(r.doc_id) || str(r.chunk_id);
    if (!key) throw new InputError(file, r.line, `no doc_id or chunk_id for query "${qid}"`, 'give the document id (as `rag query --json` shows it) or the chunk id');
    const grade = typeof r.grade === 'string' && /^\d+$/.test(r.grade.trim()) ? Number(r.grade) : r.grade;
    if (!isGrade(grade)) {
      throw new InputError(file, r.line, `grade ${JSON.stringify(r.grade ?? null)} is not an integer 0–${MAX_GRADE}`, '0 = not relevant, 1 = related, 2 = relevant, 3 = highly relevant');
    }
    const query = str(r.query) || queries.get(qid);
    if (!query) throw new InputError(file, r.line, `query "${qid}" is not in the golden set and the row gives no query text`, 'add a query column (CSV) or "query" field (JSONL)');
    queries.set(qid, query);
    const labeler = str(r.labeler) || opts.labeler;
    if (!labeler) {
      throw new InputError(file, r.line, 'the row names no labeler, and none is set ($USER is empty)', 'add a labeler column (CSV) or "labeler" field (JSONL), or pass --labeler NAME');
    }
    if (/\s/.test(labeler)) throw new InputError(file, r.line, `labeler "${labeler}" contains spaces`, 'use a short name such as alice or a.smith');
    let at = now;
    if (r.at !== undefined) {
      if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at))) throw new InputError(file, r.line, `"at" ${JSON.stringify(r.at)} is not a date`, 'use ISO 8601, e.g. 2024-05-01T10:00:00Z');
      at = new Date(r.at).toISOString();
    }
    const chunk = isChunkId(key);
    const ev: LabelEvent = {
      type: 'grade',
      qid,
      query,
      doc_id: chunk ? docIdOf(key) : key,
      chunk_id: chunk ? key : str(r.chunk_id),
      unit: chunk ? 'chunk' : 'doc',
      grade,
      labeler,
      at,
      index_manifest_hash: opts.indexManifestHash ?? '',
      source: `import:${file}:${r.line}`,
    };
    events.push(ev);
    const note = str(r.note);
    if (note) events.push({ ...ev, type: 'note', grade: undefined, note });
  }
  return events;
}

/**
 * Validates the whole file, then appends the events whose grade differs from the labeler's
 * current one (so importing the same file twice changes nothing).
 */
export function importInto(journal: Journal, file: string, opts: ImportOptions): { added: number; unchanged: number; notes: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, 'cannot read the import file', 'pass an existing CSV or JSONL file to --import');
  }
  const events = parseImport(file, text, opts);
  const state = journal.state();
  const noteKeys = new Set(state.notes.map((n) => `${n.labeler}\u0000${n.qid}\u0000${judgmentKey(n)}\u0000${n.note}`));
  const latest = new Map<string, number | null>();
  let added = 0;
  let unchanged = 0;
  let notes = 0;
  for (const ev of events) {
    if (ev.type === 'note') {
      const k = `${ev.labeler}\u0000${ev.qid}\u0000${judgmentKey(ev)}\u0000${ev.note}`;
      if (noteKeys.has(k)) continue;
      noteKeys.add(k);
      journal.append(ev);
      notes++;
      continue;
    }
    const k = `${ev.labeler}\u0000${ev.qid}\u0000${judgmentKey(ev)}`;
    const current = latest.has(k) ? latest.get(k) : verdictOf(state, ev.labeler, ev.qid, judgmentKey(ev))?.grade;
    if (current === ev.grade) {
      unchanged++;
      continue;
    }
    journal.append(ev);
    latest.set(k, ev.grade!);
    added++;
  }
  return { added, unchanged, notes };
}
