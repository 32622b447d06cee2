/**
 * Golden sets: the queries and graded judgments `rag eval` measures against.
 *
 * rag's own format is JSONL, one query per line (documented for users in goldens/README.md):
 *
 *   {"id": "q1", "query": "how do I rotate an API key",
 *    "as": ["user:alice", "group:support"],        // optional: principals the query runs as
 *    "tenant": "acme",                             // optional
 *    "judgments": {"docs/api-keys.md": 3, "docs/sso.md#0:abcd": 1},
 *    "notes": "free text"}                         // optional
 *
 * Grades are integers 0–3 (0 = judged not relevant, 1 = partially, 2 = relevant, 3 = perfect).
 * Judgment keys are document ids, or chunk ids (they contain '#'). A query without judgments is
 * kept (e.g. waiting for `rag label`) but cannot be scored until it has some.
 *
 * Also accepted: a BEIR directory (`queries.jsonl` with `_id`/`text`, `qrels/<split>.tsv`), and a
 * queries file (JSONL or `qid<TAB>text`) plus a TREC or BEIR qrels file.
 *
 * The hash covers content only (queries, principals, tenants, judgments) in a canonical order,
 * so reformatting or reordering a file does not change it; editing a grade does.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { validatePrincipal } from '../acl.js';
import { InputError, UsageError } from '../errors.js';
import { stableHash } from '../hash.js';
import { compareBytes, qrelsToObject, type Qrels } from './qrels.js';
import { parseBeirQrels, readQrels } from './trec.js';

export interface GoldenQuery {
  id: string;
  text: string;
  /** Principals the query runs as (`--as`); undefined → the eval's default caller. */
  principals?: string[];
  tenant?: string;
}

export interface GoldenSet {
  queries: GoldenQuery[];
  qrels: Qrels;
  /** sha256 of the canonical content. */
  hash: string;
  /** Human description of where it came from, e.g. `jsonl:goldens/support.jsonl`. */
  source: string;
  /** Things worth telling the user that do not stop the load (skipped topics, unknown keys). */
  warnings: string[];
}

export interface LoadGoldenOptions {
  /** Qrels file (TREC `qid iter docid rel` or BEIR TSV); `path` is then the queries file. */
  qrels?: string;
  /** BEIR split: reads `qrels/<split>.tsv`. Default `test`. */
  split?: string;
}

export const MAX_GRADE = 3;

const KNOWN_KEYS = new Set(['id', 'query', 'as', 'tenant', 'judgments', 'notes']);

export async function loadGoldenSet(path: string, opts: LoadGoldenOptions = {}): Promise<GoldenSet> {
  if (opts.qrels) return loadQueriesAndQrels(path, opts.qrels);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputError(path, undefined, 'golden set not found', 'give a rag JSONL file, a BEIR directory, or a queries file with --qrels');
  if (info.isDirectory()) return loadBeirDir(path, opts.split ?? 'test');
  return parseGoldenJsonl(await readFile(path, 'utf8'), path);
}

/** Parse rag's JSONL golden format; every problem names the file, the line and the fix. */
export function parseGoldenJsonl(text: string, file = '<goldens>'): GoldenSet {
  const queries: GoldenQuery[] = [];
  const qrels: Qrels = new Map();
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  rows.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new InputError(file, line, `invalid JSON: ${(err as Error).message}`,
        'each line must be one complete JSON object, e.g. {"id":"q1","query":"…","judgments":{"doc.md":2}}');
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new InputError(file, line, 'line is not a JSON object', 'write one {"id": …, "query": …, "judgments": {…}} object per line');
    }
    const rec = obj as Record<string, unknown>;
    if ('_id' in rec && !('id' in rec) && 'text' in rec) {
      throw new InputError(file, line, 'this looks like a BEIR queries.jsonl line (`_id`, `text`), not a rag golden set',
        'pass the BEIR directory instead, or this file together with --qrels FILE');
    }
    const id = readId(rec.id, file, line);
    const prev = seen.get(id);
    if (prev !== undefined) {
      throw new InputError(file, line, `duplicate query id "${id}" (first on line ${prev})`, 'give every query a unique id');
    }
    seen.set(id, line);
    if (typeof rec.query !== 'string' || rec.query.trim() === '') {
      throw new InputError(file, line, `query "${id}" has no "query" text`, 'add "query": "the question as a user would type it"');
    }
    const q: GoldenQuery = { id, text: rec.query };
    if (rec.as !== undefined) q.principals = readPrincipals(rec.as, file, line);
    if (rec.tenant !== undefined) {
      if (typeof rec.tenant !== 'string' || rec.tenant === '') {
        throw new InputError(file, line, '"tenant" must be a non-empty string', 'write e.g. "tenant": "acme", or leave it out');
      }
      q.tenant = rec.tenant;
    }
    if (rec.notes !== undefined && typeof rec.notes !== 'string') {
      throw new InputError(file, line, '"notes" must be a string', 'write notes as one string, or leave it out');
    }
    const judged = readJudgments(rec.judgments, file, line);
    if (judged.size > 0) qrels.set(id, judged);
    else warnings.push(`${file}:${line}: query "${id}" has no judgments and will not be scored`);
    for (const key of Object.keys(rec)) {
      if (!KNOWN_KEYS.has(key)) warnings.push(`${file}:${line}: unknown key "${key}" ignored (known: ${[...KNOWN_KEYS].join(', ')})`);
    }
    queries.push(q);
  });
  if (queries.length === 0) throw new InputError(file, undefined, 'golden set is empty', 'add one JSON object per query, one per line');
  return finish(queries, qrels, `jsonl:${file}`, warnings);
}

function readId(value: unknown, file: string, line: number): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  throw new InputError(file, line, value === undefined ? 'missing "id"' : '"id" must be a non-empty string',
    'add a unique "id", e.g. "id": "q1"');
}

function readPrincipals(value: unknown, file: string, line: number): string[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    throw new InputError(file, line, '"as" must be a list of principals', 'write e.g. "as": ["user:alice", "group:support"]');
  }
  for (const p of value as string[]) {
    try {
      validatePrincipal(p);
    } catch (err) {
      throw new InputError(file, line, (err as Error).message, err instanceof UsageError ? err.fix : undefined);
    }
  }
  return [...(value as string[])];
}

function readJudgments(value: unknown, file: string, line: number): Map<string, number> {
  const judged = new Map<string, number>();
  if (value === undefined) return judged;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(file, line, '"judgments" must be an object mapping doc or chunk ids to grades',
      'write e.g. "judgments": {"docs/api-keys.md": 3, "docs/sso.md": 0}');
  }
  for (const [key, grade] of Object.entries(value as Record<string, unknown>)) {
    if (key.trim() === '') throw new InputError(file, line, 'a judgment has an empty doc id', 'use the doc id or chunk id as the key');
    if (typeof grade !== 'number' || !Number.isInteger(grade) || grade < 0 || grade > MAX_GRADE) {
      throw new InputError(file, line, `grade for "${key}" is ${JSON.stringify(grade)}, not an integer 0–${MAX_GRADE}`,
        'grade 0 = not relevant, 1 = partially, 2 = relevant, 3 = perfect answer');
    }
    judged.set(key, grade);
  }
  return judged;
}

async function loadBeirDir(dir: string, split: string): Promise<GoldenSet> {
  const queriesFile = join(dir, 'queries.jsonl');
  const qrelsFile = join(dir, 'qrels', `${split}.tsv`);
  const [queriesText, qrelsText] = await Promise.all([
    readFile(queriesFile, 'utf8').catch(() => {
      throw new InputError(queriesFile, undefined, 'not found: a BEIR directory needs queries.jsonl', 'point at the dataset folder that holds queries.jsonl and qrels/');
    }),
    readFile(qrelsFile, 'utf8').catch(() => {
      throw new InputError(qrelsFile, undefined, `not found: no qrels for split "${split}"`, 'pick an existing split with --split (the file name under qrels/ without .tsv)');
    }),
  ]);
  const all = parseQueriesFile(queriesText, queriesFile);
  return joinQueriesAndQrels(all, parseBeirQrels(qrelsText, qrelsFile), `beir:${dir} (split ${split})`);
}

async function loadQueriesAndQrels(queriesFile: string, qrelsFile: string): Promise<GoldenSet> {
  const text = await readFile(queriesFile, 'utf8').catch(() => {
    throw new InputError(queriesFile, undefined, 'queries file not found', 'give a JSONL ({"_id","text"}) or TSV (qid<TAB>text) queries file');
  });
  const all = parseQueriesFile(text, queriesFile);
  return joinQueriesAndQrels(all, await readQrels(qrelsFile), `qrels:${qrelsFile} + queries:${queriesFile}`);
}

/** Queries as JSONL (`_id`/`text`, or `id`/`query`) or TSV (`qid<TAB>text`), detected from the first line. */
export function parseQueriesFile(text: string, file: string): GoldenQuery[] {
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = rows.find((r) => r.trim() !== '') ?? '';
  const jsonl = firstLine.trimStart().startsWith('{');
  const out: GoldenQuery[] = [];
  const seen = new Set<string>();
  rows.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let id: string;
    let qtext: unknown;
    if (jsonl) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(raw) as Record<string, unknown>;
      } catch (err) {
        throw new InputError(file, i + 1, `invalid JSON: ${(err as Error).message}`, 'each line must be one JSON object like {"_id": "q1", "text": "…"}');
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
        throw new InputError(file, i + 1, 'line is not a JSON object', 'write one {"_id": "q1", "text": "…"} object per line');
      }
      id = readId(rec._id ?? rec.id ?? rec.qid, file, i + 1);
      qtext = rec.text ?? rec.query;
    } else {
      const tab = raw.indexOf('\t');
      if (tab < 0) throw new InputError(file, i + 1, 'expected "qid<TAB>query text"', 'separate the query id from the text with one tab');
      id = raw.slice(0, tab).trim();
      qtext = raw.slice(tab + 1).trim();
    }
    if (typeof qtext !== 'string' || qtext.trim() === '') {
      throw new InputError(file, i + 1, `query "${id}" has no text`, jsonl ? 'add "text": "…"' : 'put the query text after the tab');
    }
    if (seen.has(id)) throw new InputError(file, i + 1, `duplicate query id "${id}"`, 'give every query a unique id');
    seen.add(id);
    out.push({ id, text: qtext });
  });
  return out;
}

/** Keep the queries that have judgments; drop (and report) judgments whose query has no text. */
function joinQueriesAndQrels(all: GoldenQuery[], qrels: Qrels, source: string): GoldenSet {
  const warnings: string[] = [];
  const queries = all.filter((q) => qrels.has(q.id));
  const known = new Set(all.map((q) => q.id));
  const orphans = [...qrels.keys()].filter((qid) => !known.has(qid));
  for (const qid of orphans) qrels.delete(qid);
  if (orphans.length) warnings.push(`${orphans.length} judged topic(s) have no query text and were skipped: ${orphans.slice(0, 5).join(', ')}${orphans.length > 5 ? ', …' : ''}`);
  if (queries.length === 0) {
    throw new InputError(source, undefined, 'no query has judgments', 'check that the query ids in the qrels match the queries file');
  }
  return finish(queries, qrels, source, warnings);
}

function finish(queries: GoldenQuery[], qrels: Qrels, source: string, warnings: string[]): GoldenSet {
  return { queries, qrels, hash: goldenHash(queries, qrels), source, warnings };
}

/** Content hash: independent of file format, key order, whitespace and line order. */
export function goldenHash(queries: readonly GoldenQuery[], qrels: Qrels): string {
  const canonicalQueries = [...queries]
    .sort((a, b) => compareBytes(a.id, b.id))
    .map((q) => ({
      id: q.id,
      text: q.text,
      principals: q.principals ? [...new Set(q.principals)].sort(compareBytes) : undefined,
      tenant: q.tenant,
    }));
  return stableHash({ queries: canonicalQueries, qrels: qrelsToObject(qrels) });
}

/** Serialise to rag's JSONL format (e.g. after `rag label` added grades). Judgment keys sorted. */
export function formatGoldenJsonl(queries: readonly GoldenQuery[], qrels: Qrels, notes: Record<string, string> = {}): string {
  return queries
    .map((q) => {
      const judged = qrels.get(q.id) ?? new Map<string, number>();
      const judgments: Record<string, number> = {};
      for (const key of [...judged.keys()].sort(compareBytes)) judgments[key] = judged.get(key)!;
      const rec: Record<string, unknown> = { id: q.id, query: q.text };
      if (q.principals) rec.as = q.principals;
      if (q.tenant) rec.tenant = q.tenant;
      rec.judgments = judgments;
      if (notes[q.id]) rec.notes = notes[q.id];
      return JSON.stringify(rec);
    })
    .join('\n') + (queries.length ? '\n' : '');
}
