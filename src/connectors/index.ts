import { readFile, stat } from 'node:fs/promises';
import type { ConnectorKind, ParsedDocument } from '../engine/types.js';
import { errorMessage, InputError, UsageError } from '../engine/errors.js';
import { detectKind } from './detect.js';
import { parseMarkdown } from './markdown.js';
import { parseHtml } from './html.js';
import { parsePdfDetailed } from './pdf.js';
import { parseText } from './text.js';
import { parseDocx } from './docx.js';
import { parsePptx } from './pptx.js';
import { parseOdp, parseOdt, readOdsSheets } from './odf.js';
import { readCsv, readXlsxSheets, sheetsToDocument, sheetsToRecords, tableRuleFor, type Sheet, type TableRule } from './tables.js';
import { parseMessage, readMbox } from './mail.js';
import { DEFAULT_OCR, type OcrOptions } from './ocr.js';
import type { RecordBatch } from './jsonl.js';

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
export { parseDocx } from './docx.js';
export { parsePptx } from './pptx.js';
export { parseOdt, parseOdp } from './odf.js';
export type { TableRule, Sheet } from './tables.js';
export type { OcrOptions } from './ocr.js';

export interface ParseFileOptions {
  /** Skip detection (e.g. the config forces a connector for a glob). */
  kind?: ConnectorKind;
  /** Row-per-document mappings for spreadsheets (the config's `tables` rules). */
  tables?: readonly TableRule[];
  ocr?: OcrOptions;
}

/** Everything read from one source file: its documents, what failed inside it, notices worth one line each. */
export interface SourceBatch extends RecordBatch {
  notices: string[];
}

/** The docId of a file: its path relative to the ingest root, with forward slashes. */
export function fileDocId(relPath: string): string {
  return relPath.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}

/**
 * Parses a single-document file (Markdown, HTML, PDF, text, Office, a spreadsheet as a whole).
 * Mail and JSONL files hold many documents: use parseSource (or parseJsonl) for them. Throws
 * InputError naming the file on unreadable or malformed input.
 */
export async function parseFile(absPath: string, relPath: string, opts: ParseFileOptions = {}): Promise<ParsedDocument> {
  const docId = fileDocId(relPath);
  const [bytes, info] = await Promise.all([readFile(absPath), stat(absPath)]);
  const kind = opts.kind ?? detectKind(docId, bytes.subarray(0, 8192));
  if (kind === 'eml' || kind === 'mbox') {
    throw new UsageError(`${docId}: ${kind} files hold messages and attachments; parse them with parseSource`);
  }
  const doc = (await parseOne(bytes, docId, kind, opts)).doc;
  doc.mtime = info.mtimeMs;
  return doc;
}

/** One document from bytes, by kind, with what could not be read of it (OCR). */
async function parseOne(bytes: Uint8Array, docId: string, kind: ConnectorKind | null, opts: ParseFileOptions): Promise<{ doc: ParsedDocument; failures: RecordBatch['failures']; notices: string[] }> {
  const ok = (doc: ParsedDocument) => ({ doc, failures: [], notices: [] });
  switch (kind) {
    case 'markdown':
      return ok(parseMarkdown(bytes, docId));
    case 'html':
      return ok(parseHtml(bytes, docId));
    case 'pdf': {
      const r = await parsePdfDetailed(bytes, docId, opts.ocr ?? DEFAULT_OCR);
      return { doc: r.doc, notices: r.notices, failures: r.failures.map((f) => ({ source: docId, line: 0, error: `page ${f.page} ${f.error}` })) };
    }
    case 'text':
      return ok(parseText(bytes, docId));
    case 'docx':
      return ok(await parseDocx(bytes, docId));
    case 'pptx':
      return ok(await parsePptx(bytes, docId));
    case 'odt':
      return ok(await parseOdt(bytes, docId));
    case 'odp':
      return ok(await parseOdp(bytes, docId));
    case 'xlsx':
    case 'ods':
    case 'csv': {
      const { sheets, info } = await readSheets(bytes, docId, kind);
      return ok(sheetsToDocument(sheets, docId, kind, info));
    }
    case 'jsonl':
    case 'beir':
      throw new UsageError(`${docId}: ${kind} files hold many records; parse them with ${kind === 'jsonl' ? 'parseJsonl' : 'parseBeirCorpus'}`);
    default:
      throw new UsageError(`${docId}: no connector handles this file type`, 'Exclude it, or use a supported extension (.md, .html, .pdf, .txt, .docx, .pptx, .xlsx, .odt, .odp, .ods, .csv, .eml, .mbox, .jsonl).');
  }
}

/** A spreadsheet's sheets; a ragged CSV fails as a whole here (record mode reports it row by row). */
async function readSheets(bytes: Uint8Array, docId: string, kind: 'xlsx' | 'ods' | 'csv'): Promise<{ sheets: Sheet[]; info: { title?: string; author?: string } }> {
  if (kind === 'xlsx') {
    const { sheets, ...info } = await readXlsxSheets(bytes, docId);
    return { sheets, info };
  }
  if (kind === 'ods') {
    const { sheets, ...info } = await readOdsSheets(bytes, docId);
    return { sheets, info };
  }
  const { sheet, ragged } = await readCsv(bytes, docId);
  if (ragged.length) {
    const more = ragged.length > 1 ? ` (and ${ragged.length - 1} more row${ragged.length > 2 ? 's' : ''})` : '';
    throw new InputError(docId, ragged[0]!.line, `${ragged[0]!.error}${more}`, 'Quote fields that contain the delimiter, or fix the rows so every one has as many fields as the header.');
  }
  return { sheets: [sheet], info: {} };
}

/**
 * Whether a file yields more (or other) documents than the one whose id is its path: mail
 * (messages and attachments) and spreadsheets under a `tables` rule (a document per row). Such
 * files are always parsed: the unchanged-file shortcut knows only the file's own document.
 */
export function isMultiDocument(relPath: string, opts: ParseFileOptions = {}): boolean {
  const docId = fileDocId(relPath);
  const ext = docId.slice(docId.lastIndexOf('.')).toLowerCase();
  if (ext === '.eml' || ext === '.mbox') return true;
  return ['.csv', '.tsv', '.xlsx', '.ods'].includes(ext) && tableRuleFor(docId, opts.tables) !== undefined;
}

/**
 * Every document of one source file, and what failed inside it without failing the rest: an
 * mbox message that does not parse, a mail attachment, a spreadsheet row, a PDF page OCR could
 * not read. A file that cannot be read at all throws InputError.
 */
export async function parseSource(absPath: string, relPath: string, opts: ParseFileOptions = {}): Promise<SourceBatch> {
  const docId = fileDocId(relPath);
  const info = await stat(absPath);
  const out: SourceBatch = { documents: [], failures: [], notices: [] };
  const add = (b: RecordBatch & { notices?: string[] }) => {
    out.documents.push(...b.documents);
    out.failures.push(...b.failures);
    for (const n of b.notices ?? []) if (!out.notices.includes(n)) out.notices.push(n);
  };
  const ext = docId.slice(docId.lastIndexOf('.')).toLowerCase();
  if (ext === '.mbox') {
    const seen = new Map<string, number>();
    for await (const msg of readMbox(absPath)) {
      if (!msg.bytes.toString('latin1').trim()) continue;
      const source = `${docId}:${msg.line}`;
      try {
        const head = msg.bytes.subarray(0, 65536).toString('latin1').split(/\r?\n\r?\n/, 1)[0]!;
        const id = /^message-id:[ \t]*<?([^>\r\n]+)>?/im.exec(head)?.[1]?.trim();
        const msgId = id ? `${docId}#${id}` : `${docId}#line-${msg.line}`;
        const first = seen.get(msgId);
        if (first !== undefined) {
          out.failures.push({ source, line: msg.line, error: `duplicate Message-ID "${id}" (first at line ${first}); skipped` });
          continue;
        }
        seen.set(msgId, msg.line);
        add(await parseMessage(msg.bytes, { docId: msgId, source, connector: 'mbox', parseAttachment: attachmentParser(opts, out) }));
      } catch (err) {
        out.failures.push({ source, line: msg.line, error: errorMessage(err).replace(`${source}: `, '') });
      }
    }
  } else {
    const bytes = await readFile(absPath);
    const kind = opts.kind ?? detectKind(docId, bytes.subarray(0, 8192));
    const rule = kind === 'csv' || kind === 'xlsx' || kind === 'ods' ? tableRuleFor(docId, opts.tables) : undefined;
    if (kind === 'eml') {
      add(await parseMessage(bytes, { docId, source: docId, connector: 'eml', parseAttachment: attachmentParser(opts, out) }));
    } else if (rule && kind === 'csv') {
      const { sheet, ragged } = await readCsv(bytes, docId);
      out.failures.push(...ragged.map((r) => ({ source: `${docId}:${r.line}`, line: r.line, error: r.error })));
      add(sheetsToRecords([sheet], docId, kind, rule));
    } else if (rule && (kind === 'xlsx' || kind === 'ods')) {
      add(sheetsToRecords((await readSheets(bytes, docId, kind)).sheets, docId, kind, rule));
    } else {
      const r = await parseOne(bytes, docId, kind, opts);
      add({ documents: [r.doc], failures: r.failures, notices: r.notices });
    }
  }
  for (const d of out.documents) d.mtime ??= info.mtimeMs;
  return out;
}

/** Attachments are parsed by their file name's connector; mail inside mail and record files are not followed. */
function attachmentParser(opts: ParseFileOptions, out: SourceBatch) {
  return async (bytes: Uint8Array, id: string, filename: string): Promise<ParsedDocument | null> => {
    let kind: ConnectorKind | null;
    try {
      kind = detectKind(filename, bytes.subarray(0, 8192));
    } catch {
      return null;
    }
    if (!kind || kind === 'eml' || kind === 'mbox' || kind === 'jsonl' || kind === 'beir') return null;
    const r = await parseOne(bytes, id, kind, opts);
    out.failures.push(...r.failures);
    for (const n of r.notices) if (!out.notices.includes(n)) out.notices.push(n);
    // The sender wrote the attachment: its own front matter must not choose who reads it or which
    // tenant holds it. The mailbox's ACL and tenant (config rules) apply, as to the message.
    delete r.doc.acl;
    delete r.doc.tenant;
    return r.doc;
  };
}
