/**
 * The frames of the label session, as lines that fit a terminal size exactly: the candidate
 * (status, passage pager, grade scale, keys), the whole document with the judged passage marked,
 * help with the guidelines, the review lists and the one-line text prompt. Pure: the session owns
 * the state and the terminal, these only lay it out.
 */
import type { Caller } from '../engine/types.js';
import type { QueryInfo } from '../engine/labeling/journal.js';
import type { PoolCandidate } from '../engine/labeling/pool.js';
import { GRADES } from '../engine/labeling/scale.js';
import type { RenderedLine } from '../render/terminal-markdown.js';
import { paint, runsWidth, S, textWidth, truncateRuns, wrapItems, wrapRuns, type Line, type Run } from '../render/terminal-text.js';
import type { Size } from './terminal.js';

/** Every key of the candidate screen, with what it does: the `?` screen and `rag label --help` print this. */
export const KEY_HELP: readonly (readonly [string, string])[] = [
  ['0 1 2 3', 'grade the passage (see the grade scale)'],
  ['s', 'skip: seen, not graded (not shown again)'],
  ['u or b', 'undo your latest grade or skip, also one from an earlier session, and grade it again'],
  ['n', 'add a note to this candidate (kept in the golden file\'s notes)'],
  ['d', 'the whole document, the judged passage marked; Esc comes back'],
  ['r', 'review: pick a query, then a passage, to change its grade'],
  ['↑ ↓ PgUp PgDn space', 'scroll a passage longer than the screen'],
  ['?', 'this help, the grade scale and the project\'s guidelines'],
  ['q or Ctrl+C', 'quit; run the same command again to resume'],
];

/** The short legend at the bottom of the candidate screen. */
const KEY_LEGEND = ['0-3 grade', 's skip', 'u undo', 'n note', 'd document', 'r review', '? help', 'q quit'];

export interface CandidateView {
  labeler: string;
  caller: Caller;
  /** Show the caller in the status line (it is not the default one). */
  showCaller: boolean;
  queryIndex: number;
  queryCount?: number;
  query: QueryInfo;
  /** 1-based position in the query's pool, or undefined for an item revisited from outside the pool. */
  candidateIndex?: number;
  candidateCount: number;
  /** This labeler's current grades and skips on this query. */
  queryTally: { graded: number; skipped: number };
  /** This labeler's current grades and skips in the whole journal. */
  totalTally: { graded: number; skipped: number };
  sessionGraded: number;
  cand: PoolCandidate;
  /** The labeler's current verdict when revisiting (review) or the withdrawn one (undo). */
  previous?: { grade: number | null; how: 'undone' | 'current' };
  /** Adjudication only: what each labeler gave (labelers never see each other's grades otherwise). */
  others?: Record<string, number>;
  flash: string;
}

const t = (text: string, style = 0): Run => ({ text, style });

function rule(width: number, label = ''): Line {
  if (!label) return [t('─'.repeat(width), S.dim)];
  const text = `── ${label} `;
  return [t(text + '─'.repeat(Math.max(0, width - text.length)), S.dim)];
}

function scrollLabel(top: number, budget: number, total: number): string {
  if (total <= budget) return '';
  const end = Math.min(total, top + budget);
  return `lines ${top + 1}–${end} of ${total}${end < total ? ' · ↓ more' : ''}`;
}

/** Clamps a scroll offset to the body it scrolls. */
export function clampScroll(top: number, budget: number, total: number): number {
  return Math.max(0, Math.min(top, total - budget));
}

/** Head, a scrolled window of the body, tail: exactly as many lines as fit. */
export interface Frame {
  lines: string[];
  /** Body lines that fit: the page size for PgUp/PgDn. */
  budget: number;
  /** The scroll offset actually used (clamped to the body). */
  top: number;
}

function frame(head: Line[], body: readonly string[], top: number, tail: Line[], size: Size, color: boolean): Frame {
  const budget = Math.max(1, size.rows - head.length - tail.length);
  const window = body.slice(top, top + budget);
  const lines = [...head.map((l) => paint(l, color)), ...window];
  while (lines.length < size.rows - tail.length) lines.push('');
  lines.push(...tail.map((l) => paint(l, color)));
  return { lines: lines.slice(0, size.rows), budget, top };
}

function gradeLegend(width: number, roomy: boolean): Line[] {
  if (roomy) {
    return GRADES.flatMap((g) => wrapRuns([t(`${g.grade} ${g.label}`, S.bold), t(` — ${g.definition}`)], width, [], [t('    ')]));
  }
  const items = GRADES.map((g) => [t(String(g.grade), S.bold), t(` ${g.label}`)]);
  items[0]!.unshift(t('Grade: '));
  return wrapItems(items, width);
}

function keyLegend(width: number, extra: string[] = []): Line[] {
  return wrapItems([[t('Keys:', S.bold), t(` ${KEY_LEGEND[0]}`)], ...KEY_LEGEND.slice(1).map((k) => [t(k)]), ...extra.map((k) => [t(k, S.dim)])], width);
}

function statusLine(v: CandidateView, width: number): Line[] {
  const items: Run[][] = [
    [t('rag label', S.bold)],
    [t(v.labeler)],
    [t(`${v.sessionGraded} graded this session`)],
    [t(`${v.totalTally.graded} graded · ${v.totalTally.skipped} skipped in all`)],
  ];
  if (v.showCaller) items.push([t(`as ${v.caller.principals.join(', ')} @ ${v.caller.tenant}`)]);
  return wrapItems(items, width);
}

/** The candidate screen. `passage` is rendered for `passageWidth(size)`. */
export function candidateFrame(v: CandidateView, passage: readonly RenderedLine[], top: number, size: Size, color: boolean): Frame {
  const width = size.columns;
  const c = v.cand;
  const where = c.page ? `page ${c.page}` : c.headingPath.join(' › ');
  const position = v.candidateIndex !== undefined ? `Candidate ${v.candidateIndex}/${v.candidateCount}` : `Revisiting (not in this pool of ${v.candidateCount})`;
  const head: Line[] = [
    ...statusLine(v, width),
    ...wrapRuns([t(`Query ${v.queryIndex}${v.queryCount ? `/${v.queryCount}` : ''} [${v.query.id}]: `), t(v.query.text, S.bold)], width).slice(0, 3),
    truncateRuns([t(`${position} · this query: ${v.queryTally.graded} graded · ${v.queryTally.skipped} skipped`)], width),
    truncateRuns([t('Title:   '), t(c.title || c.docId, S.bold)], width),
    truncateRuns([t(`Source:  ${c.source}${where ? ` · ${where}` : ''}`)], width),
  ];
  const tail: Line[] = [];
  if (v.others) tail.push(...wrapRuns([t(`Labelers: ${Object.entries(v.others).map(([l, g]) => `${l} gave ${g}`).join(' · ')} — your grade decides`)], width));
  if (v.previous) {
    const was = v.previous.grade === null ? 'skipped' : `grade ${v.previous.grade}`;
    tail.push(...wrapRuns([t(v.previous.how === 'undone' ? `You had: ${was} (undone) — grade it again` : `You gave: ${was} — a new grade replaces it`, S.bold)], width));
  }
  if (v.flash) tail.push(...wrapRuns([t(`» ${v.flash}`, S.bold)], width));
  const roomy = size.rows >= 40;
  const legend = gradeLegend(width, roomy);
  const paging = passage.length > Math.max(1, size.rows - head.length - tail.length - legend.length - 4);
  const keys = keyLegend(width, paging ? ['↑↓ PgUp PgDn scroll'] : []);
  // Rules are the first thing to go on a short screen; the query, the grades and the keys never go.
  let upper: Line[] = [rule(width)];
  let lower: Line[] = [rule(width)];
  const fixed = head.length + tail.length + legend.length + keys.length;
  if (size.rows - fixed - 2 < 3) {
    upper = [];
    lower = [];
  }
  const budget = Math.max(1, size.rows - fixed - upper.length - lower.length);
  const top2 = clampScroll(top, budget, passage.length);
  if (lower.length) lower = [rule(width, scrollLabel(top2, budget, passage.length))];
  else if (passage.length > budget) tail.unshift([t(scrollLabel(top2, budget, passage.length), S.dim)]);
  return frame([...head, ...upper], passage.map((l) => l.text), top2, [...lower, ...legend, ...tail, ...keys], size, color);
}

/** Width passages are rendered at: the screen, capped so prose lines stay readable on huge terminals. */
export function passageWidth(size: Size): number {
  return Math.min(size.columns, 160);
}

/** The whole document: marked lines carry a bar in the gutter. */
export function documentFrame(
  doc: { title: string; source: string; page?: number },
  body: readonly RenderedLine[],
  top: number,
  size: Size,
  color: boolean,
): Frame {
  const width = size.columns;
  const head: Line[] = [
    truncateRuns([t('Document: ', S.bold), t(doc.title, S.bold)], width),
    truncateRuns([t(`Source:   ${doc.source}${doc.page ? ` · the passage is on page ${doc.page}` : ''}`)], width),
  ];
  const keys = wrapItems(['↑↓ PgUp PgDn scroll', 'g/G top/end', 'c the passage', 'Esc back to grading', '0-3 grade'].map((k) => [t(k)]), width);
  const budget = Math.max(1, size.rows - head.length - keys.length - 2);
  const top2 = clampScroll(top, budget, body.length);
  const marked = body.filter((l) => l.marked).length;
  const label = `${scrollLabel(top2, budget, body.length) || `${body.length} lines`}${marked ? ' · ┃ marks the judged passage' : ''}`;
  const gutter = (l: RenderedLine) => (l.marked ? paint([t('┃ ', S.mark)], color) : '  ') + l.text;
  return frame([...head, rule(width)], body.map(gutter), top2, [rule(width, label), ...keys], size, color);
}

/** Width a document is rendered at: the screen minus the gutter. */
export function documentWidth(size: Size): number {
  return Math.min(size.columns, 162) - 2;
}

/**
 * Help: keys, the grade scale with its definitions and the guidelines, scrollable together. At the
 * start of a session the guidelines come first (that is what the labeler should read then).
 */
export function helpBody(width: number, guidelines: readonly RenderedLine[] | undefined, guidelinesFile: string | undefined, color: boolean, guidelinesFirst = false): string[] {
  const keys: Line[] = [[t('Keys', S.bold)]];
  const keyWidth = Math.max(...KEY_HELP.map(([k]) => k.length)) + 2;
  for (const [k, what] of KEY_HELP) keys.push(...wrapRuns([t(what)], width, [t(k.padEnd(keyWidth), S.bold)], [t(' '.repeat(keyWidth))]));
  const scale: Line[] = [[t('Grade scale', S.bold)]];
  for (const g of GRADES) scale.push(...wrapRuns([t(`${g.grade} ${g.label}`, S.bold), t(` — ${g.definition}`)], width, [], [t('    ')]));
  const own = (lines: Line[]) => lines.map((l) => paint(l, color));
  const guide = guidelines
    ? [...own([[t(`Guidelines (${guidelinesFile})`, S.bold)], []]), ...guidelines.map((l) => l.text)]
    : own(wrapRuns([t('No project guidelines: write them in Markdown and pass --guidelines FILE, set label.guidelines in rag.config.json, or save them beside the golden file as <golden>.guidelines.md.', S.dim)], width));
  return guidelinesFirst ? [...guide, '', ...own(scale), '', ...own(keys)] : [...own(keys), '', ...own(scale), '', ...guide];
}

/** A titled, scrollable text screen (help, guidelines at start). */
export function textFrame(title: string, body: readonly string[], top: number, keys: string[], size: Size, color: boolean): Frame {
  const width = size.columns;
  const head: Line[] = [truncateRuns([t(title, S.bold)], width), rule(width)];
  const keyLines = wrapItems(keys.map((k) => [t(k)]), width);
  const budget = Math.max(1, size.rows - head.length - keyLines.length - 1);
  const top2 = clampScroll(top, budget, body.length);
  return frame(head, body, top2, [rule(width, scrollLabel(top2, budget, body.length)), ...keyLines], size, color);
}

export interface ListRow {
  /** Short left column (grade, count). */
  mark: string;
  text: string;
}

/** A selectable list (review): the selected row is highlighted and kept in view. */
export function listFrame(title: string, hint: string, rows: readonly ListRow[], selected: number, size: Size, color: boolean): string[] {
  const width = size.columns;
  const head: Line[] = [truncateRuns([t(title, S.bold)], width), ...wrapRuns([t(hint, S.dim)], width), rule(width)];
  const keys = wrapItems(['↑↓ select', 'Enter open', 'Esc back'].map((k) => [t(k)]), width);
  const budget = Math.max(1, size.rows - head.length - keys.length - 1);
  const top = clampScroll(selected - Math.floor(budget / 2), budget, rows.length);
  const markWidth = Math.max(1, ...rows.map((r) => r.mark.length));
  const body = rows.map((r, i) => {
    const pointer = i === selected ? '› ' : '  ';
    const line = truncateRuns([t(pointer), t(r.mark.padEnd(markWidth), S.bold), t(`  ${r.text}`)], width);
    return paint(i === selected ? line.map((x) => ({ ...x, style: x.style | S.reverse })) : line, color);
  });
  return frame(head, body.length ? body : [paint([t('(nothing here yet)', S.dim)], color)], top, [rule(width, scrollLabel(top, budget, rows.length)), ...keys], size, color).lines;
}

/** Replaces the bottom of a frame with a one-line prompt and the text typed so far. */
export function promptFrame(under: readonly string[], label: string, buffer: string, size: Size, color: boolean, hint = 'Enter save · Esc cancel'): string[] {
  const width = size.columns;
  const labelRuns = truncateRuns([t(label, S.bold)], Math.floor(width / 2));
  const room = Math.max(2, width - runsWidth(labelRuns) - 2);
  const shown = textWidth(buffer) >= room ? `…${[...buffer].slice(-(room - 2)).join('')}` : buffer;
  const prompt = paint([...labelRuns, t(' '), t(shown), t('█')], color);
  const help = paint(truncateRuns([t(hint, S.dim)], width), color);
  const lines = under.slice(0, Math.max(0, size.rows - 3));
  while (lines.length < size.rows - 3) lines.push('');
  return [...lines, paint(rule(width), color), prompt, help];
}
