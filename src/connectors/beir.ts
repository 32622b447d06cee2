import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { normaliseText, paragraphBlocks } from './normalise.js';
import { parseJsonLine, readLines, type RecordBatch, type RecordResult } from './jsonl.js';

/** The corpus file of a BEIR dataset directory (plain preferred over gzipped). */
export function beirCorpusFile(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(dir, undefined, 'is not a directory', 'Point it at a BEIR dataset directory containing corpus.jsonl(.gz).');
  }
  for (const name of ['corpus.jsonl', 'corpus.jsonl.gz']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new InputError(dir, undefined, 'has no corpus.jsonl or corpus.jsonl.gz', 'Point it at a BEIR dataset directory (the one with corpus.jsonl, queries.jsonl and qrels/).');
}

export interface BeirOptions {
  /** Sources are shown relative to this directory (when the corpus is under it). */
  cwd?: string;
}

/** A BEIR corpus's documents and failures, plus `origin`: the corpus file as shown in sources. */
export interface BeirBatch extends RecordBatch {
  origin: string;
}

/** How the corpus file appears in `source` fields: relative to cwd when under it, else absolute. */
export function beirOrigin(file: string, cwd?: string): string {
  if (!cwd) return file;
  const rel = relative(cwd, file);
  return (rel.startsWith('..') || isAbsolute(rel) ? file : rel).split(sep).join('/');
}

/** Turns one BEIR corpus record (`_id`, `title`, `text`, optional `metadata`) into a document. */
export function beirRecordToDocument(record: unknown, source: string): { doc?: ParsedDocument; error?: string } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { error: 'record is not a JSON object' };
  const r = record as Record<string, unknown>;
  if ((typeof r._id !== 'string' && typeof r._id !== 'number') || String(r._id) === '') {
    return { error: 'missing "_id" field (or it is not a string/number)' };
  }
  if (typeof r.text !== 'string') return { error: 'missing "text" field (or it is not a string)' };
  if (r.title !== undefined && r.title !== null && typeof r.title !== 'string') return { error: '"title" field is not a string' };
  const docId = String(r._id);
  const title = typeof r.title === 'string' ? r.title.trim() : '';
  // The title is part of the text so BM25 and the embedder see it, as BEIR baselines do.
  const text = normaliseText(title ? `${title}\n\n${r.text}` : r.text);
  const metadata = r.metadata && typeof r.metadata === 'object' && !Array.isArray(r.metadata) ? (r.metadata as Record<string, unknown>) : {};
  return {
    doc: {
      docId,
      source,
      connector: 'beir',
      title: title || docId,
      text,
      blocks: paragraphBlocks(text),
      metadata,
    },
  };
}

/**
 * Streams a BEIR corpus: documents and per-line failures, in file order. `docId` is the `_id`
 * exactly, so BEIR qrels apply unchanged; `source` is the corpus file (no line number: a record
 * is its `_id` and its content, wherever it sits in the file). Repeated ids are failures (first
 * wins); a record without `_id` is an input error, as for JSONL.
 */
export async function* iterateBeirCorpus(dir: string, opts: BeirOptions = {}): AsyncGenerator<RecordResult> {
  const file = beirCorpusFile(dir);
  const shown = beirOrigin(file, opts.cwd);
  const seen = new Set<string>();
  for await (const line of readLines(file)) {
    const fail = (error: string): RecordResult => ({ failure: { source: `${shown}:${line.lineNo}`, line: line.lineNo, error } });
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
    const { doc, error } = beirRecordToDocument(parsed.value, shown);
    if (!doc) {
      yield fail(error!);
      continue;
    }
    if (seen.has(doc.docId)) {
      yield fail(`duplicate _id "${doc.docId}"`);
      continue;
    }
    seen.add(doc.docId);
    yield { doc };
  }
}

/** Every document and failure of a BEIR corpus, collected. */
export async function parseBeirCorpus(dir: string, opts: BeirOptions = {}): Promise<BeirBatch> {
  const batch: BeirBatch = { documents: [], failures: [], origin: beirOrigin(beirCorpusFile(dir), opts.cwd) };
  for await (const r of iterateBeirCorpus(dir, opts)) {
    if (r.doc) batch.documents.push(r.doc);
    else batch.failures.push(r.failure);
  }
  return batch;
}
