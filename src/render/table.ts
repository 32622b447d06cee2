export type ColorMode = 'auto' | 'always' | 'never';
let colorMode: ColorMode = 'auto';

/** `--color`: set once per process, before a command renders anything. */
export function setColorMode(mode: ColorMode): void {
  colorMode = mode;
}

/** auto: colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (colorMode !== 'auto') return colorMode === 'always';
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/**
 * Columns to fit output to: the terminal's own width, else `COLUMNS`, else none (output piped to
 * a file or another program keeps every character on one line, as grep and friends expect).
 */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  if (stream.isTTY && stream.columns) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

const ANSI = /\x1b\[[0-9;]*m/g;

function charWidth(cp: number): number {
  // Combining marks and zero-width characters take no cell.
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f || (cp >= 0xe0000 && cp <= 0xe007f)) return 0;
  // East Asian wide and fullwidth forms, and emoji: two cells.
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2;
  return 1;
}

/** Below U+0300 every character takes one cell (charWidth): most text needs no per-character walk. */
const ONE_CELL_EACH = /^[\0-\u02ff]*$/;

/** Terminal cells a string takes (colour codes excluded). */
export function displayWidth(text: string): number {
  const plain = text.includes('\x1b') ? text.replace(ANSI, '') : text;
  if (ONE_CELL_EACH.test(plain)) return plain.length;
  let w = 0;
  for (const ch of plain) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Splits into colour codes (zero width) and characters. */
function tokens(text: string): string[] {
  return text.split(/(\x1b\[[0-9;]*m)/).flatMap((part) => (part.startsWith('\x1b[') ? [part] : [...part]));
}

/** Cuts a one-line string to `width` cells, ending with `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  let coloured = false;
  for (const t of tokens(text)) {
    if (t.startsWith('\x1b[')) {
      out += t;
      coloured = true;
      continue;
    }
    const cw = charWidth(t.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += t;
    w += cw;
  }
  return `${out}…${coloured ? '\x1b[0m' : ''}`;
}

/** Word-wraps text to `width` cells; words longer than a line are broken. Existing newlines are kept. */
export function wrapText(text: string, width: number): string {
  if (width <= 0) return text;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (displayWidth(line) <= width) {
      out.push(line);
      continue;
    }
    let cur = '';
    let curW = 0;
    const flush = () => {
      out.push(cur.replace(/ +$/, ''));
      cur = '';
      curW = 0;
    };
    for (const word of line.split(/(?<= )/)) {
      const ww = displayWidth(word.replace(/ +$/, ''));
      if (curW > 0 && curW + ww > width) flush();
      if (ww <= width) {
        cur += word;
        curW += displayWidth(word);
        continue;
      }
      // A word longer than the line: break it across lines.
      for (const t of tokens(word)) {
        const cw = t.startsWith('\x1b[') ? 0 : charWidth(t.codePointAt(0)!);
        if (curW + cw > width) flush();
        if (curW === 0 && t === ' ') continue;
        cur += t;
        curW += cw;
      }
    }
    if (cur.trim() !== '' || out.length === 0) flush();
  }
  return out.join('\n');
}

/** Wraps each line of plain output (not tables) to the terminal, when there is one. */
export function fitText(text: string, width: number | undefined = terminalWidth()): string {
  return width ? wrapText(text, width) : text;
}

export interface FitOptions {
  /** Total width to fit; default: the terminal's (see terminalWidth). undefined = natural widths. */
  width?: number;
  /** Columns whose cells are cut with `…` instead of wrapped (short text where the start says enough). */
  truncate?: number[];
  /** Columns never wrapped while another can give way (numbers, ids that must stay whole). */
  keep?: number[];
  /** Columns left out, in this order, while the table cannot fit without breaking a `keep` column. */
  drop?: number[];
}

interface TableOptions {
  /** Caps on column widths, padding included (0 or missing: no cap). */
  colWidths?: number[];
  fit?: FitOptions;
  /** Colour or not; default: this process's stdout (useColor). */
  color?: boolean;
}

const RULES = { top: ['┌', '┬', '┐'], mid: ['├', '┼', '┤'], bottom: ['└', '┴', '┘'] } as const;
const SGR = /\x1b\[([0-9;]*)m/g;

/**
 * Colour still open at the end of each line, so a cell's lines can each be closed and reopened:
 * a table line must not leave its colour on the border or the next cell.
 */
function openColour(line: string, open: string): string {
  for (const m of line.matchAll(SGR)) open = m[1] === '' || m[1] === '0' ? '' : open + m[0];
  return open;
}

/**
 * Box-drawn rows whose cells already fit their column (FitTable.toString shapes them): one padded
 * line per cell line, a rule between rows. Drawn here rather than by a table package because the
 * one used before re-measured every cell on every line it drew, quadratically in a cell's length
 * when it held any non-ASCII character: ~130 ms for a 10-hit `rag query` table of SciFact passages.
 */
function drawTable(rows: string[][], widths: number[], color: boolean): string {
  const border = (s: string) => (color ? `\x1b[90m${s}\x1b[39m` : s);
  const rule = ([left, mid, right]: readonly string[]) => border(left + widths.map((w) => '─'.repeat(w)).join(mid) + right);
  const out = [rule(RULES.top)];
  rows.forEach((row, r) => {
    if (r > 0) out.push(rule(RULES.mid));
    const cells = row.map((c) => {
      let open = '';
      return c.split('\n').map((line) => {
        const text = open + line;
        open = openColour(line, open);
        return open ? `${text}\x1b[0m` : text;
      });
    });
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let l = 0; l < height; l++) {
      const parts = cells.map((c, j) => {
        // A wide character in a one-cell column cannot fit: cut it, as a line longer than its column is.
        const line = c[l] ?? '';
        const inner = widths[j]! - 2;
        const w = displayWidth(line);
        const text = w > inner ? truncate(line, inner) : line;
        const padded = ` ${text}${' '.repeat(Math.max(0, inner - (text === line ? w : displayWidth(text))))} `;
        return r === 0 && color ? `\x1b[36m${padded}\x1b[39m` : padded;
      });
      out.push(border('│') + parts.join(border('│')) + border('│'));
    }
  });
  out.push(rule(RULES.bottom));
  return out.join('\n');
}

/**
 * Column widths (padding included) that fit `total` columns of output: the widest column gives
 * way first, one cell at a time, so narrow columns (numbers, flags) keep their natural width.
 */
export function fitWidths(natural: number[], total: number, mins: number[], keep: boolean[] = []): number[] {
  const widths = [...natural];
  const borders = widths.length + 1;
  let excess = widths.reduce((a, b) => a + b, 0) + borders - total;
  // Floors: each column's minimum; then only kept columns whole; then anything down to one character.
  for (const floor of [mins, mins.map((m, i) => (keep[i] ? m : 3)), mins.map(() => 3)]) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  return widths;
}

/**
 * A table in the house style (plain when piped, coloured on a terminal) that fits the terminal:
 * cells are wrapped (or cut with `…` in `fit.truncate` columns) so no line passes the right edge.
 * `colWidths`, when given, caps a column's width.
 */
export class FitTable {
  private readonly rows: string[][] = [];
  constructor(private readonly head: string[], private readonly options: TableOptions = {}) {}

  push(...rows: unknown[][]): number {
    // A tab's width depends on where it lands on the line: one space keeps the columns straight.
    for (const r of rows) this.rows.push(r.map((c) => (c === null || c === undefined ? '' : String(c).replaceAll('\t', ' '))));
    return this.rows.length;
  }

  get length(): number {
    return this.rows.length;
  }

  /** Which columns are shown, and how wide, at the target width. */
  private layout(): { cols: number[]; widths: number[] } {
    const { fit, colWidths } = this.options;
    const width = fit && 'width' in fit ? fit.width : terminalWidth();
    const cellW = (text: string) => Math.max(0, ...text.split('\n').map(displayWidth));
    const natural = this.head.map((h, i) => {
      const w = Math.max(cellW(h), ...this.rows.map((r) => cellW(r[i] ?? ''))) + 2;
      const cap = colWidths?.[i];
      return typeof cap === 'number' && cap > 0 ? Math.min(w, cap) : w;
    });
    const keep = new Set(fit?.keep ?? []);
    // A column keeps its longest word whole (up to 16 cells; at least 8 or its header's first word) before
    // words are broken; kept columns keep all of it.
    const longestWord = (i: number) => Math.max(0, ...[this.head[i]!, ...this.rows.map((r) => r[i] ?? '')].flatMap((c) => c.split(/\s+/)).map(displayWidth));
    const cut = new Set(fit?.truncate ?? []);
    const mins = this.head.map((h, i) => {
      if (keep.has(i)) return natural[i]!;
      const word = cut.has(i) ? 0 : Math.min(16, longestWord(i));
      return Math.min(natural[i]!, Math.max(8, displayWidth(h.split(/\s/)[0] ?? ''), word) + 2);
    });
    let cols = this.head.map((_, i) => i);
    const overflow = (c: number[]) => c.reduce((a, i) => a + mins[i]!, 0) + c.length + 1 > (width ?? Infinity);
    for (const d of fit?.drop ?? []) if (width && overflow(cols)) cols = cols.filter((i) => i !== d);
    const widths = width ? fitWidths(cols.map((i) => natural[i]!), width, cols.map((i) => mins[i]!), cols.map((i) => keep.has(i))) : cols.map((i) => natural[i]!);
    return { cols, widths };
  }

  toString(): string {
    const { cols, widths } = this.layout();
    const cellW = (text: string) => Math.max(0, ...text.split('\n').map(displayWidth));
    const cut = new Set(this.options.fit?.truncate ?? []);
    const shape = (text: string, j: number) => {
      const inner = widths[j]! - 2;
      if (cellW(text) <= inner) return text;
      return cut.has(cols[j]!) ? text.split('\n').map((l) => truncate(l, inner)).join('\n') : wrapText(text, inner);
    };
    const rows = [this.head, ...this.rows].map((r) => cols.map((i, j) => shape(r[i] ?? '', j)));
    return drawTable(rows, widths, this.options.color ?? useColor());
  }

  /** Header names of the columns shown at this width (for a note when some were left out). */
  droppedColumns(): string[] {
    const { cols } = this.layout();
    return this.head.filter((_, i) => !cols.includes(i));
  }
}

export function makeTable(head: string[], extra: TableOptions = {}): FitTable {
  return new FitTable(head, extra);
}
