import type { Caller } from '../engine/types.js';
import type { QueryInfo } from '../engine/labeling/journal.js';
import type { PoolCandidate } from '../engine/labeling/pool.js';
import { GRADE_SCALE } from '../engine/labeling/scale.js';
import { useColor } from '../render/table.js';
import { queryTerms, snippet, termSpans } from '../render/highlight.js';

export interface CandidateView {
  labeler: string;
  caller: Caller;
  queryIndex: number;
  queryCount?: number;
  query: QueryInfo;
  candidateIndex: number;
  candidateCount: number;
  judged: number;
  cand: PoolCandidate;
  previous?: number | null;
  /** Adjudication only: what each labeler gave (labelers never see each other's grades otherwise). */
  others?: Record<string, number>;
  flash: string;
  graded: number;
}

/** The candidate screen, sized to the terminal so it never scrolls (re-rendering needs that). */
export function renderCandidate(v: CandidateView, columns = process.stdout.columns || 100, rows = process.stdout.rows || 30): string {
  const color = useColor();
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  const mark = (s: string) => (color ? `\x1b[1;33m${s}\x1b[0m` : `*${s}*`);
  const width = Math.max(40, Math.min(columns, 160) - 2);
  const rule = dim('─'.repeat(width));
  const where = v.cand.page ? `page ${v.cand.page}` : v.cand.headingPath.join(' › ') || '—';
  const head = [
    `rag label · ${v.labeler} · as ${v.caller.principals.join(', ')} @ ${v.caller.tenant} · ${v.graded} graded this session`,
    `Query ${v.queryIndex}${v.queryCount ? `/${v.queryCount}` : ''} [${v.query.id}]: ${bold(v.query.text)}`,
    `Candidate ${v.candidateIndex}/${v.candidateCount} (${v.judged} already judged for this query)`,
    rule,
    `Title:   ${bold(v.cand.title || v.cand.docId)}`,
    `Source:  ${v.cand.source}`,
    `${v.cand.page ? 'Page:    ' : 'Section: '}${where}`,
    rule,
  ];
  const tail = [
    rule,
    `Grade:   0 ${GRADE_SCALE[0]} · 1 ${GRADE_SCALE[1]} · 2 ${GRADE_SCALE[2]} · 3 ${GRADE_SCALE[3]}`,
    v.others ? `Labelers: ${Object.entries(v.others).map(([l, g]) => `${l} gave ${g}`).join(' · ')} — your grade decides` : '',
    v.previous !== undefined ? `You had: ${v.previous === null ? 'skipped' : `grade ${v.previous}`} (undone)` : '',
    v.flash ? `» ${v.flash}` : '',
  ].filter((l, i) => i < 2 || l);
  const budget = Math.max(3, rows - head.length - tail.length - 3);
  const terms = queryTerms(v.query.text);
  const window = snippet(v.cand.text, terms, Math.floor(budget * width * 0.85), (s) => s);
  const lines = wrap(window, width).slice(0, budget);
  const passage = lines.map((l) => highlight(l, terms, mark));
  return [...head, ...passage, ...tail].join('\n');
}

function highlight(line: string, terms: string[], mark: (s: string) => string): string {
  let out = '';
  let pos = 0;
  for (const [s, e] of termSpans(line, terms)) {
    out += line.slice(pos, s) + mark(line.slice(s, e));
    pos = e;
  }
  return out + line.slice(pos);
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line) out.push(line);
  return out;
}

export function footerLine(): string {
  return 'Keys: 0-3 grade · s skip · u/b undo (back) · n note · q quit  > ';
}
