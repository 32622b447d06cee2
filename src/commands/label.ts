import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { resolveCaller } from '../engine/acl.js';
import { InputError, UsageError } from '../engine/errors.js';
import { parseQueriesFile } from '../engine/evaluation/goldens.js';
import { sha256, stableHash } from '../engine/hash.js';
import { Retriever } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';
import { importInto } from '../engine/labeling/import.js';
import { decideGolden, Journal, journalPathFor, verdictOf, type JudgmentUnit, type LabelEvent, type QueryInfo } from '../engine/labeling/journal.js';
import { availableSystems, poolCandidates, type PoolCandidate } from '../engine/labeling/pool.js';
import { computeStats, labelStats, type LabelStats } from '../engine/labeling/stats.js';
import { makeTable, useColor } from '../render/table.js';
import { queryTerms, snippet, termSpans } from '../render/highlight.js';
import { callerOptions } from './query.js';
import { contextFrom, intOption, resolveRerank, type Context } from './context.js';

interface LabelOpts {
  golden?: string;
  queries?: string;
  labeler?: string;
  poolDepth?: number;
  index?: string;
  unit?: JudgmentUnit;
  seed?: string;
  rerank?: string | boolean;
  import?: string;
  adjudicate?: boolean;
  as?: string[];
  tenant?: string;
  profile?: string;
}

export const GRADE_SCALE: readonly string[] = [
  'not relevant',
  'related / marginal',
  'relevant',
  'highly relevant: answers it',
];

export function registerLabel(program: Command): void {
  const cmd = program
    .command('label')
    .description('grade pooled search results for golden queries in the terminal (one key per grade); every grade is saved at once')
    .option('--golden <file>', 'golden set to label into (rag JSONL; created if missing)')
    .option('--queries <file>', 'queries to label: JSONL {"id","query"} or TSV id<TAB>text (default: the golden set\'s queries, else type them in)')
    .option('--labeler <name>', 'who is grading (default: $RAG_LABELER, $USER)')
    .option('--pool-depth <n>', 'top N of each retrieval system to pool', intOption('--pool-depth', 1, 1000), 10)
    .option('--index <name>', 'index name')
    .addOption(new Option('--unit <unit>', 'judge documents (shown by their best passage) or single chunks').choices(['doc', 'chunk']).default('doc'))
    .option('--seed <text>', 'seed of the candidate order (same seed → same order)', 'rag-label')
    .option('--rerank [id]', 'also pool a reranked list (default reranker: the configured one)')
    .option('--no-rerank', 'do not pool a reranked list even if the config names a reranker')
    .option('--adjudicate', 'grade only the items labelers disagree on, seeing their grades; your grade decides the golden one')
    .option('--import <file>', 'merge judgments from a CSV or JSONL file instead of labeling (works without a terminal)');
  callerOptions(cmd)
    .addHelpText(
      'after',
      `
Keys: 0 1 2 3 grade · s skip · u or b undo (back) · n note · q quit
Scale: 0 ${GRADE_SCALE[0]} · 1 ${GRADE_SCALE[1]} · 2 ${GRADE_SCALE[2]} · 3 ${GRADE_SCALE[3]}

Examples:
  $ rag label --golden goldens/support.jsonl --labeler alice
  $ rag label --golden goldens/support.jsonl --queries new-queries.tsv --pool-depth 5 --as group:support
  $ rag label --golden goldens/support.jsonl --import grades.csv   # columns: qid,query,doc_id,grade,labeler,note
  $ rag label stats --golden goldens/support.jsonl
  $ rag label --golden goldens/support.jsonl --adjudicate --labeler lead

Every key press is written to <golden>.labels.jsonl and flushed to disk before the next candidate
shows; the golden file is rewritten from it (so \`rag eval --golden FILE\` reads it directly).
Quit any time (q, Ctrl+C, or closing the terminal); run the same command again to resume.
Candidates are the top N of every retrieval system the index supports (bm25; vector and hybrid
when it has vectors; reranked when a reranker is set), merged and shuffled so you cannot tell
which system found what. You see only what your principals (--as) may see.`,
    )
    .action(async (opts: LabelOpts, c: Command) => {
      const ctx = contextFrom(c);
      if (!opts.golden) throw new UsageError('--golden is required', 'pass the golden file to label into, e.g. --golden goldens/mine.jsonl (created if missing)');
      if (!opts.import && (!process.stdin.isTTY || !process.stdout.isTTY)) {
        throw new UsageError(
          '`rag label` is interactive and needs a terminal (stdin/stdout is not a TTY)',
          'run it in a terminal; to merge judgments made elsewhere use `rag label --golden FILE --import grades.csv`',
        );
      }
      const labeler = resolveLabeler(opts.labeler);
      if (opts.import) return runImport(ctx, opts, labeler);
      await runSession(ctx, opts, labeler);
    });

  program
    .commands.find((x) => x.name() === 'label')!
    .command('stats')
    .description('labeling progress per labeler, inter-annotator agreement (Cohen\'s kappa, Krippendorff\'s alpha) and the disagreements to adjudicate')
    .option('--golden <file>', 'golden file being labeled (its journal is <file>.labels.jsonl)')
    .option('--journal <file>', 'the journal itself')
    .option('--show <n>', 'disagreements to list', intOption('--show', 0), 20)
    .option('--min-spread <n>', 'list items whose grades differ by at least this much', intOption('--min-spread', 1, 3), 1)
    .addHelpText('after', `
Examples:
  $ rag label stats --golden goldens/support.jsonl
  $ rag label stats --journal goldens/support.jsonl.labels.jsonl --json`)
    .action((_opts: unknown, c: Command) => {
      const ctx = contextFrom(c);
      // `--golden` may be taken by the parent `label` command's own option: read both levels.
      const opts = c.optsWithGlobals<{ golden?: string; journal?: string; show: number; minSpread: number }>();
      const journalPath = opts.journal ?? (opts.golden ? journalPathFor(opts.golden) : undefined);
      if (!journalPath) throw new UsageError('--golden or --journal is required', 'e.g. rag label stats --golden goldens/mine.jsonl');
      const stats = labelStats(journalPath, { minSpread: opts.minSpread });
      if (ctx.json) return ctx.emit(stats);
      printStats(ctx, stats, opts.show);
    });
}

function resolveLabeler(name: string | undefined): string {
  const labeler = (name ?? process.env.RAG_LABELER ?? process.env.USER ?? process.env.USERNAME ?? '').trim();
  if (!labeler) throw new UsageError('no labeler name', 'pass --labeler NAME (or set RAG_LABELER)');
  if (/[\s]/.test(labeler)) throw new UsageError(`labeler name "${labeler}" contains spaces`, 'use a short name such as alice or a.smith');
  return labeler;
}

function runImport(ctx: Context, opts: LabelOpts, labeler: string): void {
  const journal = Journal.open(opts.golden!);
  for (const n of journal.notices) ctx.notice(n);
  const state = journal.state();
  const known = new Map<string, string>();
  for (const q of state.base.queries) known.set(q.id, q.text);
  for (const q of state.queries.values()) if (!known.has(q.id)) known.set(q.id, q.text);
  const res = importInto(journal, opts.import!, { labeler: opts.labeler ?? labeler, knownQueries: known });
  const m = journal.materialize();
  if (ctx.json) return ctx.emit({ imported: res.added, unchanged: res.unchanged, notes: res.notes, golden: opts.golden, journal: journal.path, ...m });
  ctx.print(`imported ${res.added} grade(s) from ${opts.import} (${res.unchanged} unchanged, ${res.notes} note(s)); ${opts.golden} now has ${m.judgments} judgments for ${m.queries} queries`);
}

// ─── the interactive session ──────────────────────────────────────────────────────────────────

type Action = { kind: 'grade'; grade: number } | { kind: 'skip' } | { kind: 'undo' } | { kind: 'note' } | { kind: 'quit' };

const KEY_ACTIONS: Record<string, Action> = {
  '0': { kind: 'grade', grade: 0 },
  '1': { kind: 'grade', grade: 1 },
  '2': { kind: 'grade', grade: 2 },
  '3': { kind: 'grade', grade: 3 },
  s: { kind: 'skip' },
  u: { kind: 'undo' },
  b: { kind: 'undo' },
  n: { kind: 'note' },
  q: { kind: 'quit' },
};

/** The terminal UI, loaded only for an interactive session (inquirer is slow to import). */
async function loadUi() {
  const { createPrompt, useKeypress, useState, isEnterKey } = await import('@inquirer/core');
  const { input } = await import('@inquirer/prompts');
  /** One key, one action: no Enter needed. Unknown keys just show the key help again. */
  const keyPrompt = createPrompt<Action, { screen: string; footer: string }>((config, done) => {
    const [hint, setHint] = useState('');
    useKeypress((key, rl) => {
      const action = KEY_ACTIONS[key.name];
      rl.clearLine(0);
      if (action) done(action);
      else if (!isEnterKey(key)) setHint(`"${key.name ?? '?'}" is not a key here`);
    });
    return [`${config.screen}\n${config.footer}${hint ? `  (${hint})` : ''}`, undefined];
  });
  return { keyPrompt, input };
}

interface QueueItem {
  query: QueryInfo;
  candidates?: PoolCandidate[];
}

async function runSession(ctx: Context, opts: LabelOpts, labeler: string): Promise<void> {
  const { keyPrompt, input } = await loadUi();
  const journal = Journal.open(opts.golden!);
  for (const n of journal.notices) ctx.notice(n);
  journal.materialize();
  const store = await ctx.openStore(false);
  const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name, ctx.notice);
  const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
  const reranker = resolveRerank(opts.rerank, ctx.config);
  const systems = availableSystems({ hasVectors: retriever.hasVectors, reranker });
  const manifestHash = stableHash({ ...retriever.manifest, createdAt: undefined, updatedAt: undefined });
  const unit: JudgmentUnit = opts.unit ?? 'doc';

  const disputed = opts.adjudicate ? disputedItems(journal) : undefined;
  const queue: QueueItem[] = disputed ? [...disputed.queries.values()].map((query) => ({ query })) : initialQueue(journal, opts.queries);
  if (disputed && queue.length === 0) {
    ctx.print('nothing to adjudicate: no open disagreements in the journal');
    return;
  }
  const typedMode = queue.length === 0;
  const history: { qi: number; key: string }[] = [];
  let flash = retriever.hasVectors ? '' : 'index has no vectors: pooling BM25 only';
  let graded = 0;
  let qi = 0;
  let undone: { key: string; grade: number | null } | undefined;
  let quit = false;

  const pool = async (item: QueueItem) => {
    item.candidates ??= await poolCandidates(retriever, item.query.text, {
      depth: opts.poolDepth ?? 10, caller, systems, unit, seed: opts.seed ?? 'rag-label', qid: item.query.id, reranker,
    });
    if (disputed) item.candidates = item.candidates.filter((c) => disputed.grades.has(`${item.query.id}\u0000${c.key}`));
    return item.candidates;
  };
  const event = (type: LabelEvent['type'], q: QueryInfo, c: PoolCandidate, extra: Partial<LabelEvent> = {}): LabelEvent => ({
    type, qid: q.id, query: q.text, doc_id: c.docId, chunk_id: c.chunkId, unit, labeler,
    at: new Date().toISOString(), index_manifest_hash: manifestHash,
    ...(caller.principals.some((p) => p !== 'public') ? { as: caller.principals } : {}),
    ...(caller.tenant !== ctx.config.tenant.default ? { tenant: caller.tenant } : {}),
    ...(disputed && type !== 'note' ? { adjudicated: true } : {}),
    ...extra,
  });

  try {
    while (!quit) {
      if (qi >= queue.length) {
        if (!typedMode) break;
        process.stdout.write('\x1b[2J\x1b[3J\x1b[H');
        process.stdout.write(`rag label · ${labeler} · as ${caller.principals.join(', ')} @ ${caller.tenant} · ${graded} graded this session\n`);
        if (flash) process.stdout.write(`» ${flash}\n`);
        flash = '';
        let text = '';
        try {
          text = (await input({ message: 'Query to label (Enter on an empty line to finish):' })).trim();
        } catch (err) {
          if ((err as Error).name !== 'ExitPromptError') throw err;
          quit = true;
        }
        if (!text) break;
        queue.push({ query: typedQuery(journal, text) });
      }
      const item = queue[qi]!;
      const candidates = await pool(item);
      const state = journal.state();
      const pending = (c: PoolCandidate) => {
        const v = verdictOf(state, labeler, item.query.id, c.key);
        return !v || (disputed !== undefined && !v.adjudicated);
      };
      const ci = candidates.findIndex(pending);
      if (ci < 0) {
        flash = candidates.length === 0
          ? `no results for "${item.query.text}" as ${caller.principals.join(', ')}: nothing to label`
          : `all ${candidates.length} candidates for "${item.query.text}" are judged`;
        qi++;
        continue;
      }
      const cand = candidates[ci]!;
      const judgedHere = candidates.filter((c) => !pending(c)).length;
      const screen = renderCandidate({
        labeler, caller, queryIndex: qi + 1, queryCount: typedMode ? undefined : queue.length, query: item.query,
        candidateIndex: ci + 1, candidateCount: candidates.length, judged: judgedHere, cand,
        previous: undone && undone.key === `${item.query.id}\u0000${cand.key}` ? undone.grade : undefined,
        flash, graded, others: disputed?.grades.get(`${item.query.id}\u0000${cand.key}`),
      });
      flash = '';
      let action: Action;
      try {
        process.stdout.write('\x1b[2J\x1b[3J\x1b[H');
        action = await keyPrompt({ screen, footer: footerLine() }, { clearPromptOnDone: true });
      } catch (err) {
        if ((err as Error).name === 'ExitPromptError') action = { kind: 'quit' };
        else throw err;
      }
      undone = undefined;
      switch (action.kind) {
        case 'grade':
          journal.append(event('grade', item.query, cand, { grade: action.grade }));
          history.push({ qi, key: cand.key });
          graded++;
          journal.materialize();
          break;
        case 'skip':
          journal.append(event('skip', item.query, cand));
          history.push({ qi, key: cand.key });
          break;
        case 'undo': {
          const last = history.pop();
          if (!last) {
            flash = 'nothing to undo in this session';
            break;
          }
          const q = queue[last.qi]!;
          const c = q.candidates!.find((x) => x.key === last.key)!;
          const before = verdictOf(journal.state(), labeler, q.query.id, c.key);
          journal.append(event('undo', q.query, c));
          if (before?.grade !== null && before?.grade !== undefined) graded--;
          undone = { key: `${q.query.id}\u0000${c.key}`, grade: before?.grade ?? null };
          qi = last.qi;
          journal.materialize();
          flash = `undone: ${before?.grade === null ? 'skip' : `grade ${before?.grade}`} — grade it again`;
          break;
        }
        case 'note': {
          let text = '';
          try {
            text = (await input({ message: `Note on ${cand.key} (Enter to save, empty to cancel):` })).trim();
          } catch (err) {
            if ((err as Error).name !== 'ExitPromptError') throw err;
          }
          if (text) {
            journal.append(event('note', item.query, cand, { note: text }));
            journal.materialize();
            flash = 'note saved';
          }
          break;
        }
        case 'quit':
          quit = true;
          break;
      }
    }
  } finally {
    const m = journal.materialize();
    process.stdout.write('\n');
    ctx.print(
      `${quit ? 'stopped' : 'done'}: ${graded} grade(s) this session by ${labeler}; ${opts.golden} has ${m.judgments} judgments for ${m.queries} queries` +
        (quit ? ' — run the same command to resume' : ''),
    );
    ctx.print(`journal: ${journal.path}`);
  }
}

/** Open disagreements (any spread), grouped by query: what `--adjudicate` walks through. */
function disputedItems(journal: Journal): { queries: Map<string, QueryInfo>; grades: Map<string, Record<string, number>> } {
  const stats = computeStats(journal.state(), journal.path);
  const queries = new Map<string, QueryInfo>();
  const grades = new Map<string, Record<string, number>>();
  for (const d of stats.disagreements) {
    if (!queries.has(d.qid)) queries.set(d.qid, { id: d.qid, text: d.query });
    grades.set(`${d.qid}\u0000${d.key}`, d.grades);
  }
  return { queries, grades };
}

function initialQueue(journal: Journal, queriesFile: string | undefined): QueueItem[] {
  if (queriesFile) {
    let text: string;
    try {
      text = readFileSync(queriesFile, 'utf8');
    } catch {
      throw new InputError(queriesFile, undefined, 'queries file not found', 'give a JSONL ({"id","query"}) or TSV (id<TAB>text) file');
    }
    return parseQueriesFile(text, queriesFile).map((q) => ({ query: { id: q.id, text: q.text } }));
  }
  const state = journal.state();
  const out: QueueItem[] = [];
  const seen = new Set<string>();
  for (const q of decideGolden(state).queries) {
    seen.add(q.id);
    out.push({ query: { id: q.id, text: q.text, principals: q.principals, tenant: q.tenant } });
  }
  for (const q of state.queries.values()) if (!seen.has(q.id)) out.push({ query: q });
  return out;
}

function typedQuery(journal: Journal, text: string): QueryInfo {
  const state = journal.state();
  for (const q of [...decideGolden(state).queries, ...state.queries.values()]) if (q.text === text) return { id: q.id, text };
  return { id: `q-${sha256(text).slice(0, 8)}`, text };
}

function footerLine(): string {
  return 'Keys: 0-3 grade · s skip · u/b undo (back) · n note · q quit  > ';
}

interface CandidateView {
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

// ─── stats rendering ──────────────────────────────────────────────────────────────────────────

function printStats(ctx: Context, s: LabelStats, show: number): void {
  ctx.print(`journal: ${s.journal}`);
  ctx.print(`${s.items} judged items (query × ${'document or chunk'}) across ${s.queries} queries; ${s.labelers.length} labeler(s)`);
  const t = makeTable(['labeler', 'graded', 'skipped', 'notes', 'queries', 'coverage', 'last activity']);
  for (const l of s.labelers) {
    t.push([l.labeler, String(l.graded), String(l.skipped), String(l.notes), String(l.queries), `${(l.coverage * 100).toFixed(0)}%`, l.lastAt ?? '—']);
  }
  ctx.print(t.toString());
  const a = s.agreement;
  if (!a) {
    ctx.print('agreement: needs at least two labelers grading the same items');
    return;
  }
  ctx.print(`agreement on ${a.items} item(s) graded by ${a.method === 'cohen-kappa' ? 'both labelers' : 'two or more labelers'}:`);
  ctx.print(`  percent agreement ${fmt(a.percentAgreement)}`);
  if (a.kappa !== undefined) ctx.print(`  Cohen's kappa ${fmt(a.kappa)} · weighted (quadratic) kappa ${fmt(a.weightedKappa)}`);
  if (a.alpha !== undefined) ctx.print(`  Krippendorff's alpha (ordinal) ${fmt(a.alpha)}`);
  if (a.alphaInterval !== undefined) ctx.print(`  Krippendorff's alpha (interval) ${fmt(a.alphaInterval)}`);
  if (s.disagreements.length === 0) {
    ctx.print('no disagreements');
    return;
  }
  ctx.print(`${s.disagreements.length} disagreement(s) to adjudicate${s.disagreements.length > show ? ` (first ${show}; --show N for more, --json for all)` : ''}:`);
  if (show === 0) return;
  const d = makeTable(['qid', 'judged', 'grades', 'golden now', 'query']);
  for (const x of s.disagreements.slice(0, show)) {
    d.push([x.qid, x.key, Object.entries(x.grades).map(([l, g]) => `${l}=${g}`).join(' '), String(x.golden), x.query.slice(0, 50)]);
  }
  ctx.print(d.toString());
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(3);
}

