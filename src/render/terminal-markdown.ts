/**
 * Passages and whole documents rendered for a terminal, as a reader would want them rather than
 * as markup: Markdown through its mdast (headings bold, lists indented, tables as aligned
 * columns, code boxed), extracted text (HTML, PDF, plain) by paragraphs with the headings and
 * " | " tables the connectors leave in it. Query terms are highlighted; a source range (the
 * judged chunk inside its document) can be flagged line by line.
 *
 * Pure: text in, lines of at most `width` columns out. The label screen pages and frames them.
 */
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkGfm from 'remark-gfm';
import type { AlignType, Code, List, Nodes, PhrasingContent, Root, RootContent, Table } from 'mdast';
import {
  highlightRuns, lineSpan, padRuns, paint, plainMarkers, runsWidth, S, textWidth, wrapRuns, type Line, type Run,
} from './terminal-text.js';

export type PassageFormat = 'markdown' | 'plain';

export interface PassageOptions {
  width: number;
  color: boolean;
  format: PassageFormat;
  /** Query terms to highlight. */
  terms?: readonly string[];
  /** Paragraphs of plain text equal to one of these are shown as headings (the chunk's heading path). */
  headings?: readonly string[];
  /** Offset of `text` inside the document, so `mark` and line spans are document offsets. */
  offset?: number;
  /** Document range to flag (the judged chunk in the full-document view). */
  mark?: readonly [number, number];
}

export interface RenderedLine {
  /** Terminal text: ANSI-styled with colour, bare without; never wider than the width asked for. */
  text: string;
  /** The line shows part of the `mark` range. */
  marked: boolean;
}

/** Markdown sources keep their markup in the stored text; every other connector stores plain text. */
export function formatOf(connector: string): PassageFormat {
  return connector === 'markdown' ? 'markdown' : 'plain';
}

interface Out {
  runs: Line;
  /** The source span of the block the line belongs to, for lines with no text of their own (borders). */
  span?: [number, number];
}

interface Ctx {
  color: boolean;
  terms: readonly string[];
  offset: number;
}

const processor = unified().use(remarkParse).use(remarkGfm);

export function renderPassage(text: string, opts: PassageOptions): RenderedLine[] {
  const width = Math.max(10, Math.floor(opts.width));
  const ctx: Ctx = { color: opts.color, terms: opts.terms ?? [], offset: opts.offset ?? 0 };
  const out = opts.format === 'markdown'
    ? mdBlocks((processor.parse(text) as Root).children, width, ctx, true)
    : plainBlocks(text, width, ctx, new Set((opts.headings ?? []).map((h) => h.trim()).filter(Boolean)));
  while (out.length && out[out.length - 1]!.runs.length === 0) out.pop();
  const mark = opts.mark;
  const lines = out.map((o) => {
    const span = lineSpan(o.runs) ?? o.span;
    return {
      text: paint(o.runs, opts.color),
      marked: Boolean(mark && span && span[0] < mark[1] && span[1] > mark[0]),
    };
  });
  // A blank line between two flagged lines belongs to the range too: the flag stays one bar.
  lines.forEach((l, i) => {
    if (!l.marked && l.text === '' && lines[i - 1]?.marked && lines[i + 1]?.marked) l.marked = true;
  });
  return lines;
}

// ─── Markdown ────────────────────────────────────────────────────────────────────────────────

function spanOf(node: Nodes, ctx: Ctx): [number, number] | undefined {
  const s = node.position?.start.offset;
  const e = node.position?.end.offset;
  return s === undefined || e === undefined ? undefined : [s + ctx.offset, e + ctx.offset];
}

function mdBlocks(nodes: readonly RootContent[], width: number, ctx: Ctx, spaced: boolean): Out[] {
  const out: Out[] = [];
  for (const node of nodes) {
    const lines = mdBlock(node, width, ctx);
    if (lines.length === 0) continue;
    if (out.length && spaced) out.push({ runs: [] });
    out.push(...lines);
  }
  return out;
}

function finish(runs: Run[], ctx: Ctx): Run[] {
  return plainMarkers(highlightRuns(runs, ctx.terms), ctx.color);
}

function mdBlock(node: RootContent, width: number, ctx: Ctx): Out[] {
  const span = spanOf(node, ctx);
  switch (node.type) {
    case 'heading': {
      const prefix: Run[] = ctx.color ? [] : [{ text: `${'#'.repeat(node.depth)} `, style: S.bold }];
      const style = S.bold | (node.depth === 1 && ctx.color ? S.link : 0);
      return wrapRuns(finish(inline(node.children, style, ctx), ctx), width, prefix, prefix.length ? [{ text: ' '.repeat(node.depth + 1), style: 0 }] : []).map((runs) => ({ runs, span }));
    }
    case 'paragraph':
      return wrapRuns(finish(inline(node.children, 0, ctx), ctx), width).map((runs) => ({ runs, span }));
    case 'blockquote': {
      const bar: Run = { text: '│ ', style: S.dim };
      return mdBlocks(node.children, width - 2, ctx, true).map((o) => ({ runs: [bar, ...o.runs], span: o.span ?? span }));
    }
    case 'list':
      return list(node, width, ctx);
    case 'code':
      return codeBox(node, width, ctx, span);
    case 'table':
      return mdTable(node, width, ctx, span);
    case 'thematicBreak':
      return [{ runs: [{ text: '─'.repeat(Math.min(width, 40)), style: S.dim }], span }];
    case 'html':
      return wrapRuns([{ text: node.value, style: S.dim, src: span?.[0], srcEnd: span?.[1] }], width).map((runs) => ({ runs, span }));
    case 'definition':
      return wrapRuns([{ text: `[${node.label ?? node.identifier}]: ${node.url}`, style: S.dim }], width).map((runs) => ({ runs, span }));
    case 'footnoteDefinition': {
      const label: Run = { text: `[^${node.label ?? node.identifier}] `, style: S.dim };
      const body = mdBlocks(node.children, width - 2, ctx, false);
      return body.map((o, i) => ({ runs: [i === 0 ? label : { text: '  ', style: 0 }, ...o.runs], span: o.span ?? span }));
    }
    default:
      return 'children' in node
        ? mdBlocks(node.children as RootContent[], width, ctx, true)
        : 'value' in node && typeof node.value === 'string'
          ? wrapRuns([{ text: node.value, style: 0 }], width).map((runs) => ({ runs, span }))
          : [];
  }
}

function inline(nodes: readonly PhrasingContent[], style: number, ctx: Ctx): Run[] {
  const out: Run[] = [];
  for (const n of nodes) {
    const span = spanOf(n, ctx);
    switch (n.type) {
      case 'text':
        // Soft line breaks inside a paragraph reflow like spaces (same length, offsets intact).
        out.push({ text: n.value.replace(/\n/g, ' '), style, src: span?.[0], srcEnd: span?.[1] });
        break;
      case 'emphasis':
        out.push(...inline(n.children, style | S.italic, ctx));
        break;
      case 'strong':
        out.push(...inline(n.children, style | S.bold, ctx));
        break;
      case 'delete':
        out.push(...inline(n.children, style | S.strike, ctx));
        break;
      case 'inlineCode':
        out.push({ text: ctx.color ? n.value : `\`${n.value}\``, style: style | S.code, src: span?.[0], srcEnd: span?.[1] });
        break;
      case 'break':
        out.push({ text: '\n', style });
        break;
      case 'link':
      case 'linkReference':
        out.push(...inline(n.children, style | S.link, ctx));
        break;
      case 'image':
      case 'imageReference':
        out.push({ text: `[image${n.alt ? `: ${n.alt}` : ''}]`, style: style | S.dim, src: span?.[0], srcEnd: span?.[1] });
        break;
      case 'footnoteReference':
        out.push({ text: `[^${n.label ?? n.identifier}]`, style: style | S.dim });
        break;
      case 'html':
        out.push({ text: n.value, style: style | S.dim, src: span?.[0], srcEnd: span?.[1] });
        break;
      default: {
        // Extensions' phrasing nodes (none in GFM today): their text, unstyled.
        const other = n as Nodes;
        if ('children' in other) out.push(...inline(other.children as PhrasingContent[], style, ctx));
        else if ('value' in other && typeof other.value === 'string') out.push({ text: other.value, style });
      }
    }
  }
  return out;
}

function list(node: List, width: number, ctx: Ctx): Out[] {
  const out: Out[] = [];
  const start = node.start ?? 1;
  const markers = node.children.map((item, i) => {
    const bullet = node.ordered ? `${start + i}.` : '•';
    return item.checked === true ? `${bullet} [x]` : item.checked === false ? `${bullet} [ ]` : bullet;
  });
  // Ordered lists align their numbers (9. and 10.); each item hangs under its own text.
  const numberWidth = node.ordered ? Math.max(...markers.map((m) => textWidth(m.split(' ')[0]!))) : 1;
  node.children.forEach((item, i) => {
    const indent = Math.max(numberWidth, textWidth(markers[i]!)) + 1;
    if (i > 0 && node.spread) out.push({ runs: [] });
    const body = mdBlocks(item.children, Math.max(4, width - indent), ctx, Boolean(item.spread));
    const span = spanOf(item, ctx);
    const marker: Run = { text: markers[i]!.padEnd(indent), style: ctx.color ? S.cyan : 0 };
    const pad: Run = { text: ' '.repeat(indent), style: 0 };
    if (body.length === 0) body.push({ runs: [] });
    body.forEach((o, j) => out.push({ runs: [j === 0 ? marker : pad, ...o.runs], span: o.span ?? span }));
  });
  return out;
}

function codeBox(node: Code, width: number, ctx: Ctx, span: [number, number] | undefined): Out[] {
  const src = node.value.replace(/\t/g, '    ').split('\n');
  const inner = Math.max(4, Math.min(width - 4, Math.max(8, ...src.map(textWidth), textWidth(node.lang ?? '') + 3)));
  const border = (l: string, r: string, label = '') => {
    const fill = inner + 2 - textWidth(label);
    return { runs: [{ text: `${l}${label}${'─'.repeat(Math.max(0, fill))}${r}`, style: S.dim }], span };
  };
  const out: Out[] = [border('┌', '┐', node.lang ? `─ ${node.lang} ` : '')];
  for (const raw of src) {
    const indent = /^ */.exec(raw)![0];
    const runs = finish([{ text: raw.slice(indent.length), style: S.code }], ctx);
    const cont: Run[] = [{ text: `${indent}  `, style: 0 }];
    const wrapped = indent.length + 2 < inner ? wrapRuns(runs, inner, [{ text: indent, style: 0 }], cont) : wrapRuns(runs, inner);
    for (const w of wrapped) {
      out.push({ runs: [{ text: '│ ', style: S.dim }, ...padRuns(w, inner), { text: ' │', style: S.dim }], span });
    }
  }
  out.push(border('└', '┘'));
  return out;
}

function mdTable(node: Table, width: number, ctx: Ctx, span: [number, number] | undefined): Out[] {
  const rows = node.children.map((row) => row.children.map((cell) => finish(inline(cell.children, 0, ctx), ctx)));
  const align = (node.align ?? []).map((a: AlignType) => a ?? 'left');
  return table(rows, align, true, width, span);
}

// ─── tables (Markdown and the " | " rows extracted from HTML) ────────────────────────────────

/**
 * Aligned columns in a box. Columns get their natural width when the table fits; otherwise the
 * widest column gives up a column at a time and cells wrap at words. When even that cannot fit
 * (many columns on a narrow screen), each row is shown as "header: value" lines instead.
 */
function table(rows: Run[][][], align: readonly string[], header: boolean, width: number, span: [number, number] | undefined): Out[] {
  const cols = Math.max(...rows.map((r) => r.length));
  const cell = (r: number, c: number): Run[] => rows[r]![c] ?? [];
  const natural = Array.from({ length: cols }, (_, c) => Math.max(1, ...rows.map((_, r) => runsWidth(cell(r, c)))));
  const longestWord = Array.from({ length: cols }, (_, c) =>
    Math.max(1, ...rows.map((_, r) => Math.max(0, ...cell(r, c).map((x) => x.text).join('').split(/\s+/).map(textWidth)))),
  );
  const room = width - (3 * cols + 1);
  const widths = [...natural];
  const floor = widths.map((w, c) => Math.min(w, Math.max(3, Math.min(longestWord[c]!, 12))));
  while (widths.reduce((a, b) => a + b, 0) > room) {
    let widest = -1;
    for (let c = 0; c < cols; c++) if (widths[c]! > floor[c]! && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break;
    widths[widest]!--;
  }
  if (widths.reduce((a, b) => a + b, 0) > room) return recordLayout(rows, header, width, span);

  const line = (l: string, m: string, r: string) => ({ runs: [{ text: l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r, style: S.dim }], span });
  const out: Out[] = [line('┌', '┬', '┐')];
  rows.forEach((_, r) => {
    const wrapped = widths.map((w, c) => wrapRuns(cell(r, c), w));
    const height = Math.max(...wrapped.map((x) => x.length));
    for (let i = 0; i < height; i++) {
      const runs: Run[] = [{ text: '│', style: S.dim }];
      wrapped.forEach((lines, c) => {
        const content = (lines[i] ?? []).map((x) => (header && r === 0 ? { ...x, style: x.style | S.bold } : x));
        runs.push({ text: ' ', style: 0 }, ...padRuns(content, widths[c]!, (align[c] ?? 'left') as 'left' | 'right' | 'center'), { text: ' ', style: 0 }, { text: '│', style: S.dim });
      });
      out.push({ runs, span });
    }
    if (header && r === 0 && rows.length > 1) out.push(line('├', '┼', '┤'));
  });
  out.push(line('└', '┴', '┘'));
  return out;
}

function recordLayout(rows: Run[][][], header: boolean, width: number, span: [number, number] | undefined): Out[] {
  const out: Out[] = [];
  const head = header ? rows[0]! : [];
  rows.slice(header ? 1 : 0).forEach((row, i) => {
    if (i > 0) out.push({ runs: [{ text: '─'.repeat(Math.min(width, 20)), style: S.dim }], span });
    row.forEach((cell, c) => {
      const label: Run[] = head[c] ? [...head[c]!.map((x) => ({ ...x, style: x.style | S.bold })), { text: ': ', style: 0 }] : [];
      for (const runs of wrapRuns([...label, ...cell], width, [], [{ text: '  ', style: 0 }])) out.push({ runs, span });
    });
  });
  return out;
}

// ─── plain text (HTML, PDF, text, JSONL and BEIR records) ────────────────────────────────────

const BULLET = /^(\s*)([-*•‣◦]|\d{1,3}[.)])\s+/;

function plainBlocks(text: string, width: number, ctx: Ctx, headings: ReadonlySet<string>): Out[] {
  const out: Out[] = [];
  const re = /\n[ \t]*\n+/g;
  let pos = 0;
  const paragraphs: [number, number][] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    paragraphs.push([pos, m.index]);
    pos = m.index + m[0].length;
  }
  paragraphs.push([pos, text.length]);
  for (const [s, e] of paragraphs) {
    const para = text.slice(s, e);
    if (!para.trim()) continue;
    const src = s + ctx.offset;
    const span: [number, number] = [src, e + ctx.offset];
    if (out.length) out.push({ runs: [] });
    const lines = para.split('\n');
    if (headings.has(para.trim())) {
      const prefix: Run[] = ctx.color ? [] : [{ text: '# ', style: S.bold }];
      out.push(...wrapRuns(finish([{ text: para.trim(), style: S.bold, src, srcEnd: span[1] }], ctx), width, prefix, prefix.length ? [{ text: '  ', style: 0 }] : []).map((runs) => ({ runs, span })));
      continue;
    }
    const cells = lines.map((l) => l.split(' | '));
    if (lines.length >= 2 && cells.every((c) => c.length >= 2 && c.length === cells[0]!.length)) {
      let off = src;
      const rows = cells.map((row) => {
        const runs = row.map((c) => {
          const run = finish([{ text: c.trim(), style: 0, src: off, srcEnd: off + c.length }], ctx);
          off += c.length + 3; // the " | " after the cell
          return run;
        });
        off -= 2; // no " | " after the last cell, a "\n" instead
        return runs;
      });
      out.push(...table(rows, [], false, width, span));
      continue;
    }
    // Lines that start like list items keep their own line with a hanging indent; others reflow.
    let lineStart = src;
    let buffer: Run[] = [];
    const flush = () => {
      if (buffer.length) out.push(...wrapRuns(finish(buffer, ctx), width).map((runs) => ({ runs, span })));
      buffer = [];
    };
    for (const l of lines) {
      const b = BULLET.exec(l);
      if (b) {
        flush();
        const marker = `${b[1]!.replace(/\t/g, '  ')}${b[2]!.length === 1 && !/\d/.test(b[2]!) ? '•' : b[2]!} `;
        const body = finish([{ text: l.slice(b[0].length), style: 0, src: lineStart + b[0].length, srcEnd: lineStart + l.length }], ctx);
        out.push(...wrapRuns(body, width, [{ text: marker, style: ctx.color ? S.cyan : 0 }], [{ text: ' '.repeat(textWidth(marker)), style: 0 }]).map((runs) => ({ runs, span })));
      } else {
        buffer.push({ text: buffer.length ? ` ${l}` : l, style: 0, src: buffer.length ? lineStart - 1 : lineStart, srcEnd: lineStart + l.length });
      }
      lineStart += l.length + 1;
    }
    flush();
  }
  return out;
}
