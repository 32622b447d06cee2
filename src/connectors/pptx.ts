import type { ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { baseTitle } from './normalise.js';
import { assemble, tidyLine, type Piece } from './pieces.js';
import { elements, findAll, findFirst, openPackage, packageMetadata, type OfficePackage, type XmlElement } from './zip.js';

/**
 * PowerPoint decks: one group of blocks per slide, each carrying the slide number as its page, so
 * a chunk never spans two slides and a hit cites its slide like a PDF page. The slide title is the
 * heading path; text boxes, tables (atomic) and speaker notes follow in reading order.
 */
export async function parsePptx(bytes: Uint8Array, relPath: string): Promise<ParsedDocument> {
  const pkg = await openPackage(bytes, relPath, 'PPTX');
  const pres = await pkg.xml('ppt/presentation.xml');
  if (!pres) throw new InputError(relPath, undefined, 'is a zip archive but not a PowerPoint deck (no ppt/presentation.xml)', 'Rename it to its real type or exclude it.');
  const rels = await relationships(pkg, 'ppt/_rels/presentation.xml.rels', 'ppt/');
  const slidePaths = findAll(pres, 'sldId')
    .map((s) => rels.get(s.attrs['r:id'] ?? '')?.target)
    .filter((t): t is string => t !== undefined);

  const pieces: Piece[] = [];
  let firstTitle: string | undefined;
  for (const [i, path] of slidePaths.entries()) {
    const page = i + 1;
    const slide = await pkg.xml(path);
    if (!slide) throw new InputError(relPath, undefined, `slide ${page} (${path}) is missing from the archive`, 'Re-save the deck with PowerPoint or LibreOffice.');
    const tree = findFirst(slide, 'spTree');
    const shapes = tree ? shapeTexts(tree) : [];
    const title = shapes.find((s) => s.title)?.text.replace(/\s+/g, ' ').trim();
    firstTitle ??= title;
    const headingPath = title ? [title] : [];
    for (const s of shapes) {
      if (s.title) pieces.push({ text: title!, kind: 'heading', headingPath, page });
      else pieces.push({ text: s.text, kind: s.table ? 'table' : 'paragraph', headingPath, page, atomic: s.table });
    }
    const slideRels = await relationships(pkg, path.replace(/([^/]+)$/, '_rels/$1.rels'), path.replace(/[^/]+$/, ''));
    const notesPath = [...slideRels.values()].find((r) => r.type.endsWith('/notesSlide'))?.target;
    const notes = notesPath ? await pkg.xml(notesPath) : null;
    const notesTree = notes ? findFirst(notes, 'spTree') : undefined;
    const notesText = notesTree ? shapeTexts(notesTree).filter((s) => s.body).map((s) => s.text).join('\n') : '';
    if (notesText.trim()) pieces.push({ text: `Notes: ${notesText}`, kind: 'paragraph', headingPath, page });
  }
  const { text, blocks } = assemble(pieces);
  const meta = await packageMetadata(pkg);
  const metadata: Record<string, unknown> = { slides: slidePaths.length };
  if (meta.author) metadata.author = meta.author;
  return { docId: relPath, source: relPath, connector: 'pptx', title: meta.title ?? firstTitle ?? baseTitle(relPath), text, blocks, metadata };
}

interface ShapeText {
  text: string;
  title: boolean;
  /** A body placeholder: in notes slides, the notes themselves (not the slide image or number). */
  body: boolean;
  table: boolean;
}

/** Text of each shape of a shape tree in document order; groups are flattened. */
function shapeTexts(tree: XmlElement): ShapeText[] {
  const out: ShapeText[] = [];
  for (const el of elements(tree)) {
    if (el.name === 'grpSp') {
      out.push(...shapeTexts(el));
    } else if (el.name === 'sp') {
      const ph = findFirst(el, 'ph');
      const type = ph?.attrs.type ?? '';
      const body = findFirst(el, 'txBody');
      const text = body ? paragraphs(body).join('\n') : '';
      if (text.trim()) out.push({ text, title: type === 'title' || type === 'ctrTitle', body: ph !== undefined && (type === 'body' || type === ''), table: false });
    } else if (el.name === 'graphicFrame') {
      for (const tbl of findAll(el, 'tbl')) {
        const rows = findAll(tbl, 'tr').map((tr) => findAll(tr, 'tc').map((tc) => tidyLine(paragraphs(tc).join(' '))).join(' | '));
        const text = rows.filter((r) => r.replace(/[ |]/g, '')).join('\n');
        if (text) out.push({ text, title: false, body: false, table: true });
      }
    }
  }
  return out;
}

/** DrawingML paragraphs (a:p) of a text body: runs and fields joined, a:br as a line break. */
function paragraphs(body: XmlElement): string[] {
  return findAll(body, 'p').map((p) => {
    let s = '';
    const visit = (e: XmlElement) => {
      for (const c of elements(e)) {
        if (c.name === 't') s += c.children.filter((x): x is string => typeof x === 'string').join('');
        else if (c.name === 'br') s += '\n';
        else visit(c);
      }
    };
    visit(p);
    return s.split('\n').map(tidyLine).join('\n').trim();
  }).filter(Boolean);
}

interface Relationship {
  target: string;
  type: string;
}

/** A part's relationships, targets resolved against `base` (the folder of the part). */
export async function relationships(pkg: OfficePackage, relsPath: string, base: string): Promise<Map<string, Relationship>> {
  const out = new Map<string, Relationship>();
  const rels = await pkg.xml(relsPath);
  if (!rels) return out;
  for (const r of findAll(rels, 'Relationship')) {
    const target = r.attrs.Target ?? '';
    if (r.attrs.TargetMode === 'External') continue;
    out.set(r.attrs.Id ?? '', { target: resolvePart(base, target), type: r.attrs.Type ?? '' });
  }
  return out;
}

function resolvePart(base: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = (base + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}
