import { Command, Option } from 'commander';
import { resolveCaller } from '../engine/acl.js';
import { UsageError } from '../engine/errors.js';
import { Retriever } from '../engine/search/retriever.js';
import { importInto } from '../engine/labeling/import.js';
import { resolveGuidelines } from '../engine/labeling/guidelines.js';
import { Journal, journalPathFor, type JudgmentUnit } from '../engine/labeling/journal.js';
import { scaleLines } from '../engine/labeling/scale.js';
import { labelStats } from '../engine/labeling/stats.js';
import { labelStatsText } from '../render/label-stats.js';
import { KEY_HELP } from '../tui/label-screen.js';
import { callerOptions } from './query.js';
import { contextFrom, intOption, resolveRerank, type Context } from './context.js';
import { registerLabelExport } from './label-export.js';

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
  guidelines?: string;
  as?: string[];
  tenant?: string;
  profile?: string;
}

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
    .option('--guidelines <file>', 'Markdown guidelines shown at the start and on ? (default: label.guidelines in the config, else <golden>.guidelines.md if present)')
    .option('--import <file>', 'merge judgments from a CSV or JSONL file instead of labeling (works without a terminal)');
  callerOptions(cmd)
    .addHelpText(
      'after',
      `
Grade scale:
${scaleLines().map((l) => `  ${l}`).join('\n')}

Keys:
${KEY_HELP.map(([k, what]) => `  ${k.padEnd(21)} ${what}`).join('\n')}

Examples:
  $ rag label --golden goldens/support.jsonl --labeler alice
  $ rag label --golden goldens/support.jsonl --queries new-queries.tsv --pool-depth 5 --as group:support
  $ rag label --golden goldens/support.jsonl --guidelines goldens/support-guide.md
  $ rag label --golden goldens/support.jsonl --import grades.csv   # columns: qid,query,doc_id,grade,labeler,note
  $ rag label stats --golden goldens/support.jsonl
  $ rag label export --golden goldens/support.jsonl --format trec > support.qrels
  $ rag label --golden goldens/support.jsonl --adjudicate --labeler lead

Every key press is written to <golden>.labels.jsonl and flushed to disk before the next candidate
shows; the golden file is rewritten from it (so \`rag eval --golden FILE\` reads it directly).
Quit any time (q, Ctrl+C, or closing the terminal); run the same command again to resume.
Several labelers may label the same golden file at once; a hand edit of the golden file, even
while a session is open, is kept (the judgments it changed stand until graded again).
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
      if (opts.import) return runImport(ctx, opts, defaultLabeler(opts.labeler));
      const labeler = defaultLabeler(opts.labeler);
      if (!labeler) throw new UsageError('no labeler name: --labeler is not given and neither $RAG_LABELER nor $USER is set', 'pass --labeler NAME, e.g. --labeler alice');
      const guidelines = resolveGuidelines({ flag: opts.guidelines, config: ctx.config.label.guidelines, configPath: ctx.configPath, golden: opts.golden });
      const journal = Journal.open(opts.golden, { owner: labeler });
      for (const n of journal.notices) ctx.notice(n);
      const store = await ctx.openStore(false);
      const { runSession } = await import('../tui/label-session.js');
      await runSession({
        journal,
        retriever: await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name),
        caller: resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile }),
        labeler,
        reranker: resolveRerank(opts.rerank, ctx.config),
        golden: opts.golden,
        queries: opts.queries,
        poolDepth: opts.poolDepth ?? 10,
        unit: opts.unit ?? 'doc',
        seed: opts.seed ?? 'rag-label',
        adjudicate: Boolean(opts.adjudicate),
        defaultTenant: ctx.config.tenant.default,
        guidelines,
        print: ctx.print,
      });
    });
  registerLabelExport(cmd);

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
      ctx.print(labelStatsText(stats, opts.show));
    });
}

/** --labeler, else $RAG_LABELER, else the login name; undefined when none is set. */
function defaultLabeler(name: string | undefined): string | undefined {
  const labeler = (name ?? process.env.RAG_LABELER ?? process.env.USER ?? process.env.USERNAME ?? '').trim();
  if (/[\s]/.test(labeler)) throw new UsageError(`labeler name "${labeler}" contains spaces`, 'use a short name such as alice or a.smith');
  return labeler || undefined;
}

function runImport(ctx: Context, opts: LabelOpts, labeler: string | undefined): void {
  const journal = Journal.open(opts.golden!, { owner: labeler ?? 'rag label --import' });
  for (const n of journal.notices) ctx.notice(n);
  const state = journal.state();
  const known = new Map<string, string>();
  for (const q of state.base.queries) known.set(q.id, q.text);
  for (const q of state.queries.values()) if (!known.has(q.id)) known.set(q.id, q.text);
  const res = importInto(journal, opts.import!, { labeler, knownQueries: known });
  const { blocked, merged, ...m } = journal.materialize();
  if (merged) ctx.notice(merged);
  if (blocked) throw new UsageError(blocked);
  if (ctx.json) return ctx.emit({ imported: res.added, unchanged: res.unchanged, notes: res.notes, golden: opts.golden, journal: journal.path, ...m });
  ctx.print(`imported ${res.added} grade(s) from ${opts.import} (${res.unchanged} unchanged, ${res.notes} note(s)); ${opts.golden} now has ${m.judgments} judgments for ${m.queries} queries`);
}

