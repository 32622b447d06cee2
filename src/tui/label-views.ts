/**
 * The views of the label session: what each screen draws (through label-screen.ts) and what each
 * key does there. A view keeps its own scroll position and re-renders for whatever size the
 * terminal has now, so a resize is just another draw.
 */
import type { DocumentView } from '../engine/search/documents.js';
import type { PoolCandidate } from '../engine/labeling/pool.js';
import { queryTerms } from '../render/highlight.js';
import { formatOf, renderPassage, type RenderedLine } from '../render/terminal-markdown.js';
import {
  candidateFrame, documentFrame, documentWidth, listFrame, passageWidth, promptFrame, textFrame, type CandidateView, type ListRow,
} from './label-screen.js';
import type { Key, Size, View } from './terminal.js';

export type Action =
  | { kind: 'grade'; grade: number }
  | { kind: 'skip' | 'undo' | 'note' | 'document' | 'review' | 'help' | 'quit' };

const KEY_ACTIONS: Record<string, Action> = {
  '0': { kind: 'grade', grade: 0 },
  '1': { kind: 'grade', grade: 1 },
  '2': { kind: 'grade', grade: 2 },
  '3': { kind: 'grade', grade: 3 },
  s: { kind: 'skip' },
  u: { kind: 'undo' },
  b: { kind: 'undo' },
  n: { kind: 'note' },
  d: { kind: 'document' },
  r: { kind: 'review' },
  '?': { kind: 'help' },
  q: { kind: 'quit' },
};

/** The new scroll offset for a paging key, or undefined when the key does not scroll. */
function scrollBy(key: Key, top: number, page: number): number | undefined {
  switch (key.name) {
    case 'down':
    case 'j':
      return top + 1;
    case 'up':
    case 'k':
      return top - 1;
    case 'pagedown':
    case 'space':
      return top + Math.max(1, page - 1);
    case 'pageup':
      return top - Math.max(1, page - 1);
    case 'home':
    case 'g':
      return 0;
    case 'end':
    case 'G':
      return Number.MAX_SAFE_INTEGER;
    default:
      return undefined;
  }
}

const isQuitKey = (k: Key) => k.ctrl === true && (k.name === 'c' || k.name === 'd');

/** Renders `text` once per width: parsing Markdown on every key press would be wasted work. */
export class RenderCache {
  private width = -1;
  private lines: RenderedLine[] = [];
  constructor(private readonly make: (width: number) => RenderedLine[]) {}
  at(width: number): RenderedLine[] {
    if (width !== this.width) {
      this.lines = this.make(width);
      this.width = width;
    }
    return this.lines;
  }
}

export class CandidateScreen implements View<Action> {
  private top = 0;
  private page = 1;
  private readonly passage: RenderCache;
  constructor(private readonly v: CandidateView, color: boolean, private readonly paint: boolean) {
    const terms = queryTerms(v.query.text);
    this.passage = new RenderCache((width) =>
      renderPassage(v.cand.text, { width, color, terms, format: formatOf(v.cand.connector), headings: v.cand.headingPath }),
    );
  }
  render(size: Size): string[] {
    const f = candidateFrame(this.v, this.passage.at(passageWidth(size)), this.top, size, this.paint);
    this.top = f.top;
    this.page = f.budget;
    return f.lines;
  }
  onKey(key: Key): Action | undefined {
    if (isQuitKey(key)) return { kind: 'quit' };
    const action = KEY_ACTIONS[key.name];
    if (action) return action;
    const top = scrollBy(key, this.top, this.page);
    if (top !== undefined) this.top = top;
    else if (key.name !== 'return') this.v.flash = `"${key.ch ?? key.name}" is not a key here — ? shows them all`;
    return undefined;
  }
}

export type DocAction = { kind: 'back' } | { kind: 'grade'; grade: number };

export class DocumentScreen implements View<DocAction> {
  private top: number | undefined;
  private page = 1;
  private readonly body: RenderCache;
  constructor(private readonly doc: DocumentView, private readonly cand: PoolCandidate, query: string, color: boolean, private readonly paint: boolean) {
    const terms = queryTerms(query);
    this.body = new RenderCache((width) =>
      renderPassage(doc.text, { width, color, terms, format: formatOf(doc.connector), headings: cand.headingPath, mark: [cand.charStart, cand.charEnd] }),
    );
  }
  private passageTop(lines: readonly RenderedLine[]): number {
    return Math.max(0, lines.findIndex((l) => l.marked) - 2);
  }
  render(size: Size): string[] {
    const lines = this.body.at(documentWidth(size));
    this.top ??= this.passageTop(lines);
    const f = documentFrame({ title: this.doc.title || this.doc.doc_id, source: this.doc.source, page: this.cand.page }, lines, this.top, size, this.paint);
    this.top = f.top;
    this.page = f.budget;
    return f.lines;
  }
  onKey(key: Key): DocAction | undefined {
    if (['escape', 'return', 'backspace', 'd', 'q'].includes(key.name) || isQuitKey(key)) return { kind: 'back' };
    if (/^[0-3]$/.test(key.name)) return { kind: 'grade', grade: Number(key.name) };
    if (key.name === 'c') {
      this.top = undefined;
      return undefined;
    }
    const top = scrollBy(key, this.top ?? 0, this.page);
    if (top !== undefined) this.top = top;
    return undefined;
  }
}

export class TextScreen implements View<'back' | 'quit'> {
  private top = 0;
  private page = 1;
  constructor(
    private readonly title: string,
    private readonly body: (width: number) => string[],
    private readonly keys: string[],
    private readonly paint: boolean,
    private readonly backKeys: string[],
  ) {}
  render(size: Size): string[] {
    const f = textFrame(this.title, this.body(size.columns), this.top, this.keys, size, this.paint);
    this.top = f.top;
    this.page = f.budget;
    return f.lines;
  }
  onKey(key: Key): 'back' | 'quit' | undefined {
    if (isQuitKey(key) || key.name === 'q') return 'quit';
    if (this.backKeys.includes(key.name)) return 'back';
    const top = scrollBy(key, this.top, this.page);
    if (top !== undefined) this.top = top;
    return undefined;
  }
}

export class ListScreen implements View<number | 'back'> {
  private selected = 0;
  constructor(private readonly title: string, private readonly hint: string, private readonly rows: ListRow[], private readonly paint: boolean, initial = 0) {
    this.selected = Math.max(0, Math.min(initial, rows.length - 1));
  }
  render(size: Size): string[] {
    return listFrame(this.title, this.hint, this.rows, this.selected, size, this.paint);
  }
  onKey(key: Key): number | 'back' | undefined {
    if (['escape', 'backspace', 'q', 'r'].includes(key.name) || isQuitKey(key)) return 'back';
    if (key.name === 'return' && this.rows.length) return this.selected;
    const page = 10;
    const next = scrollBy(key, this.selected, page);
    if (next !== undefined) this.selected = Math.max(0, Math.min(this.rows.length - 1, next));
    return undefined;
  }
}

export class InputScreen implements View<string | null> {
  private buffer = '';
  constructor(
    private readonly under: (size: Size) => string[],
    private readonly label: string,
    private readonly paint: boolean,
    private readonly hint?: string,
  ) {}
  render(size: Size): string[] {
    return promptFrame(this.under(size), this.label, this.buffer, size, this.paint, this.hint);
  }
  onKey(key: Key): string | null | undefined {
    if (key.name === 'return') return this.buffer.trim();
    if (key.name === 'escape' || isQuitKey(key)) return null;
    if (key.name === 'backspace') this.buffer = [...this.buffer].slice(0, -1).join('');
    else if (key.ctrl && key.name === 'u') this.buffer = '';
    else if (key.ch) this.buffer += key.ch;
    else if (key.name === 'space') this.buffer += ' ';
    return undefined;
  }
}

