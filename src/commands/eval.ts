import { Command, Option } from 'commander';
import { makeTable } from '../render/table.js';
import path from 'node:path';
import { resolveCaller } from '../engine/acl.js';
import { EXIT, UsageError } from '../engine/errors.js';
import { gateValues, runEval, writeArtifact } from '../engine/evaluation/eval.js';
import { checkGate, describeGateResult, parseGate } from '../engine/evaluation/gate.js';
import { loadGoldenSet } from '../engine/evaluation/goldens.js';
import { evaluate } from '../engine/evaluation/metrics.js';
import { readQrels, readTrecRun } from '../engine/evaluation/trec.js';
import { indexFreshness } from '../engine/index/freshness.js';
import { Retriever } from '../engine/search/retriever.js';
import { staleGateError, staleIndexLine } from '../render/freshness.js';
import type { RetrievalMode } from '../engine/types.js';
import { evalArtifactFiles } from '../render/eval-artifact.js';
import { fmt, HEADLINE_METRICS } from '../render/report.js';
import { Progress } from '../render/progress.js';
import { callerOptions } from './query.js';
import { contextFrom, resolveRerank, type Context } from './context.js';

interface EvalOpts {
  golden?: string;
  qrels?: string;
  run?: string;
  split?: string;
  index?: string;
  mode?: RetrievalMode;
  rerank?: string | boolean;
  rerankTopN?: string;
  rrfK?: string;
  candidates?: string;
  k?: string;
  out?: string;
  overwrite?: boolean;
  gate?: string;
  as?: string[];
  tenant?: string;
  profile?: string;
  allowStale?: boolean;
}

function parseKs(s: string | undefined, fallback: number[]): number[] {
  if (!s) return fallback;
  const ks = s.split(',').map((x) => Number(x.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new UsageError(`--k "${s}" must be a comma-separated list of positive integers`, 'e.g. --k 1,5,10,100');
  return [...new Set(ks)].sort((a, b) => a - b);
}

function num(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a non-negative number, got "${s}"`);
  return n;
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
    .option('--rerank-top-n <n>', 'candidates sent to the reranker')
    .option('--rrf-k <n>', 'reciprocal rank fusion constant')
    .option('--candidates <n>', 'candidates per search before fusion')
    .option('--k <list>', 'cutoffs for @k metrics (default 1,3,5,10,100)')
    .option('--out <dir>', 'artifact directory (default runs/<time>-<index>-<mode>)')
    .option('--overwrite', 'replace --out if it exists')
    .option('--gate <expr>', 'thresholds, e.g. "ndcg@10>=0.62,recall@100>=0.9,p95_ms<=300" (exit 1 when one fails)')
    .option('--allow-stale', 'gate even when the index is behind the chunks (default: refuse, exit 2)');
  callerOptions(cmd).addHelpText(
    'after',
    `
Examples:
  $ rag eval --golden goldens/fixtures.jsonl
  $ rag eval --golden ../datasets/scifact --mode bm25 --out runs/scifact-bm25
  $ rag eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8,p95_ms<=200"
  $ rag eval --qrels qrels.test --run results.test     # score a TREC run, like trec_eval
  $ rag eval --golden goldens/fixtures.jsonl --gate "ndcg@10>=0.8" --allow-stale

Writes run.trec, metrics.json (byte-identical for identical inputs), manifest.json,
timings.json and report.md (+ junit.xml with --gate). Exit 1 when the gate fails. A gate on an
index that is behind the chunks (after an ingest, or an interrupted index) is refused with exit 2.`,
  ).action(async (opts: EvalOpts, c: Command) => {
    const ctx = contextFrom(c);
    const ks = parseKs(opts.k, ctx.config.eval.ks);
    if (opts.run) return scoreExternalRun(ctx, opts, ks);
    if (!opts.golden) throw new UsageError('--golden is required', 'pass --golden PATH (or --qrels FILE --run FILE to score a run file)');
    const golden = await loadGoldenSet(opts.golden, { qrels: opts.qrels, split: opts.split });
    for (const w of golden.warnings) ctx.notice(w);
    const gateExpr = opts.gate ?? ctx.config.eval.gate;
    const rules = gateExpr ? parseGate(gateExpr) : null;
    const store = await ctx.openStore(false);
    const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name, ctx.notice);
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
      rerankTopN: num('--rerank-top-n', opts.rerankTopN),
      rrfK: num('--rrf-k', opts.rrfK),
      candidates: num('--candidates', opts.candidates),
      ks,
      caller,
      onProgress: (d, t) => progress.update(d, t, 'queries'),
    });
    progress.done();

    const values = gateValues(outcome);
    const gate = rules ? checkGate(rules, values) : null;
    const gateLines = gate ? gate.results.map(describeGateResult) : [];
    const { files, defaultDir } = evalArtifactFiles(outcome, golden, { caller, rerank, gate });
    const dir = writeArtifact(opts.out ?? defaultDir, files, { overwrite: opts.overwrite });

    if (ctx.json) {
      ctx.emit({ artifact: dir, mean: outcome.result.mean, queries: outcome.result.queries, timings: outcome.timings, gate: gate ?? undefined });
    } else {
      printSummary(ctx, outcome.result.mean, ks, `${outcome.result.queries} queries · ${outcome.retrieval.mode}${rerank ? ` + rerank` : ''} · index "${outcome.retrieval.index}"`);
      const total = outcome.timings.total_ms;
      if (total) ctx.print(`latency: p50 ${total.p50.toFixed(1)} ms · p95 ${total.p95.toFixed(1)} ms · p99 ${total.p99.toFixed(1)} ms`);
      ctx.print(`artifact: ${path.relative(process.cwd(), dir) || dir}`);
    }
    if (gate) reportGate(ctx, gateLines, gate.passed);
  });
}

function printSummary(ctx: Context, mean: Record<string, number>, ks: number[], title: string): void {
  const t = makeTable(['metric', 'value']);
  for (const m of HEADLINE_METRICS(ks)) if (mean[m] !== undefined) t.push([m, fmt(mean[m])]);
  ctx.print(title);
  ctx.print(t.toString());
}

function reportGate(ctx: Context, lines: string[], passed: boolean): void {
  for (const l of lines) process.stderr.write(`gate: ${l}\n`);
  process.stderr.write(passed ? 'gate: passed\n' : 'gate: FAILED\n');
  if (!passed) process.exitCode = EXIT.GATE;
}

async function scoreExternalRun(ctx: Context, opts: EvalOpts, ks: number[]): Promise<void> {
  if (!opts.qrels) throw new UsageError('--run needs --qrels', 'pass the judgments with --qrels FILE');
  const [qrels, run] = await Promise.all([readQrels(opts.qrels), readTrecRun(opts.run!)]);
  const result = evaluate(qrels, run, { ks });
  const gateExpr = opts.gate ?? ctx.config.eval.gate;
  const gate = gateExpr ? checkGate(parseGate(gateExpr), result.mean) : null;
  const gateLines = gate ? gate.results.map(describeGateResult) : [];
  if (ctx.json) ctx.emit({ queries: result.queries, mean: result.mean, per_query: result.perQuery, gate: gate ?? undefined });
  else printSummary(ctx, result.mean, ks, `${result.queries} queries · ${opts.run}`);
  if (gate) reportGate(ctx, gateLines, gate.passed);
}
