import { unified } from 'unified';
import rehypeParse from 'rehype-parse';
import type { Root, Element, Nodes } from 'hast';
import type { Block, BlockKind, ParsedDocument } from '../engine/types.js';
import { baseTitle, decodeUtf8Strict, normaliseText } from './normalise.js';

/** Page chrome and non-content: indexing it would make every page match "Pricing | Login". */
const SKIPPED = new Set([
  'script', 'style', 'noscript', 'template', 'nav', 'header', 'footer', 'aside', 'head', 'svg',
  'form', 'iframe', 'object', 'canvas', 'button', 'select', 'option', 'math',
]);

/** Elements whose text is a block of its own (a paragraph boundary before and after). */
const BLOCK_CONTAINERS: Record<string, BlockKind> = {
  p: 'paragraph', li: 'list', blockquote: 'quote', div: 'paragraph', section: 'paragraph',
  article: 'paragraph', main: 'paragraph', ul: 'list', ol: 'list', dl: 'list', dt: 'list',
  dd: 'list', figure: 'paragraph', figcaption: 'paragraph', address: 'paragraph',
  details: 'paragraph', summary: 'paragraph', body: 'paragraph', html: 'paragraph',
  caption: 'paragraph',
};

const HEADING = /^h([1-6])$/;

const processor = unified().use(rehypeParse, { fragment: false });

interface Piece {
  text: string;
  kind: BlockKind;
  headingPath: string[];
  atomic?: boolean;
}

/**
 * HTML pages: visible text only. `text` is the block texts joined by blank lines, so it is a
 * faithful plain-text rendering whose offsets the blocks index exactly.
 */
export function parseHtml(bytes: Uint8Array, relPath: string): ParsedDocument {
  const source = decodeUtf8Strict(bytes, relPath);
  const tree = processor.parse(source) as Root;

  const pieces: Piece[] = [];
  const headings: { depth: number; text: string }[] = [];
  let buffer = '';
  let bufferKind: BlockKind = 'paragraph';
  let firstH1: string | undefined;
  let titleTag: string | undefined;

  const path = () => headings.map((h) => h.text);
  const flush = () => {
    const text = collapse(buffer);
    if (text) pieces.push({ text, kind: bufferKind, headingPath: path() });
    buffer = '';
  };

  const walk = (node: Nodes): void => {
    if (node.type === 'text') {
      buffer += node.value;
      return;
    }
    if (node.type !== 'element' && node.type !== 'root') return;
    if (node.type === 'root') {
      node.children.forEach(walk);
      return;
    }
    const el = node;
    if (el.tagName === 'title' && titleTag === undefined) titleTag = collapse(textOf(el)) || undefined;
    if (SKIPPED.has(el.tagName) || isHidden(el)) return;
    if (el.tagName === 'br') {
      buffer += BR;
      return;
    }
    const h = HEADING.exec(el.tagName);
    if (h) {
      flush();
      const depth = Number(h[1]);
      const text = collapse(visibleText(el));
      if (!text) return;
      while (headings.length && headings[headings.length - 1].depth >= depth) headings.pop();
      headings.push({ depth, text });
      if (depth === 1 && firstH1 === undefined) firstH1 = text;
      pieces.push({ text, kind: 'heading', headingPath: path() });
      return;
    }
    if (el.tagName === 'pre') {
      flush();
      const text = normaliseText(visibleText(el));
      if (text) pieces.push({ text, kind: 'code', headingPath: path(), atomic: true });
      return;
    }
    if (el.tagName === 'table') {
      flush();
      const text = tableText(el);
      if (text) pieces.push({ text, kind: 'table', headingPath: path(), atomic: true });
      return;
    }
    const kind = BLOCK_CONTAINERS[el.tagName];
    if (kind) {
      flush();
      const outer = bufferKind;
      bufferKind = kind;
      el.children.forEach(walk);
      flush();
      bufferKind = outer;
      return;
    }
    el.children.forEach(walk);
  };
  // <title> lives in <head>, which is skipped as content; read it first.
  findTitle(tree, (t) => (titleTag = t));
  walk(tree);
  flush();

  let text = '';
  const blocks: Block[] = [];
  for (const p of pieces) {
    if (text) text += '\n\n';
    const b: Block = { start: text.length, end: text.length + p.text.length, kind: p.kind, headingPath: p.headingPath };
    if (p.atomic) b.atomic = true;
    text += p.text;
    blocks.push(b);
  }
  return {
    docId: relPath,
    source: relPath,
    connector: 'html',
    title: titleTag ?? firstH1 ?? baseTitle(relPath),
    text,
    blocks,
    metadata: {},
  };
}

function isHidden(el: Element): boolean {
  const p = el.properties ?? {};
  if (p.hidden !== undefined && p.hidden !== false && p.hidden !== null) return true;
  if (String(p.ariaHidden) === 'true') return true;
  const style = typeof p.style === 'string' ? p.style.replace(/\s/g, '').toLowerCase() : '';
  return style.includes('display:none') || style.includes('visibility:hidden');
}

/** Stands for <br> while source whitespace (newlines included) is collapsed to spaces. */
const BR = '\ue000';

/** Whitespace-collapsed inline text, NFC, one line per <br>. */
function collapse(s: string): string {
  return normaliseText(
    s
      .replace(/\s+/g, ' ')
      .split(BR)
      .map((line) => line.trim())
      .filter(Boolean)
      .join('\n'),
  );
}

function textOf(node: Nodes): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'element' || node.type === 'root') return node.children.map(textOf).join('');
  return '';
}

/** Text of a subtree without hidden or skipped descendants; for headings and <pre>. */
function visibleText(node: Nodes): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'element') {
    if (SKIPPED.has(node.tagName) || isHidden(node)) return '';
    if (node.tagName === 'br') return '\n';
  }
  if (node.type === 'element' || node.type === 'root') return node.children.map(visibleText).join('');
  return '';
}

/** One line per row, cells separated by " | ", so a table chunk still reads as a table. */
function tableText(table: Element): string {
  const rows: string[] = [];
  const visit = (n: Nodes) => {
    if (n.type !== 'element') return;
    if (SKIPPED.has(n.tagName) || isHidden(n)) return;
    if (n.tagName === 'tr') {
      const cells = n.children
        .filter((c): c is Element => c.type === 'element' && (c.tagName === 'td' || c.tagName === 'th'))
        .map((c) => visibleText(c).replace(/\s+/g, ' ').trim());
      if (cells.some((c) => c)) rows.push(cells.join(' | '));
      return;
    }
    n.children.forEach(visit);
  };
  visit(table);
  return normaliseText(rows.join('\n'));
}

function findTitle(node: Nodes, found: (t: string) => void): boolean {
  if (node.type === 'element' && node.tagName === 'title') {
    const t = collapse(textOf(node));
    if (t) found(t);
    return true;
  }
  if (node.type === 'element' && (node.tagName === 'body' || node.tagName === 'svg')) return false;
  if (node.type === 'element' || node.type === 'root') {
    for (const c of node.children) if (findTitle(c, found)) return true;
  }
  return false;
}
