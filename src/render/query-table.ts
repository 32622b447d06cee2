import { queryTerms, snippet } from './highlight.js';
import { fitText, makeTable, terminalWidth, useColor } from './table.js';

/** The fields of a `queryResultJson` answer the terminal view shows. */
interface QueryAnswer {
  query: string;
  mode: string;
  index: string;
  caller: { principals: string[]; tenant: string };
  timings: { total_ms: number };
  results: { rank: number; score: number; title: string; source: string; page: number | null; heading_path: string[]; text: string; findings: { rule_id: string; severity: string }[] }[];
}

/** The terminal to draw for: its width (undefined: none, output piped) and whether it shows colour. */
export interface TerminalView {
  width: number | undefined;
  color: boolean;
}

/**
 * The terminal view of a search answer: a table with highlighted snippets and a one-line summary.
 * Drawn from the JSON answer, so an in-process search and one answered by `rag serve` print alike
 * (the daemon draws it for the client's `view`; in-process it is this process's terminal).
 */
export function renderQueryTable(
  json: Record<string, unknown>,
  rerank: string | null,
  explanation?: string | null,
  view: TerminalView = { width: terminalWidth(), color: useColor() },
): string {
  const r = json as unknown as QueryAnswer;
  const who = `${r.caller.principals.join(', ')}`;
  if (r.results.length === 0) return `no results for "${r.query}" (searched as ${who} in tenant ${r.caller.tenant})${explanation ? `: ${explanation}` : ''}`;
  const terms = queryTerms(r.query);
  const { width: columns, color } = view;
  const mark = (s: string) => (color ? `\x1b[1;33m${s}\x1b[0m` : `[${s}]`);
  // The snippet column gets what the terminal leaves after the others (the table fits it).
  const width = Math.max(40, Math.min((columns ?? 170) - 70, 100));
  const table = makeTable(['#', scoreLabel(r.mode, rerank), 'title', 'where', 'snippet'], { colWidths: [0, 0, 24, 28, width + 4], fit: { width: columns, keep: [0, 1] }, color });
  for (const h of r.results) {
    const where = [h.source, h.page ? `p.${h.page}` : h.heading_path.join(' › ')].filter(Boolean).join('\n');
    const warn = h.findings.length ? `\n⚠ ${h.findings.map((f) => `${f.rule_id} (${f.severity})`).join(', ')}` : '';
    table.push([String(h.rank), h.score.toFixed(4), h.title, where, snippet(h.text, terms, width * 2, mark) + warn]);
  }
  return (
    `${table.toString()}\n` +
    fitText(
      `${r.results.length} result${r.results.length === 1 ? '' : 's'} · ${r.mode}${rerank ? ` + rerank (${rerank})` : ''} · index "${r.index}" · ` +
        `${r.timings.total_ms.toFixed(0)} ms · as ${who} @ ${r.caller.tenant}`,
      columns,
    )
  );
}

/** What the score column holds: a BM25 score, a cosine similarity, an RRF sum or a reranker's score. */
export function scoreLabel(mode: string, rerank: string | null): string {
  if (rerank) return 'rerank';
  return mode === 'bm25' ? 'bm25' : mode === 'vector' ? 'cosine' : 'rrf';
}
