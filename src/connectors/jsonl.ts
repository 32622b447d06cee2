import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { ParsedDocument } from '../engine/types.js';
import { normaliseText, paragraphBlocks } from './normalise.js';
import { parseAclValue } from '../engine/acl.js';

/** How fields of a JSONL record map onto a document. Field names may be dotted paths. */
export interface JsonlMapping {
  id: string;
  title?: string;
  /** Concatenated, separated by blank lines, in this order. */
  body: string[];
  /** A principal string or a list of them. */
  acl?: string;
  tenant?: string;
  /** Fields kept as metadata; default: every top-level field not mapped above. */
  metadata?: string[];
}

/** One record that could not be turned into a document; the rest of the file still is. */
export interface RecordFailure {
  source: string;
  line: number;
  error: string;
  /** Id of the document whose stored version must be withdrawn: the record's ACL was refused. */
  withdraw?: string;
}

export type RecordResult = { doc: ParsedDocument; failure?: undefined } | { doc?: undefined; failure: RecordFailure };

export interface RecordBatch {
  documents: ParsedDocument[];
  failures: RecordFailure[];
}

export interface JsonlOptions {
  /** Path shown in `source` and failures (relative to the ingest root); default: the path. */
  rel?: string;
}

/** A line of a file, decoded strictly, or why it could not be decoded. */
export interface RawLine {
  lineNo: number;
  text?: string;
  error?: string;
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/**
 * Streams a (optionally gzipped) file line by line as bytes, decoding each line strictly, so
 * a 500k-record corpus is never held in memory twice and one bad line fails only itself.
 */
export async function* readLines(path: string): AsyncGenerator<RawLine> {
  let stream: Readable = createReadStream(path);
  if (path.endsWith('.gz')) stream = stream.pipe(createGunzip());
  let rest: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  const decode = (bytes: Buffer): RawLine => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--; // CRLF files
    try {
      return { lineNo, text: fatal.decode(bytes.subarray(0, end)) };
    } catch {
      return { lineNo, error: 'line is not valid UTF-8' };
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      yield decode(data.subarray(start, nl));
      start = nl + 1;
    }
    rest = data.subarray(start);
  }
  if (rest.length) yield decode(rest);
}

/** Value at a dotted path; an exact key containing dots wins over descending. */
export function getPath(record: unknown, path: string): unknown {
  if (record === null || typeof record !== 'object') return undefined;
  const obj = record as Record<string, unknown>;
  if (path in obj) return obj[path];
  const dot = path.indexOf('.');
  if (dot === -1) return undefined;
  return getPath(obj[path.slice(0, dot)], path.slice(dot + 1));
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join('\n');
  return undefined;
}

/** Parses JSON text of one line; the error names the problem without the whole line. */
export function parseJsonLine(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Turns one JSONL record into a document, or explains why not. */
export function recordToDocument(
  record: unknown,
  mapping: JsonlMapping,
  source: string,
): { doc?: ParsedDocument; error?: string; withdraw?: string } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { error: 'record is not a JSON object' };
  }
  const idValue = getPath(record, mapping.id);
  if ((typeof idValue !== 'string' && typeof idValue !== 'number') || String(idValue) === '') {
    return { error: `missing id field "${mapping.id}" (or it is not a string/number)` };
  }
  const docId = String(idValue);
  const parts: string[] = [];
  let found = 0;
  for (const field of mapping.body) {
    const v = getPath(record, field);
    if (v === undefined || v === null) continue;
    const s = scalarText(v);
    if (s === undefined) return { error: `body field "${field}" is not text` };
    found++;
    if (s.trim()) parts.push(s);
  }
  if (found === 0) return { error: `missing body field${mapping.body.length > 1 ? 's' : ''} ${mapping.body.map((f) => `"${f}"`).join(', ')}` };

  let acl: string[] | undefined;
  if (mapping.acl) {
    const v = getPath(record, mapping.acl);
    // Absent: the config decides. Present but empty or invalid (null included): refused, never defaulted.
    if (v !== undefined) {
      const parsed = parseAclValue(v);
      if ('error' in parsed) return { error: `acl field "${mapping.acl}": ${parsed.error}; ${parsed.fix}`, withdraw: docId };
      acl = parsed.acl;
    }
  }
  let tenant: string | undefined;
  if (mapping.tenant) {
    const v = getPath(record, mapping.tenant);
    if (typeof v === 'string' && v.trim()) tenant = v.trim();
    else if (v !== undefined && v !== null) return { error: `tenant field "${mapping.tenant}" must be a string` };
  }
  const titleValue = mapping.title ? scalarText(getPath(record, mapping.title)) : undefined;

  const metadata: Record<string, unknown> = {};
  if (mapping.metadata) {
    for (const f of mapping.metadata) {
      const v = getPath(record, f);
      if (v !== undefined) metadata[f] = v;
    }
  } else {
    const used = new Set([mapping.id, mapping.title, mapping.acl, mapping.tenant, ...mapping.body]);
    for (const [k, v] of Object.entries(record)) if (!used.has(k)) metadata[k] = v;
  }

  const text = normaliseText(parts.join('\n\n'));
  const doc: ParsedDocument = {
    docId,
    source,
    connector: 'jsonl',
    title: titleValue?.trim() || docId,
    text,
    blocks: paragraphBlocks(text),
    metadata,
  };
  if (acl) doc.acl = acl;
  if (tenant !== undefined) doc.tenant = tenant;
  return { doc };
}

/**
 * Streams documents and per-record failures from a JSONL file (`.gz` is gunzipped). Blank
 * lines are skipped; a repeated id is a failure (the first record wins) because two records
 * with one id would silently overwrite each other in the store.
 *
 * A record is identified by its id field and its `source` is the file, not the line: moving,
 * inserting or deleting other lines changes no record. A record without an id is an input error
 * (reported with its line and skipped) rather than given an id derived from its content, which
 * would turn every edit into a delete and an add and break qrels and citations that name it.
 */
export async function* iterateJsonl(path: string, mapping: JsonlMapping, opts: JsonlOptions = {}): AsyncGenerator<RecordResult> {
  const shown = opts.rel ?? path;
  const seen = new Map<string, number>();
  for await (const line of readLines(path)) {
    const fail = (error: string, withdraw?: string): RecordResult => ({ failure: { source: `${shown}:${line.lineNo}`, line: line.lineNo, error, ...(withdraw ? { withdraw } : {}) } });
    if (line.error !== undefined) {
      yield fail(line.error);
      continue;
    }
    if (!line.text!.trim()) continue;
    const parsed = parseJsonLine(line.text!);
    if (parsed.error !== undefined) {
      yield fail(parsed.error);
      continue;
    }
    // A record's source is its file, not its line: moving lines must not change its hash.
    const { doc, error, withdraw } = recordToDocument(parsed.value, mapping, shown);
    if (!doc) {
      yield fail(error!, withdraw);
      continue;
    }
    const first = seen.get(doc.docId);
    if (first !== undefined) {
      yield fail(`duplicate id "${doc.docId}" (first seen on line ${first})`);
      continue;
    }
    seen.set(doc.docId, line.lineNo);
    yield { doc };
  }
}

/** All documents and failures of a JSONL file, one document per non-blank line. */
export async function parseJsonl(path: string, mapping: JsonlMapping, opts: JsonlOptions = {}): Promise<RecordBatch> {
  const batch: RecordBatch = { documents: [], failures: [] };
  for await (const r of iterateJsonl(path, mapping, opts)) {
    if (r.doc) batch.documents.push(r.doc);
    else batch.failures.push(r.failure);
  }
  return batch;
}
