import type { Block, ChunkDraft, ChunkerConfig, ParsedDocument } from '../types.js';
import { estimateTokens } from './tokens.js';

/**
 * Defaults sized for small embedders: MiniLM reads 256 word pieces, bge/e5 read 512. Chunks
 * target 256 estimated tokens (the estimate runs ~0–8% high, see tokens.ts), so they fit even
 * the smaller window; a code block or table stays whole up to 512, the larger window, beyond
 * which it is cut at line breaks like any long block.
 */
export const DEFAULT_CHUNKER: ChunkerConfig = { maxTokens: 256, overlapTokens: 32, hardMaxTokens: 512 };

interface Span {
  start: number;
  end: number;
}

interface Atom extends Span {
  tokens: number;
}

interface Pending extends Span {
  tokens: number;
  headingPath: string[];
  page?: number;
  sectionKey: string;
  /** False while the chunk holds only headings: those never stand alone (see chunkDocument). */
  hasBody: boolean;
}

/**
 * Cuts a document into chunks, structure first:
 * 1. Consecutive blocks of one heading section (same heading path) are packed into a chunk up
 *    to maxTokens; a heading starts a new chunk; a chunk never spans two PDF pages.
 * 2. Merge rule: a chunk holding only headings (e.g. "# Billing" directly followed by
 *    "## Invoices") is not emitted alone; it continues into the following section, because a
 *    heading without its text answers nothing. Sections with text are never merged, so every
 *    chunk cites one section.
 * 3. A block over maxTokens (atomic code/table blocks: over hardMaxTokens) is cut at sentence
 *    ends (lines, for atomic blocks), then at whitespace, then inside a word as a last resort;
 *    consecutive pieces overlap by about overlapTokens, aligned to a sentence when one fits.
 * Every chunk's text is exactly doc.text.slice(charStart, charEnd), with no surrounding
 * whitespace; its heading path is that of its first block.
 */
export function chunkDocument(doc: ParsedDocument, cfg: ChunkerConfig = DEFAULT_CHUNKER): ChunkDraft[] {
  const text = doc.text;
  const maxTokens = Math.max(1, Math.floor(cfg.maxTokens));
  const hardMax = Math.max(maxTokens, Math.floor(cfg.hardMaxTokens));
  const overlap = Math.max(0, Math.min(Math.floor(cfg.overlapTokens), Math.floor(maxTokens / 2)));

  const blocks = usableBlocks(doc);
  const spans: (Span & { headingPath: string[]; page?: number })[] = [];
  let cur: Pending | null = null;
  const flush = () => {
    if (cur) spans.push({ start: cur.start, end: cur.end, headingPath: cur.headingPath, page: cur.page });
    cur = null;
  };

  for (const b of blocks) {
    const tokens = estimateTokens(text.slice(b.start, b.end));
    const isHeading = b.kind === 'heading';
    const key = JSON.stringify(b.headingPath);
    const limit = b.atomic ? hardMax : maxTokens;
    const c = cur as Pending | null;
    const headingOnly = c !== null && !c.hasBody && c.page === b.page;

    if (c && c.page === b.page && (headingOnly || (!isHeading && key === c.sectionKey))) {
      if (c.tokens + tokens <= (headingOnly ? limit : maxTokens)) {
        c.end = b.end;
        c.tokens += tokens;
        c.sectionKey = key;
        c.hasBody ||= !isHeading;
        continue;
      }
    }

    const needsCut = tokens > limit || (headingOnly && !b.atomic && c!.tokens + tokens > maxTokens);
    if (needsCut) {
      // Carry a pending heading into the first piece, unless it would crowd out the text.
      const prefix = headingOnly && c!.tokens <= maxTokens / 4 ? c : null;
      if (!prefix) flush();
      const budget = maxTokens - (prefix?.tokens ?? 0);
      const pieces = splitSpan(text, b.start, b.end, budget, Math.min(overlap, Math.floor(budget / 2)), !!b.atomic);
      pieces.forEach((p, i) => {
        const start = i === 0 && prefix ? prefix.start : p.start;
        spans.push({ start, end: p.end, headingPath: i === 0 && prefix ? prefix.headingPath : b.headingPath, page: b.page });
      });
      cur = null;
      continue;
    }

    flush();
    cur = { start: b.start, end: b.end, tokens, headingPath: b.headingPath, page: b.page, sectionKey: key, hasBody: !isHeading };
  }
  flush();

  const drafts: ChunkDraft[] = [];
  const ocrBlocks = blocks.filter((b) => b.ocr);
  for (const s of spans) {
    const { start, end } = trimSpan(text, s.start, s.end);
    if (end <= start) continue;
    const chunkText = text.slice(start, end);
    const draft: ChunkDraft = {
      ordinal: drafts.length,
      text: chunkText,
      headingPath: [...s.headingPath],
      charStart: start,
      charEnd: end,
      tokens: estimateTokens(chunkText),
    };
    if (s.page !== undefined) draft.page = s.page;
    if (ocrBlocks.some((b) => b.start < end && b.end > start)) draft.ocr = true;
    drafts.push(draft);
  }
  return drafts;
}

/** Blocks in order, clamped to the text and trimmed; the whole text when a connector gave none. */
function usableBlocks(doc: ParsedDocument): Block[] {
  const text = doc.text;
  if (!text.trim()) return [];
  const out: Block[] = [];
  const sorted = [...doc.blocks].sort((a, b) => a.start - b.start);
  let lastEnd = 0;
  for (const b of sorted) {
    const s = trimSpan(text, Math.max(b.start, lastEnd), Math.min(b.end, text.length));
    if (s.end <= s.start) continue;
    out.push({ ...b, start: s.start, end: s.end });
    lastEnd = s.end;
  }
  if (out.length === 0) {
    const s = trimSpan(text, 0, text.length);
    out.push({ start: s.start, end: s.end, kind: 'paragraph', headingPath: [] });
  }
  return out;
}

function trimSpan(text: string, start: number, end: number): Span {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return { start, end };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x3000;
}

/**
 * Sentence ends (prose) or line ends (code, tables): the preferred places to cut. Chinese and
 * Japanese end sentences with 。！？ (and closing brackets) and no space after them.
 */
const SENTENCE_END = /[.!?…]+["'’”)\]]*\s+|[。！？]+[」』”’）)]*\s*|\n\s*/g;
const LINE_END = /\n/g;
/** A word: a run of non-space characters, except that each CJK character is a word of its own. */
const WORD = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]|[^\s\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]+/gu;

/** Spans of [start, end) that end at a separator match, trimmed. */
function segments(text: string, start: number, end: number, sep: RegExp): Span[] {
  const slice = text.slice(start, end);
  const out: Span[] = [];
  let from = 0;
  sep.lastIndex = 0;
  for (let m = sep.exec(slice); m; m = sep.exec(slice)) {
    if (m[0].length === 0) {
      sep.lastIndex++;
      continue;
    }
    const s = trimSpan(text, start + from, start + m.index + m[0].length);
    if (s.end > s.start) out.push(s);
    from = m.index + m[0].length;
  }
  const last = trimSpan(text, start + from, end);
  if (last.end > last.start) out.push(last);
  return out;
}

/** Pieces of at most `limit` tokens: sentences (or lines), then words, then character windows. */
function atomsOf(text: string, start: number, end: number, limit: number, atomic: boolean): Atom[] {
  const atoms: Atom[] = [];
  for (const seg of segments(text, start, end, atomic ? LINE_END : SENTENCE_END)) {
    const tokens = estimateTokens(text.slice(seg.start, seg.end));
    if (tokens <= limit) {
      atoms.push({ ...seg, tokens });
      continue;
    }
    for (const w of wordsOf(text, seg)) {
      const wt = estimateTokens(text.slice(w.start, w.end));
      if (wt <= limit) atoms.push({ ...w, tokens: wt });
      else atoms.push(...charWindows(text, w.start, w.end, limit));
    }
  }
  return atoms;
}

/** Whitespace-separated words of a span. */
function wordsOf(text: string, span: Span): Span[] {
  const out: Span[] = [];
  const slice = text.slice(span.start, span.end);
  WORD.lastIndex = 0;
  for (let m = WORD.exec(slice); m; m = WORD.exec(slice)) out.push({ start: span.start + m.index, end: span.start + m.index + m[0].length });
  return out;
}

/** Last resort for a "word" longer than a chunk (base64, minified code): fixed windows. */
function charWindows(text: string, start: number, end: number, limit: number): Atom[] {
  const out: Atom[] = [];
  let s = start;
  while (s < end) {
    let e = Math.min(end, s + limit * 4);
    let t = estimateTokens(text.slice(s, e));
    while (t > limit && e - s > 1) {
      e = s + Math.max(1, Math.floor(((e - s) * limit) / t));
      t = estimateTokens(text.slice(s, e));
    }
    // Never cut a UTF-16 surrogate pair in half.
    if (e < end && e - s > 1 && /[\ud800-\udbff]/.test(text[e - 1])) e--;
    out.push({ start: s, end: e, tokens: t });
    s = e;
  }
  return out;
}

/** Cuts one oversized span into pieces of ≤ budget tokens, consecutive pieces overlapping. */
function splitSpan(text: string, start: number, end: number, budget: number, overlap: number, atomic: boolean): Span[] {
  const atoms = atomsOf(text, start, end, Math.max(1, budget - overlap), atomic);
  const pieces: Span[] = [];
  let i = 0;
  let carryStart: number | null = null;
  let carryTokens = 0;
  while (i < atoms.length) {
    const pStart = carryStart ?? atoms[i].start;
    let tokens = carryTokens;
    let j = i;
    while (j < atoms.length && (j === i || tokens + atoms[j].tokens <= budget)) tokens += atoms[j++].tokens;
    const pEnd = atoms[j - 1].end;
    pieces.push({ start: pStart, end: pEnd });
    carryStart = null;
    carryTokens = 0;
    if (j < atoms.length && overlap > 0) {
      const ov = overlapStart(text, atoms, i, j, pStart, pEnd, overlap);
      if (ov !== null) {
        carryStart = ov;
        carryTokens = estimateTokens(text.slice(ov, pEnd));
      }
    }
    i = j;
  }
  return pieces;
}

/**
 * Where the next piece should start so it repeats about `overlap` tokens of this piece's tail:
 * at a sentence start when that keeps at least half the overlap, else at a word start.
 */
function overlapStart(text: string, atoms: Atom[], i: number, j: number, pStart: number, pEnd: number, overlap: number): number | null {
  const words = wordsOf(text, { start: pStart, end: pEnd });
  let acc = 0;
  let wordStart: number | null = null;
  for (let w = words.length - 1; w >= 1; w--) {
    acc += estimateTokens(text.slice(words[w].start, words[w].end));
    if (acc > overlap) break;
    wordStart = words[w].start;
  }
  if (wordStart === null) return null;
  for (let k = i + 1; k < j; k++) {
    if (atoms[k].start >= wordStart) {
      const t = estimateTokens(text.slice(atoms[k].start, pEnd));
      return t * 2 >= overlap ? atoms[k].start : wordStart;
    }
  }
  return wordStart;
}
