import { readFile, stat } from 'node:fs/promises';
import type { ConnectorKind, ParsedDocument } from '../engine/types.js';
import { UsageError } from '../engine/errors.js';
import { detectKind } from './detect.js';
import { parseMarkdown } from './markdown.js';
import { parseHtml } from './html.js';
import { parsePdf } from './pdf.js';
import { parseText } from './text.js';

export { detectKind, kindForPath, SUPPORTED_EXTENSIONS } from './detect.js';
export { normaliseText, decodeUtf8Strict } from './normalise.js';
export { parseMarkdown } from './markdown.js';
export { parseHtml } from './html.js';
export { parsePdf } from './pdf.js';
export { parseText } from './text.js';
export { parseJsonl, iterateJsonl, recordToDocument, getPath } from './jsonl.js';
export type { JsonlMapping, JsonlOptions, RecordFailure, RecordResult, RecordBatch } from './jsonl.js';
export { parseBeirCorpus, iterateBeirCorpus, beirCorpusFile, beirOrigin } from './beir.js';
export type { BeirOptions, BeirBatch } from './beir.js';

export interface ParseFileOptions {
  /** Skip detection (e.g. the config forces a connector for a glob). */
  kind?: ConnectorKind;
}

/** The docId of a file: its path relative to the ingest root, with forward slashes. */
export function fileDocId(relPath: string): string {
  return relPath.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}

/**
 * Parses a single-document file (Markdown, HTML, PDF, text). JSONL files hold many documents:
 * use parseJsonl for them. Throws InputError naming the file on unreadable or malformed input.
 */
export async function parseFile(absPath: string, relPath: string, opts: ParseFileOptions = {}): Promise<ParsedDocument> {
  const docId = fileDocId(relPath);
  const [bytes, info] = await Promise.all([readFile(absPath), stat(absPath)]);
  const kind = opts.kind ?? detectKind(docId, bytes.subarray(0, 8192));
  let doc: ParsedDocument;
  switch (kind) {
    case 'markdown':
      doc = parseMarkdown(bytes, docId);
      break;
    case 'html':
      doc = parseHtml(bytes, docId);
      break;
    case 'pdf':
      doc = await parsePdf(bytes, docId);
      break;
    case 'text':
      doc = parseText(bytes, docId);
      break;
    case 'jsonl':
    case 'beir':
      throw new UsageError(`${docId}: ${kind} files hold many records; parse them with ${kind === 'jsonl' ? 'parseJsonl' : 'parseBeirCorpus'}`);
    default:
      throw new UsageError(`${docId}: no connector handles this file type`, 'Exclude it, or use a supported extension (.md, .html, .pdf, .txt, .jsonl).');
  }
  doc.mtime = info.mtimeMs;
  return doc;
}
