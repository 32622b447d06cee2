import type { ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { baseTitle } from './normalise.js';
import { assemble, tidyLine, type Piece } from './pieces.js';
import { elements, findAll, findFirst, openPackage, packageMetadata, type OfficePackage, type XmlElement } from './zip.js';
import type { Sheet } from './tables.js';

/** OpenDocument packages keep their content in content.xml; the mimetype part says which kind. */
async function openOdf(bytes: Uint8Array, relPath: string, format: string, mimetype: string): Promise<{ pkg: OfficePackage; body: XmlElement }> {
  const pkg = await openPackage(bytes, relPath, format);
  const declared = (await pkg.text('mimetype'))?.trim();
  if (declared && declared !== mimetype && !declared.startsWith(`${mimetype}-`)) {
    throw new InputError(relPath, undefined, `has a .${format.toLowerCase()} extension but is ${declared}`, 'Rename it to its real type or exclude it.');
  }
  const content = await pkg.xml('content.xml');
  const body = content ? findFirst(content, 'body') : undefined;
  if (!body) throw new InputError(relPath, undefined, `is not a readable ${format} file (no content.xml body)`, 'Re-save it with LibreOffice.');
  return { pkg, body };
}

/** Inline text of an ODF paragraph: spans and links flattened, text:s/tab/line-break expanded, notes and comments left out. */
function inline(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') s += c;
    else if (c.name === 's') s += ' '.repeat(Math.max(1, Number(c.attrs.c ?? 1) || 1));
    else if (c.name === 'tab') s += '\t';
    else if (c.name === 'line-break') s += '\n';
    else if (c.name === 'note' || c.name === 'annotation' || c.name === 'bookmark-ref') continue;
    else s += inline(c);
  }
  return s;
}

const line = (s: string) => s.split('\n').map(tidyLine).join('\n').trim();

/** A table:table as " | "-separated lines, one per row. */
function tableText(table: XmlElement): string {
  return findAll(table, 'table-row')
    .map((row) => elements(row).filter((c) => c.name === 'table-cell').map((cell) => tidyLine(findAll(cell, 'p').map(inline).join(' '))).join(' | '))
    .filter((r) => r.replace(/[ |]/g, ''))
    .join('\n');
}

/**
 * OpenDocument text (.odt): headings (text:h and its outline level) become heading paths, list
 * items and paragraphs become blocks, tables stay atomic; a table of contents is skipped because
 * it repeats the headings.
 */
export async function parseOdt(bytes: Uint8Array, relPath: string): Promise<ParsedDocument> {
  const { pkg, body } = await openOdf(bytes, relPath, 'ODT', 'application/vnd.oasis.opendocument.text');
  const pieces: Piece[] = [];
  const stack: { depth: number; text: string }[] = [];
  const path = () => stack.map((h) => h.text);
  let firstH1: string | undefined;
  const visit = (el: XmlElement, kind: 'paragraph' | 'list') => {
    for (const c of elements(el)) {
      if (c.name === 'h') {
        const text = tidyLine(inline(c));
        if (!text) continue;
        const depth = Number(c.attrs['outline-level'] ?? 1) || 1;
        while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
        stack.push({ depth, text });
        if (depth === 1) firstH1 ??= text;
        pieces.push({ text, kind: 'heading', headingPath: path() });
      } else if (c.name === 'p') {
        pieces.push({ text: line(inline(c)), kind, headingPath: path() });
      } else if (c.name === 'list') {
        visit(c, 'list');
      } else if (c.name === 'table') {
        pieces.push({ text: tableText(c), kind: 'table', headingPath: path(), atomic: true });
      } else if (c.name === 'table-of-content' || c.name === 'alphabetical-index' || c.name === 'tracked-changes') {
        continue;
      } else {
        visit(c, kind);
      }
    }
  };
  visit(findFirst(body, 'text') ?? body, 'paragraph');
  const { text, blocks } = assemble(pieces);
  const meta = await packageMetadata(pkg);
  const metadata: Record<string, unknown> = {};
  if (meta.author) metadata.author = meta.author;
  return { docId: relPath, source: relPath, connector: 'odt', title: meta.title ?? firstH1 ?? baseTitle(relPath), text, blocks, metadata };
}

/** OpenDocument presentations (.odp): like PPTX, one block group per slide with its number as page. */
export async function parseOdp(bytes: Uint8Array, relPath: string): Promise<ParsedDocument> {
  const { pkg, body } = await openOdf(bytes, relPath, 'ODP', 'application/vnd.oasis.opendocument.presentation');
  const pieces: Piece[] = [];
  let firstTitle: string | undefined;
  const slides = findAll(body, 'page');
  slides.forEach((slide, i) => {
    const page = i + 1;
    const frames = elements(slide).filter((c) => c.name === 'frame');
    const titleFrame = frames.find((f) => f.attrs.class === 'title');
    const title = titleFrame ? tidyLine(findAll(titleFrame, 'p').map(inline).join(' ')) : '';
    firstTitle ||= title || undefined;
    const headingPath = title ? [title] : [];
    if (title) pieces.push({ text: title, kind: 'heading', headingPath, page });
    for (const f of frames) {
      if (f === titleFrame) continue;
      for (const t of findAll(f, 'table')) pieces.push({ text: tableText(t), kind: 'table', headingPath, page, atomic: true });
      const box = findFirst(f, 'text-box');
      if (box) pieces.push({ text: findAll(box, 'p').map((p) => line(inline(p))).filter(Boolean).join('\n'), kind: 'paragraph', headingPath, page });
    }
    const notes = elements(slide).find((c) => c.name === 'notes');
    const notesText = notes ? findAll(notes, 'text-box').flatMap((b) => findAll(b, 'p').map((p) => line(inline(p)))).filter(Boolean).join('\n') : '';
    if (notesText) pieces.push({ text: `Notes: ${notesText}`, kind: 'paragraph', headingPath, page });
  });
  const { text, blocks } = assemble(pieces);
  const meta = await packageMetadata(pkg);
  const metadata: Record<string, unknown> = { slides: slides.length };
  if (meta.author) metadata.author = meta.author;
  return { docId: relPath, source: relPath, connector: 'odp', title: meta.title ?? firstTitle ?? baseTitle(relPath), text, blocks, metadata };
}

/**
 * The sheets of an OpenDocument spreadsheet (.ods) as rows of display strings. Repeated rows and
 * cells (how ODF stores runs of equal or empty cells) are expanded, but trailing empties never are:
 * a sheet formatted to its last row must not become a million empty rows.
 */
export async function readOdsSheets(bytes: Uint8Array, relPath: string): Promise<{ sheets: Sheet[]; title?: string; author?: string }> {
  const { pkg, body } = await openOdf(bytes, relPath, 'ODS', 'application/vnd.oasis.opendocument.spreadsheet');
  const sheets: Sheet[] = [];
  for (const table of findAll(findFirst(body, 'spreadsheet') ?? body, 'table')) {
    const rows: Sheet['rows'] = [];
    let rowNo = 0;
    for (const row of findAll(table, 'table-row')) {
      const repeat = Math.max(1, Number(row.attrs['number-rows-repeated'] ?? 1) || 1);
      const cells: string[] = [];
      let pendingEmpty = 0;
      for (const cell of elements(row)) {
        if (cell.name !== 'table-cell' && cell.name !== 'covered-table-cell') continue;
        const n = Math.max(1, Number(cell.attrs['number-columns-repeated'] ?? 1) || 1);
        const value = cellValue(cell);
        if (!value) {
          pendingEmpty += n;
          continue;
        }
        for (let k = 0; k < pendingEmpty; k++) cells.push('');
        pendingEmpty = 0;
        for (let k = 0; k < n; k++) cells.push(value);
      }
      if (cells.length === 0) {
        rowNo += repeat;
        continue;
      }
      for (let k = 0; k < repeat; k++) rows.push({ row: ++rowNo, cells });
    }
    sheets.push({ name: table.attrs.name ?? `Sheet${sheets.length + 1}`, rows });
  }
  const meta = await packageMetadata(pkg);
  return { sheets, ...meta };
}

function cellValue(cell: XmlElement): string {
  const type = cell.attrs['value-type'];
  if (type === 'date' && cell.attrs['date-value']) return cell.attrs['date-value'].replace(/T00:00:00(\.0+)?$/, '');
  return findAll(cell, 'p').map((p) => tidyLine(inline(p))).filter(Boolean).join(' ');
}
