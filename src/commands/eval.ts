import { Command, Option } from 'commander';
import { makeTable } from '../render/table.js';
import path from 'node:path';
import { resolveCaller } from '../engine/acl.js';
import { EXIT, UsageError } from '../engine/errors.js';
import { EVAL_MARKER, gateValues, RUN_DEPTH, runEval, writeArtifact } from '../engine/evaluation/eval.js';
import { checkGate, evalGateNames, parseGate, type GateOutcome } from '../engine/evaluation/gate.js';
import { loadGoldenSet } from '../engine/evaluation/goldens.js';
import { evaluate } from '../engine/evaluation/metrics.js';
import { assertScorable, readQrels, readTrecRun } from '../engine/evaluation/trec.js';
import { indexFreshness } from '../engine/index/freshness.js';
import { Retriever } from '../engine/search/retriever.js';
import { staleGateError, staleIndexLine } from '../render/freshness.js';
import type { RetrievalMode } from '../engine/types.js';
import { checkOutDir, defaultRunsDir } from '../engine/artifact.js';
import { worstQueries } from '../engine/evaluation/worst.js';
import { evalArtifactFiles } from '../render/eval-artifact.js';
import { fmt, HEADLINE_METRICS } from '../render/report.js';
import { Progress } from '../render/progress.js';
import { callerOptions } from './query.js';
import { contextFrom, intOption, resolveRerank, type Context } from './context.js';

interface EvalOpts {
  golden?: string;
  qrels?: string;
  run?: string;
  split?: string;
  index?: string;
  mode?: RetrievalMode;
  rerank?: string | boolean;
  rerankTopN?: number;
  rrfK?: number;
  candidates?: number;
  k?: string;
  cutoffs?: string;
  out?: string;
  overwrite?: boolean;
  gate?: string;
  as?: string[];
  tenant?: string;
  profile?: string;
  allowMissing?: boolean;
  allowStale?: boolean;
}

function parseKs(s: string | undefined, fallback: number[]): number[] {
  if (!s) return fallback;
  const ks = s.split(',').map((x) => Number(x.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new UsageError(`--cutoffs "${s}" must be a comma-separated list of positive integers`, 'e.g. --cutoffs 1,5,10,100');
  return [...new Set(ks)].sort((a, b) => a - b);
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('score a golden set through the retriever: trec_eval-exact metrics, latency, a reproducible run artifact, and a CI gate')
    .option('--golden <path>', 'golden set: rag JSONL, a BEIR folder, or a queries file (with --qrels)')
    .option('--qrels <file>', 'qrels (TREC or BEIR TSV); with --run, score an external run file like trec_eval')
    .option('--run <file>', 'TREC run file to score (no store needed)')
    .option('--split <name>', 'BEIR qrels split', 'test')
    .option('--index <name>', 'index name')
    .addOption(new Option('--mode <mode>', 'retrieval mode').choices(['hybrid', 'bm25', 'vector']))
    .option('--rerank [id]', 'rerank with a cross-encoder')
    .option('--no-rerank', 'do not rerank even if the config says so')
    .option('--rerank-top-n <n>', 'candidates sent to the reranker', intOption('--rerank-top-n'))
    .option('--rrf-k <n>', 'reciprocal rank fusion constant', intOption('--rrf-k', 0))
    .option('--candidates <n>', 'candidates per search before fusion', intOption('--candidates'))
    .option('--cutoffs <list>', 'cutoffs for @k metrics (default 1,3,5,10,100; config eval.ks)')
    // -k is "number of results" in every command; eval's cutoffs have their own name.
    .addOption(new Option('-k, --k <n>').hideHelp())
    .option('--out <dir>', 'artifact directory (default <db>/runs/<time>-<index>-<mode>; `rag runs` lists them)')
    .option('--overwrite', 'replace --out if it exists')
    .option('--gate <expr>', 'thresholds, e.g. "ndcg@10>=0.62,recall@100>=0.9,p95_ms<=300" (exit 1 when one fails)')
    .option('--allow-missing', 'score even when judged-relevant ids are not in the index or not visible to the query (counted as judged_missing)')
    .option('--allow-stale', 'gate even when the index is behind the chunks (default: refuse, exit 2)');
  callerOptions(cmd).addHelpText(
    'after',
    `
Examples:
  $ rag eval --golden goldens/fixtures.jsonl
  $ rag eval --golden ../datasets/scifact --mode bm25 --out runs/scifact-bm25
  $ rag eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8,p95_ms<=200"
  $ rag eval --qrels qrels.test --run results.test     # score a TREC run, like trec_eval
  $ rag eval --golden goldens/fixtures.jsonl --allow-missing --gate "judged_missing<=2"
  $ rag eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8" --allow-stale

Every query is ranked exactly as \`rag query\` ranks it (the top k of both are the same), ${RUN_DEPTH}
documents deep for the run (trec_eval's convention). Judged-relevant ids the index cannot return
to the query stop the eval (exit 2) unless --allow-missing. Gates are checked before any query runs.
Writes run.trec, metrics.json (byte-identical for identical inputs), manifest.json,
timings.json, queries.json, worst-queries.json, report.md and report.html (+ junit.xml and
gate.json with --gate). Without --out the artifact goes under the store (<db>/runs/; for an
s3:// store, ~/.local/state/rag/runs/s3/<bucket>/<prefix>/) and the path is printed.
Exit 1 when the gate fails. A gate on an index that is behind the chunks (after an ingest, or an
interrupted index) is refused with exit 2 (--allow-stale to gate anyway).`,
  ).action(async (opts: EvalOpts, c: Command) => {
    const ctx = contextFrom(c);
    if (opts.k !== undefined) throw new UsageError('eval has no -k: its cutoffs are --cutoffs', `e.g. rag eval --cutoffs ${opts.k} (in every command, -k is the number of results)`);
    const ks = parseKs(opts.cutoffs, ctx.config.eval.ks);
    const gateExpr = opts.gate ?? ctx.config.eval.gate;
    if (opts.run) return scoreExternalRun(ctx, opts, ks, gateExpr);
    if (!opts.golden) throw new UsageError('--golden is required', 'pass --golden PATH (or --qrels FILE --run FILE to score a run file)');
    // Everything that can be refused is refused before the first query.
    const rules = gateExpr ? parseGate(gateExpr, evalGateNames(ks)) : null;
    if (opts.out) checkOutDir(opts.out, { overwrite: opts.overwrite, marker: EVAL_MARKER });
    const golden = await loadGoldenSet(opts.golden, { qrels: opts.qrels, split: opts.split });
    for (const w of golden.warnings) ctx.notice(w);
    const store = await ctx.openStore(false);
    const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name);
    const freshness = await indexFreshness(store, retriever.manifest);
    if (!freshness.current) {
      if (rules && !opts.allowStale) throw staleGateError(retriever.manifest.name, freshness, ctx.config.index.name);
      ctx.notice(staleIndexLine(retriever.manifest.name, freshness, ctx.config.index.name));
    }
    const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
    const rerank = resolveRerank(opts.rerank, ctx.config);
    const progress = new Progress(ctx.isTTY, 'eval');
    const outcome = await runEval(retriever, ctx.config, golden, {
      mode: opts.mode,
      rerank,
      rerankTopN: opts.rerankTopN,
      rrfK: opts.rrfK,
      candidates: opts.candidates,
      ks,
      caller,
      allowMissing: opts.allowMissing,
      notice: ctx.notice,
      onProgress: (d, t) => progress.update(d, t, 'queries'),
    });
    progress.done();

    const gate = rules ? checkGate(rules, gateValues(outcome)) : null;
    const worst = await worstQueries(retriever, golden, outcome, { caller });
    const { files, defaultDir } = evalArtifactFiles(outcome, golden, { caller, rerank, gate, worst, runsDir: defaultRunsDir(ctx.db) });
    const dir = writeArtifact(opts.out ?? defaultDir, files, { overwrite: opts.overwrite, unique: !opts.out });

    if (ctx.json) {
      ctx.emit({
        artifact: dir, mean: outcome.result.mean, queries: outcome.result.queries, timings: outcome.timings,
        judged_missing: outcome.coverage.missing, gate: gate ?? undefined,
      });
    } else {
      printSummary(ctx, outcome.result.mean, ks, `${outcome.result.queries} queries · ${outcome.retrieval.mode}${rerank ? ` + rerank` : ''} · index "${outcome.retrieval.index}" · run depth ${outcome.retrieval.depth}`);
      const total = outcome.timings.total_ms;
      if (total) ctx.print(`latency (as rag query -k ${ctx.config.retrieval.k}): p50 ${total.p50.toFixed(1)} ms · p95 ${total.p95.toFixed(1)} ms · p99 ${total.p99.toFixed(1)} ms`);
      if (outcome.coverage.missing) ctx.print(`judged_missing: ${outcome.coverage.missing} judged-relevant ids could not be retrieved`);
      ctx.print(`artifact: ${path.relative(process.cwd(), dir) || dir}${opts.out ? '' : ' (no --out given: under the store; `rag runs` lists runs)'}`);
      ctx.print(`report: ${path.relative(process.cwd(), path.join(dir, 'report.html'))}`);
    }
    if (gate) reportGate(ctx, gate);
  });
}

function printSummary(ctx: Context, mean: Record<string, number>, ks: number[], title: string): void {
  const t = makeTable(['metric', 'value']);
  for (const m of HEADLINE_METRICS(ks)) if (mean[m] !== undefined) t.push([m, fmt(mean[m])]);
  ctx.print(title);
  ctx.print(t.toString());
}

/** The verdict lines on stdout (in the JSON with --json), exit 1 when the gate failed. */
function reportGate(ctx: Context, gate: GateOutcome): void {
  for (const l of gate.lines) ctx.print(l);
  if (!gate.passed) process.exitCode = EXIT.GATE;
}

async function scoreExternalRun(ctx: Context, opts: EvalOpts, ks: number[], gateExpr: string | undefined): Promise<void> {
  if (!opts.qrels) throw new UsageError('--run needs --qrels', 'pass the judgments with --qrels FILE');
  const rules = gateExpr ? parseGate(gateExpr, evalGateNames(ks, { latency: false })) : null;
  const [qrels, run] = await Promise.all([readQrels(opts.qrels), readTrecRun(opts.run!)]);
  assertScorable(qrels, run, opts.qrels, opts.run!);
  const result = evaluate(qrels, run, { ks });
  const gate = rules ? checkGate(rules, result.mean) : null;
  if (ctx.json) ctx.emit({ queries: result.queries, mean: result.mean, per_query: result.perQuery, gate: gate ?? undefined });
  else printSummary(ctx, result.mean, ks, `${result.queries} queries · ${opts.run}`);
  if (gate) reportGate(ctx, gate);
}
