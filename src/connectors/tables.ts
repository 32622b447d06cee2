import picomatch from 'picomatch';
import type { ConnectorKind, ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { parseAclCell } from '../engine/acl.js';
import { baseTitle, decodeUtf8Strict, normaliseText, paragraphBlocks } from './normalise.js';
import { assemble, tidyLine, type Piece } from './pieces.js';
import { openPackage } from './zip.js';
import type { RecordBatch } from './jsonl.js';

/** One sheet of a workbook (a CSV file is one unnamed sheet): non-empty rows of display strings. */
export interface Sheet {
  name: string;
  /** `row` is the spreadsheet row number (1-based, header included); `line` the CSV line. */
  rows: { row: number; line?: number; cells: string[] }[];
}

/**
 * How rows of matching spreadsheets become documents of their own, like JSONL records: one
 * document per data row, columns (by header text) mapped to id, title, ACL, tenant and metadata.
 * Files no rule matches are one document each, a chunk per group of rows.
 */
export interface TableRule {
  /** Glob of files (as their document ids: paths relative to the working directory). */
  match: string;
  /** Column holding the document id; default `<file>#<sheet>:<row>`. */
  id?: string;
  title?: string;
  /** Columns rendered as the text, "Header: value" per line; default every column but acl/tenant. */
  body?: string[];
  /** Column holding principals, separated by commas, semicolons or spaces. */
  acl?: string;
  tenant?: string;
  metadata?: string[];
}

export function tableRuleFor(relPath: string, rules: readonly TableRule[] | undefined): TableRule | undefined {
  return rules?.find((r) => picomatch(r.match, { dot: true })(relPath));
}

// ---------------------------------------------------------------------------------------------
// Readers

/**
 * A CSV (or TSV) file as one sheet. The delimiter is the most frequent of , ; and tab on the first
 * line (Excel writes ; in many locales). A row with more or fewer fields than the header is
 * reported: it usually means an unquoted delimiter, and guessing would shift values into the
 * wrong columns.
 */
export async function readCsv(bytes: Uint8Array, relPath: string): Promise<{ sheet: Sheet; ragged: { line: number; error: string }[] }> {
  const source = decodeUtf8Strict(bytes, relPath);
  const { parse } = await import('csv-parse/sync');
  const firstLine = source.slice(0, source.indexOf('\n') === -1 ? undefined : source.indexOf('\n'));
  const delimiter = relPath.toLowerCase().endsWith('.tsv')
    ? '\t'
    : [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(source, { delimiter, relax_column_count: true, skip_empty_lines: true, info: true, bom: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    throw new InputError(relPath, e.lines, `is not valid CSV (${String(e.message ?? err).split('\n')[0]!.replace(/^Invalid \w+: /, '')})`, 'Fix the quoting on that line (a field containing the delimiter or a quote must be quoted, quotes doubled).');
  }
  const rows: Sheet['rows'] = [];
  const ragged: { line: number; error: string }[] = [];
  const width = records[0]?.record.length ?? 0;
  records.forEach(({ record, info }, i) => {
    const cells = record.map((c) => c.trim());
    if (cells.every((c) => c === '')) return;
    if (i > 0 && cells.length !== width) {
      ragged.push({ line: info.lines, error: `row has ${cells.length} fields but the header has ${width}` });
      return;
    }
    rows.push({ row: i + 1, line: info.lines, cells });
  });
  return { sheet: { name: '', rows }, ragged };
}

type ExcelJs = typeof import('exceljs');
let exceljsPromise: Promise<ExcelJs> | undefined;
/** Loaded on first use: exceljs is large and only spreadsheets need it. */
function exceljs(): Promise<ExcelJs> {
  exceljsPromise ??= import('exceljs').then((m) => (m as unknown as { default?: ExcelJs }).default ?? m);
  return exceljsPromise;
}

/** The sheets of an Excel workbook (.xlsx) as rows of display strings. */
export async function readXlsxSheets(bytes: Uint8Array, relPath: string): Promise<{ sheets: Sheet[]; title?: string; author?: string }> {
  await openPackage(bytes, relPath, 'XLSX'); // encrypted / truncated files get their own message
  const { Workbook } = await exceljs();
  const wb = new Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InputError(relPath, undefined, `is not a readable XLSX file (${detail})`, 'Re-save it with Excel or LibreOffice.');
  }
  const sheets: Sheet[] = [];
  wb.eachSheet((ws) => {
    const rows: Sheet['rows'] = [];
    ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const values = row.values as unknown[];
      const cells: string[] = [];
      for (let c = 1; c < values.length; c++) cells.push(cellText(values[c]));
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      if (cells.length) rows.push({ row: rowNumber, cells });
    });
    sheets.push({ name: ws.name, rows });
  });
  return { sheets, title: wb.title || undefined, author: wb.creator || undefined };
}

/** What a person sees in a cell: formula results, rich text joined, dates as ISO dates. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace(/\.000Z$/, 'Z');
  }
  if (typeof v === 'object') {
    const o = v as { result?: unknown; richText?: { text: string }[]; text?: unknown; error?: string; formula?: string; sharedFormula?: string };
    if (o.richText) return tidyLine(o.richText.map((r) => r.text).join(''));
    if ('result' in o || o.formula !== undefined || o.sharedFormula !== undefined) return cellText(o.result);
    if (o.text !== undefined) return cellText(o.text);
    if (o.error) return o.error;
    return '';
  }
  return tidyLine(String(v));
}

// ---------------------------------------------------------------------------------------------
// Sheets → documents

/** Rows per chunk are capped by characters: about one chunk's worth of text (~250 tokens). */
const GROUP_CHARS = 1000;
const GROUP_ROWS = 50;

/**
 * A whole workbook (or CSV) as one document: per sheet, the first row is the header and the data
 * rows are grouped; each group is an atomic table block that starts with the header line, so
 * every chunk reads on its own. The heading path names the sheet and the rows (no heading block
 * for the sheet: it would be merged into the first group's chunk and push the header line down).
 */
export function sheetsToDocument(
  sheets: Sheet[],
  relPath: string,
  connector: ConnectorKind,
  info: { title?: string; author?: string } = {},
): ParsedDocument {
  const pieces: Piece[] = [];
  const named = sheets.filter((s) => s.rows.length > 0);
  for (const sheet of named) {
    const base = sheet.name ? [sheet.name] : [];
    const [header, ...data] = sheet.rows;
    const headerLine = rowLine(header!.cells);
    if (data.length === 0) pieces.push({ text: headerLine, kind: 'table', headingPath: base, atomic: true });
    let group: typeof data = [];
    let chars = headerLine.length;
    const flush = () => {
      if (!group.length) return;
      const first = group[0]!.row;
      const last = group[group.length - 1]!.row;
      const label = first === last ? `row ${first}` : `rows ${first}–${last}`;
      pieces.push({ text: [headerLine, ...group.map((r) => rowLine(r.cells))].join('\n'), kind: 'table', headingPath: [...base, label], atomic: true });
      group = [];
      chars = headerLine.length;
    };
    for (const r of data) {
      const len = rowLine(r.cells).length + 1;
      if (group.length && (chars + len > GROUP_CHARS || group.length >= GROUP_ROWS)) flush();
      group.push(r);
      chars += len;
    }
    flush();
  }
  const { text, blocks } = assemble(pieces);
  const metadata: Record<string, unknown> = {};
  if (sheets.some((s) => s.name)) metadata.sheets = sheets.map((s) => s.name);
  if (info.author) metadata.author = info.author;
  return { docId: relPath, source: relPath, connector, title: info.title ?? baseTitle(relPath), text, blocks, metadata };
}

function rowLine(cells: string[]): string {
  return cells.map((c) => c.replace(/\s*\n\s*/g, ' ')).join(' | ');
}

/**
 * One document per data row, mapped by a TableRule. A mapped column missing from a sheet's header
 * fails the file (the mapping is wrong for it); a bad row (empty or repeated id, invalid
 * principal) fails only itself, like a bad JSONL line.
 */
export function sheetsToRecords(sheets: Sheet[], relPath: string, connector: ConnectorKind, rule: TableRule): RecordBatch {
  const batch: RecordBatch = { documents: [], failures: [] };
  const seen = new Map<string, string>();
  for (const sheet of sheets) {
    if (sheet.rows.length === 0) continue;
    const [header, ...data] = sheet.rows;
    const columns = header!.cells;
    const where = sheet.name ? `sheet "${sheet.name}"` : 'the header row';
    const col = (name: string | undefined, role: string): number | undefined => {
      if (name === undefined) return undefined;
      let i = columns.indexOf(name);
      if (i === -1) i = columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
      if (i === -1) {
        throw new InputError(relPath, undefined, `column "${name}" (the tables rule's ${role} for "${rule.match}") is not in ${where}: it has ${columns.map((c) => `"${c}"`).join(', ')}`, 'Fix the column name in the "tables" rule of rag.config.json.');
      }
      return i;
    };
    const idCol = col(rule.id, 'id');
    const titleCol = col(rule.title, 'title');
    const aclCol = col(rule.acl, 'acl');
    const tenantCol = col(rule.tenant, 'tenant');
    const bodyCols = rule.body ? rule.body.map((b) => col(b, 'body')!) : columns.map((_, i) => i).filter((i) => i !== aclCol && i !== tenantCol);
    const metaCols = (rule.metadata ?? []).map((m) => [m, col(m, 'metadata')!] as const);
    for (const r of data) {
      const at = r.line ?? r.row;
      const source = `${relPath}:${at}`;
      const place = sheet.name ? `sheet "${sheet.name}" row ${r.row}` : `row ${r.row}`;
      // A refused ACL or tenant also withdraws the stored copy: an edit that broke it must not leave the old, wider one readable.
      const fail = (error: string, withdraw?: string) =>
        batch.failures.push({ source, line: at, error: sheet.name ? `${place}: ${error}` : error, ...(withdraw ? { withdraw } : {}) });
      const cell = (i: number | undefined) => (i === undefined ? '' : (r.cells[i] ?? '').trim());
      const docId = idCol !== undefined ? cell(idCol) : `${relPath}#${sheet.name ? `${sheet.name}:` : ''}${r.row}`;
      if (!docId) {
        fail(`empty id column "${rule.id}"`);
        continue;
      }
      const first = seen.get(docId);
      if (first) {
        fail(`duplicate id "${docId}" (first seen at ${first})`);
        continue;
      }
      let acl: string[] | undefined;
      if (aclCol !== undefined) {
        // A mapped ACL cell is the row's whole ACL: blank or invalid refuses the row (acl.ts policy).
        const parsed = parseAclCell(cell(aclCol));
        if ('error' in parsed) {
          fail(`acl column "${rule.acl}" ${parsed.error}; ${parsed.fix}`, docId);
          continue;
        }
        acl = parsed.acl;
      }
      seen.set(docId, place);
      const text = normaliseText(bodyCols.map((i) => (cell(i) ? `${columns[i]}: ${cell(i)}` : '')).filter(Boolean).join('\n'));
      const metadata: Record<string, unknown> = { row: r.row };
      if (sheet.name) metadata.sheet = sheet.name;
      for (const [name, i] of metaCols) if (cell(i)) metadata[name] = cell(i);
      const blocks = paragraphBlocks(text).map((b) => ({ ...b, headingPath: sheet.name ? [sheet.name] : [] }));
      const doc: ParsedDocument = { docId, source, connector, title: cell(titleCol) || docId, text, blocks, metadata };
      if (acl) doc.acl = acl;
      const tenant = cell(tenantCol);
      if (tenantCol !== undefined && !tenant) {
        // Blank would mean the default tenant: a row meant for one tenant must not move to another.
        fail(`tenant column "${rule.tenant}" is empty; fill it in, or remove the tenant mapping to use the configured tenant`, docId);
        seen.delete(docId);
        continue;
      }
      if (tenant) doc.tenant = tenant;
      batch.documents.push(doc);
    }
  }
  return batch;
}
