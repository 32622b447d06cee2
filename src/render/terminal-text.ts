/**
 * Styled text for a terminal of a given width: display widths (wide and combining characters),
 * runs of text with a style and a source offset, and word wrapping that never cuts a word unless
 * the word alone is wider than the line. The label screen is built from these so every line it
 * draws fits the terminal exactly (a line one column too wide would scroll the whole screen).
 */
import { termSpans } from './highlight.js';

/** Style bits of a run. Without colour, only the textual ones (see `plainMarkers`) are visible. */
export const S = { bold: 1, italic: 2, code: 4, mark: 8, dim: 16, link: 32, strike: 64, cyan: 128, reverse: 256 } as const;

export interface Run {
  text: string;
  style: number;
  /** Offset in the source text of `text[0]`, when the run comes from it. */
  src?: number;
  /** End of the source span the run stands for (a text node may be shorter or longer than its source). */
  srcEnd?: number;
}

export type Line = Run[];

// ─── widths ──────────────────────────────────────────────────────────────────────────────────

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

function isCombining(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x0483 && cp <= 0x0489) || (cp >= 0x0591 && cp <= 0x05bd) ||
    (cp >= 0x0610 && cp <= 0x061a) || (cp >= 0x064b && cp <= 0x065f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) || cp === 0xfeff || (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Columns a code point takes: 0 (combining, zero-width), 2 (East Asian wide, emoji) or 1. */
export function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (isCombining(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

/** Display width of a string, ANSI escapes ignored. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of stripAnsi(s)) w += charWidth(ch.codePointAt(0)!);
  return w;
}

export function runsWidth(runs: readonly Run[]): number {
  let w = 0;
  for (const r of runs) w += textWidth(r.text);
  return w;
}

// ─── painting ────────────────────────────────────────────────────────────────────────────────

function sgr(style: number): string {
  const codes: string[] = [];
  if (style & S.bold) codes.push('1');
  if (style & S.dim) codes.push('2');
  if (style & S.italic) codes.push('3');
  if (style & S.link) codes.push('4');
  if (style & S.reverse) codes.push('7');
  if (style & S.strike) codes.push('9');
  if (style & S.mark) codes.push('1', '33');
  else if (style & (S.code | S.cyan)) codes.push('36');
  return [...new Set(codes)].join(';');
}

/** A line as terminal text: ANSI styles with colour, the bare text without. */
export function paint(line: readonly Run[], color: boolean): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const style = line[i]!.style;
    let text = '';
    while (i < line.length && line[i]!.style === style) text += line[i++]!.text;
    const code = color && style ? sgr(style) : '';
    out += code ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
  return out;
}

/**
 * Without colour, a highlighted query term is shown as *term* and inline code as `code`, so the
 * distinction survives NO_COLOR and piped output. Applied before wrapping so widths are right.
 */
export function plainMarkers(runs: readonly Run[], color: boolean): Run[] {
  if (color) return [...runs];
  return runs.map((r) => {
    if (r.style & S.mark) return { ...r, text: `*${r.text}*` };
    return r;
  });
}

/** Splits runs so query terms become runs of their own with the mark style. */
export function highlightRuns(runs: readonly Run[], terms: readonly string[]): Run[] {
  if (terms.length === 0) return [...runs];
  const out: Run[] = [];
  for (const r of runs) {
    const spans = termSpans(r.text, [...terms]);
    let pos = 0;
    for (const [s, e] of spans) {
      if (s > pos) out.push(sliceRun(r, pos, s));
      out.push({ ...sliceRun(r, s, e), style: r.style | S.mark });
      pos = e;
    }
    if (pos < r.text.length) out.push(pos === 0 ? r : sliceRun(r, pos, r.text.length));
  }
  return out;
}

export function sliceRun(r: Run, a: number, b: number): Run {
  const out: Run = { text: r.text.slice(a, b), style: r.style };
  if (r.src !== undefined) {
    const end = r.srcEnd ?? r.src + r.text.length;
    out.src = Math.min(r.src + a, Math.max(r.src, end - 1));
    out.srcEnd = Math.min(end, Math.max(out.src + 1, r.src + b));
  }
  return out;
}

// ─── wrapping ────────────────────────────────────────────────────────────────────────────────

interface Token {
  kind: 'word' | 'space' | 'break';
  runs: Run[];
  width: number;
}

function tokenize(runs: readonly Run[]): Token[] {
  const tokens: Token[] = [];
  let cur: Token | null = null;
  for (const r of runs) {
    let i = 0;
    while (i < r.text.length) {
      const ch = r.text[i]!;
      const kind: Token['kind'] = ch === '\n' ? 'break' : ch === ' ' || ch === '\t' ? 'space' : 'word';
      let j = i + 1;
      if (kind !== 'break') while (j < r.text.length && kindOf(r.text[j]!) === kind) j++;
      const piece = sliceRun(r, i, j);
      if (kind === 'break') {
        tokens.push({ kind, runs: [], width: 0 });
        cur = null;
      } else if (cur && cur.kind === kind) {
        cur.runs.push(piece);
        cur.width += textWidth(piece.text);
      } else {
        cur = { kind, runs: [piece], width: textWidth(piece.text) };
        tokens.push(cur);
      }
      i = j;
    }
  }
  return tokens;
}

function kindOf(ch: string): Token['kind'] {
  return ch === '\n' ? 'break' : ch === ' ' || ch === '\t' ? 'space' : 'word';
}

/** Cuts runs into pieces of at most `width` columns (only for a word wider than a whole line). */
function hardSplit(runs: readonly Run[], width: number): Run[][] {
  const lines: Run[][] = [];
  let line: Run[] = [];
  let w = 0;
  for (const r of runs) {
    let start = 0;
    let i = 0;
    for (const ch of r.text) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > width && w > 0) {
        if (i > start) line.push(sliceRun(r, start, i));
        lines.push(line);
        line = [];
        w = 0;
        start = i;
      }
      w += cw;
      i += ch.length;
    }
    if (i > start) line.push(sliceRun(r, start, i));
  }
  if (line.length) lines.push(line);
  return lines;
}

/**
 * Word-wraps runs to `width` columns. Spaces collapse to one; `\n` breaks the line; a word wider
 * than the room left goes to the next line, and only a word wider than a whole line is cut.
 * `first` prefixes the first line, `rest` the others (hanging indents of list items, quote bars).
 */
export function wrapRuns(runs: readonly Run[], width: number, first: Run[] = [], rest: Run[] = first): Line[] {
  const lines: Line[] = [];
  let line: Run[] = [...first];
  let w = runsWidth(first);
  let hasContent = false;
  let space: Run | null = null;
  const newLine = () => {
    lines.push(line);
    line = [...rest];
    w = runsWidth(rest);
    hasContent = false;
    space = null;
  };
  for (const t of tokenize(runs)) {
    if (t.kind === 'break') {
      newLine();
      continue;
    }
    if (t.kind === 'space') {
      if (hasContent) space = { ...t.runs[0]!, text: ' ' };
      continue;
    }
    const gap = hasContent && space ? 1 : 0;
    if (w + gap + t.width <= width) {
      if (gap) line.push(space!);
      line.push(...t.runs);
      w += gap + t.width;
      hasContent = true;
      space = null;
      continue;
    }
    if (hasContent) newLine();
    const room = Math.max(1, width - w);
    if (t.width <= room) {
      line.push(...t.runs);
      w += t.width;
      hasContent = true;
      continue;
    }
    const pieces = hardSplit(t.runs, room);
    pieces.forEach((p, i) => {
      if (i > 0) newLine();
      line.push(...p);
      w += runsWidth(p);
      hasContent = true;
    });
  }
  if (hasContent || lines.length === 0) lines.push(line);
  return lines;
}

/** One line cut to `width` at a word boundary with an ellipsis (titles, paths in headers). */
export function truncateRuns(runs: readonly Run[], width: number): Line {
  if (runsWidth(runs) <= width) return [...runs];
  const wrapped = wrapRuns(runs, Math.max(1, width - 1));
  const head = wrapped[0] ?? [];
  // A line whose first word alone is wider than the room is cut inside the word (paths, URLs).
  return [...head, { text: '…', style: 0 }];
}

/** Items joined by " · ", wrapped at item boundaries (key legends, status lines). */
export function wrapItems(items: readonly Run[][], width: number, sep = ' · '): Line[] {
  const lines: Line[] = [];
  let line: Run[] = [];
  let w = 0;
  for (const item of items) {
    const iw = runsWidth(item);
    if (line.length && w + sep.length + iw > width) {
      lines.push(line);
      line = [];
      w = 0;
    }
    if (iw > width) {
      if (line.length) lines.push(line);
      const wrapped = wrapRuns(item, width);
      lines.push(...wrapped.slice(0, -1));
      line = [...wrapped[wrapped.length - 1]!];
      w = runsWidth(line);
      continue;
    }
    if (line.length) {
      line.push({ text: sep, style: S.dim });
      w += sep.length;
    }
    line.push(...item);
    w += iw;
  }
  if (line.length) lines.push(line);
  return lines;
}

/** Pads a line with spaces to exactly `width` columns (used inside boxes and table cells). */
export function padRuns(runs: readonly Run[], width: number, align: 'left' | 'right' | 'center' = 'left'): Run[] {
  const gap = Math.max(0, width - runsWidth(runs));
  if (gap === 0) return [...runs];
  const left = align === 'right' ? gap : align === 'center' ? Math.floor(gap / 2) : 0;
  const out: Run[] = [];
  if (left) out.push({ text: ' '.repeat(left), style: 0 });
  out.push(...runs);
  if (gap - left) out.push({ text: ' '.repeat(gap - left), style: 0 });
  return out;
}

/** The source span a line stands for: [min, max) of its runs' offsets, or undefined. */
export function lineSpan(line: readonly Run[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of line) {
    if (r.src === undefined) continue;
    lo = Math.min(lo, r.src);
    hi = Math.max(hi, r.srcEnd ?? r.src + r.text.length);
  }
  return lo === Infinity ? undefined : [lo, hi];
}
