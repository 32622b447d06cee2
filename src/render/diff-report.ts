/**
 * How `rag diff-eval` shows a comparison: a terminal summary (one row per metric, then the
 * queries that moved most) and a Markdown report meant to be pasted as a pull-request comment.
 */
import type { DiffResult, DocMove, MetricDiff, Mover } from '../engine/evaluation/diff.js';
import { describeDifferences } from '../engine/evaluation/diff.js';
import { fitText, makeTable } from './table.js';

export const METRIC_HEADERS = ['metric', 'A', 'B', 'Δ', 'Δ%', '95% CI of Δ', 'p (perm)', 'p (t)', 'p Holm', 'W/T/L'];

const num = (x: number) => x.toFixed(4);
/** Float noise (e.g. −1e-17 from summing the same values in another order) is shown as no change. */
const NOISE = 1e-12;
const sign = (x: number) => (x > NOISE ? '+' : x < -NOISE ? '−' : '±');
// No change is "0", not "±0.0000": nothing moved, and a sign would suggest it did.
const signed = (x: number) => (Math.abs(x) <= NOISE ? '0' : `${sign(x)}${Math.abs(x).toFixed(4)}`);

export function formatP(p: number): string {
  if (p >= 0.0001 || p === 0) return p === 0 ? '0' : p.toFixed(4);
  return p.toExponential(1);
}

function relPct(m: MetricDiff): string {
  if (m.rel_delta === null) return '—';
  const pct = m.rel_delta * 100;
  return `${sign(m.rel_delta)}${Math.abs(pct).toFixed(1)}%`;
}

function ci(m: MetricDiff): string {
  return `[${signed(m.ci.lower)}, ${signed(m.ci.upper)}]`;
}

/** One row per metric; `*` marks a difference significant after Holm correction. */
export function metricRows(result: DiffResult): string[][] {
  return result.metrics.map((m) => [
    m.metric,
    num(m.mean_a),
    num(m.mean_b),
    signed(m.delta),
    relPct(m),
    ci(m),
    formatP(m.p_permutation),
    formatP(m.p_t_test),
    `${formatP(m.p_adjusted)}${m.p_adjusted < result.settings.alpha ? ' *' : ''}`,
    `${m.wins}/${m.ties}/${m.losses}`,
  ]);
}

function docCell(moves: readonly DocMove[], side: 'entered' | 'left', limit: number): string {
  if (moves.length === 0) return '—';
  // Relevant documents first: they are usually why the metric moved.
  const ordered = [...moves.filter((d) => (d.rel ?? 0) > 0), ...moves.filter((d) => !((d.rel ?? 0) > 0))];
  const shown = ordered.slice(0, limit).map((d) => {
    const here = side === 'entered' ? d.rank_b : d.rank_a;
    const there = side === 'entered' ? d.rank_a : d.rank_b;
    const other = side === 'entered' ? 'A' : 'B';
    const rel = d.rel !== undefined ? ` rel=${d.rel}` : '';
    return `${d.doc_id} @${here} (${other} ${there === null ? 'not retrieved' : `@${there}`})${rel}`;
  });
  if (moves.length > limit) shown.push(`+${moves.length - limit} more`);
  return shown.join('\n');
}

/** Where the judged-relevant documents sit in A and in B: `doc 17→1`. */
function relevantCell(moves: readonly DocMove[], limit: number): string {
  if (moves.length === 0) return '—';
  const at = (r: number | null) => (r === null ? '∅' : String(r));
  const shown = moves.slice(0, limit).map((d) => `${d.doc_id} ${at(d.rank_a)}→${at(d.rank_b)}`);
  if (moves.length > limit) shown.push(`+${moves.length - limit} more`);
  return shown.join('\n');
}

function clip(text: string | undefined, width: number): string {
  if (!text) return '';
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > width ? `${t.slice(0, width - 1)}…` : t;
}

function header(result: DiffResult, code = (s: string) => s): string[] {
  const lines = [
    `A: ${code(result.a.path)} (${result.a.label})  →  B: ${code(result.b.path)} (${result.b.label})`,
    `${result.queries.paired} paired queries · golden set ${result.a.golden_hash.slice(0, 12)}…` +
      (result.same_golden_set ? '' : ` vs ${result.b.golden_hash.slice(0, 12)}… (DIFFERENT golden sets, compared with --force)`),
  ];
  if (result.queries.only_in_a.length || result.queries.only_in_b.length) {
    lines.push(`not paired: ${result.queries.only_in_a.length} queries only in A, ${result.queries.only_in_b.length} only in B`);
  }
  return lines;
}

function methodNote(result: DiffResult): string {
  const s = result.settings;
  const n = result.queries.paired;
  const perm = result.metrics.some((m) => !m.permutation_exact) ? `${s.iterations} random sign flips` : `all 2^${n} sign flips (exact)`;
  return `Δ = B − A. CI: paired bootstrap, ${s.iterations} resamples. p (perm): two-sided paired randomization test, ${perm}; ` +
    `p (t): paired t-test. p Holm: permutation p, Holm–Bonferroni-adjusted over ${result.metrics.length} metric${result.metrics.length === 1 ? '' : 's'}; ` +
    `the gate uses it (alpha ${s.alpha}). Seed ${s.seed}. W/T/L: queries where B wins/ties/loses.`;
}

/**
 * What the set can detect: the minimum detectable effect per metric, and a warning when the test
 * can never reach alpha at all (then "not significant" says nothing).
 */
export function powerNotes(result: DiffResult): string[] {
  const s = result.settings;
  const m = result.metrics.length;
  const mde = result.metrics.map((x) => `${x.metric} ${x.mde === null ? '—' : x.mde.toFixed(4)}`).join(' · ');
  const notes = [`Power: smallest |Δ| detected with ${Math.round(s.power * 100)}% power (paired t, alpha ${s.alpha}${m > 1 ? `/${m}` : ''}): ${mde}.`];
  // Only metrics that moved: with no query changed there is nothing the test missed.
  const blind = result.metrics.filter((x) => x.min_p >= s.alpha && x.wins + x.losses > 0);
  if (blind.length) {
    notes.push(
      `Underpowered: with ${result.queries.paired} paired queries the test can never reach alpha ${s.alpha} on ` +
        `${blind.map((x) => `${x.metric} (smallest possible p ${formatP(x.min_p)})`).join(', ')}: "not significant" says nothing here. ` +
        `A gated drop beyond its allowance ${s.underpowered === 'fail' ? 'fails' : 'only warns (--underpowered warn)'}.`,
    );
  }
  return notes;
}

/** The human summary for a terminal. */
export function diffTerminal(result: DiffResult): string {
  const out: string[] = [...header(result)];
  if (result.differences.length) {
    out.push('', 'What changed (A → B):', ...describeDifferences(result.differences).map((l) => `  ${l}`));
  }
  // Narrow terminals: numbers stay whole; the CI wraps and the secondary columns go first.
  const table = makeTable(METRIC_HEADERS, { fit: { keep: [0, 1, 2, 3, 4, 6, 7, 8, 9], drop: [7, 4, 6, 9] } });
  for (const row of metricRows(result)) table.push(row);
  const dropped = table.droppedColumns();
  out.push('', table.toString(), `* significant at alpha ${result.settings.alpha} after Holm correction`);
  if (dropped.length) out.push(`(left out to fit the terminal: ${dropped.join(', ')}; see --json or a wider terminal)`);
  out.push(methodNote(result), ...powerNotes(result));

  const mv = result.movers;
  for (const [title, list] of [
    [`Improved most (${mv.metric})`, mv.improved],
    [`Regressed most (${mv.metric})`, mv.regressed],
  ] as const) {
    out.push('', `${title}:`);
    if (list.length === 0) {
      out.push('  none');
      continue;
    }
    const head = ['query', 'A', 'B', 'Δ', 'text'];
    if (mv.rankings) head.push('relevant: rank A→B', `entered top ${mv.k}`, `left top ${mv.k}`);
    const t = makeTable(head, { fit: { keep: [0, 1, 2, 3], truncate: [4], drop: [1, 2] } });
    for (const m of list) t.push(moverRow(m, mv.rankings));
    out.push(t.toString());
    if (t.droppedColumns().length) out.push(`(left out to fit the terminal: ${t.droppedColumns().join(', ')})`);
  }
  if (mv.rankings && mv.improved.length + mv.regressed.length > 0) out.push(`relevant: judged-relevant documents, rank in A → rank in B (∅ = not retrieved). @r: rank; rel: judged grade.`);
  else out.push('', '(run.trec missing on one side: documents that entered or left the top k are not shown)');
  // The gate verdict lines are printed by the command, like every gate's.
  return fitText(out.join('\n'));
}

function moverRow(m: Mover, rankings: boolean): string[] {
  const row = [m.qid, num(m.a), num(m.b), signed(m.delta), clip(m.text, 40)];
  if (rankings) row.push(relevantCell(m.relevant, 3), docCell(m.entered, 'entered', 3), docCell(m.left, 'left', 3));
  return row;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');

/** The Markdown report (report.md): suitable as a pull-request comment. */
export function diffMarkdown(result: DiffResult): string {
  const L: string[] = [];
  L.push(`## rag diff-eval: \`${result.b.path}\` (B) vs \`${result.a.path}\` (A)`, '');
  if (result.gate) {
    const failed = result.gate.results.filter((r) => !r.passed);
    L.push(failed.length ? `**Gate failed** (${failed.map((r) => `\`${r.rule.source}\``).join(', ')})` : '**Gate passed**', '');
    for (const r of result.gate.results) L.push(`- ${r.passed ? (r.warning ? '**warning**' : 'passed') : '**failed**'} \`${r.rule.source}\`: ${r.message}`);
    L.push('');
  }
  // Two trailing spaces: a Markdown line break.
  L.push(...header(result, (s) => `\`${s}\``).map((l) => `${l}  `), '');
  L.push(`| ${METRIC_HEADERS.join(' | ')} |`, `|${METRIC_HEADERS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of metricRows(result)) {
    const cells = row.map(mdCell);
    if (cells[8].endsWith(' *')) cells[8] = `**${cells[8].slice(0, -2)}**`;
    L.push(`| ${cells.join(' | ')} |`);
  }
  L.push('', `Bold p Holm: significant at alpha ${result.settings.alpha}. ${methodNote(result)}`, '', ...powerNotes(result).flatMap((n) => [n, '']));

  if (result.differences.length) {
    L.push('<details><summary>What changed between A and B</summary>', '', '| field | A | B |', '|---|---|---|');
    for (const d of result.differences) L.push(`| ${mdCell(d.field)} | ${mdCell(d.a)} | ${mdCell(d.b)} |`);
    L.push('', '</details>', '');
  }

  const mv = result.movers;
  for (const [title, list] of [
    [`Queries that improved most (${mv.metric})`, mv.improved],
    [`Queries that regressed most (${mv.metric})`, mv.regressed],
  ] as const) {
    L.push(`### ${title}`, '');
    if (list.length === 0) {
      L.push('None.', '');
      continue;
    }
    const head = ['query', 'A', 'B', 'Δ', 'text'];
    if (mv.rankings) head.push('relevant: rank A→B', `entered top ${mv.k}`, `left top ${mv.k}`);
    L.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const m of list) {
      const row = [m.qid, num(m.a), num(m.b), signed(m.delta), clip(m.text, 100)];
      if (mv.rankings) row.push(relevantCell(m.relevant, 10), docCell(m.entered, 'entered', 10), docCell(m.left, 'left', 10));
      L.push(`| ${row.map(mdCell).join(' | ')} |`);
    }
    L.push('');
  }
  return L.join('\n');
}
