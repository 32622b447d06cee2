import { Option, type Command } from 'commander';
import path from 'node:path';
import {
  DEFAULT_ALPHA,
  DEFAULT_DIFF_METRICS,
  assertComparable,
  comparisonJson,
  cutoffsFor,
  diffRuns,
  loadDiffInput,
  assertReplaceableOut,
  resolveMetrics,
  writeDiffReport,
} from '../engine/evaluation/diff.js';
import { EXIT, UsageError } from '../engine/errors.js';
import { normaliseMetricName, parseDiffGate, type UnderpoweredPolicy } from '../engine/evaluation/gate.js';
import { DEFAULT_ITERATIONS, DEFAULT_SEED } from '../engine/evaluation/stats.js';
import { diffMarkdown, diffTerminal } from '../render/diff-report.js';
import { diffHtmlFiles } from '../render/html/diff-report.js';
import { junitXml } from '../render/junit.js';
import { collect, contextFrom, intOption } from './context.js';

interface DiffEvalOpts {
  metric: string[];
  qrels?: string;
  k: number;
  top: number;
  alpha?: string;
  iterations: number;
  seed: number;
  gate?: string;
  force?: boolean;
  out?: string;
  overwrite?: boolean;
  underpowered: UnderpoweredPolicy;
}

function parseAlpha(text: string | undefined): number {
  if (text === undefined) return DEFAULT_ALPHA;
  const alpha = Number(text);
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must be a number between 0 and 1, got "${text}"`, 'e.g. --alpha 0.05');
  return alpha;
}

export function registerDiffEval(program: Command): void {
  program
    .command('diff-eval')
    .description('compare two eval runs query by query: deltas, bootstrap CIs, significance tests, the queries that moved, and a release gate')
    .argument('<A>', 'baseline: a `rag eval --out` directory, or a TREC run file (with --qrels)')
    .argument('<B>', 'candidate: same kind as A')
    .option('--metric <name>', `metric to compare, repeatable or comma-separated (default: ${DEFAULT_DIFF_METRICS.join(', ')} — those both have); the first one ranks the movers`, collect, [])
    .option('--qrels <file>', 'judgments (TREC or BEIR) to score A and B when they are run files; with artifacts, marks relevant documents')
    .option('-k, --k <n>', 'top k for the documents that entered or left', intOption('-k', 1, 10_000), 10)
    .option('--top <n>', 'queries shown per direction (improved, regressed)', intOption('--top', 0, 10_000), 5)
    .option('--alpha <p>', `significance level for the gate and the * marks (default ${DEFAULT_ALPHA})`)
    .option('--iterations <n>', 'bootstrap resamples and random sign flips', intOption('--iterations', 100, 10_000_000), DEFAULT_ITERATIONS)
    .option('--seed <n>', 'random seed (same inputs + seed → same numbers)', intOption('--seed', 0, 2 ** 32 - 1), DEFAULT_SEED)
    .option('--gate <expr>', 'release rule: "ndcg@10>=-0.01" or "ndcg@10:-0.01" (fail if B drops more than 0.01 and the drop is significant, or the set is too small to tell) or "no-significant-regression"; comma-separated')
    .addOption(new Option('--underpowered <policy>', 'a drop beyond the allowance on a set too small to test it: fail (default) or warn').choices(['fail', 'warn']).default('fail'))
    .option('--force', 'compare even when A and B were scored on different golden sets (only the shared queries are paired)')
    .option('--out <dir>', 'write report.md (PR comment), report.html (charts), comparison.json, per-query.json and, with --gate, junit.xml')
    .option('--overwrite', 'replace --out if it holds an earlier diff-eval report')
    .addHelpText(
      'after',
      `
Examples:
  $ rag diff-eval runs/scifact-bm25 runs/scifact-hybrid
  $ rag diff-eval runs/main runs/pr-123 --gate ndcg@10:-0.01 --out reports/pr-123
  $ rag diff-eval runs/main runs/pr-123 --gate no-significant-regression --metric ndcg@10,recall@100
  $ rag diff-eval bm25.trec hybrid.trec --qrels qrels.test --json
  $ rag diff-eval runs/main runs/pr-123 --gate ndcg@10>=-0.02 --underpowered warn   # small golden set

Significance: p (perm) is a two-sided paired randomization test (exact up to 16 queries), p (t) a
paired t-test; "p Holm" is the permutation p adjusted (Holm–Bonferroni) across the compared
metrics, and it is the one the gate and --alpha use. Power: the smallest change each metric can
detect with 80% power; when the set cannot test a drop beyond a gate's allowance, the gate fails
(--underpowered warn: passes with a warning). Exit 1 when the gate fails, 2 when A and B were not
scored on the same golden set (unless --force).`,
    )
    .action(async (a: string, b: string, opts: DiffEvalOpts, c: Command) => {
      const ctx = contextFrom(c);
      const alpha = parseAlpha(opts.alpha);
      const rules = opts.gate ? parseDiffGate(opts.gate) : [];
      // Everything that can be refused is refused before the runs are read.
      if (opts.out) assertReplaceableOut(opts.out, opts.overwrite);
      const named = [...opts.metric.map((m) => normaliseMetricName(m) ?? m), ...rules.flatMap((r) => (r.kind === 'max-drop' ? [r.metric] : []))];
      const ks = cutoffsFor([...named, ...DEFAULT_DIFF_METRICS]);
      const [inputA, inputB] = await Promise.all([
        loadDiffInput(a, { qrels: opts.qrels, ks }),
        loadDiffInput(b, { qrels: opts.qrels, ks }),
      ]);
      assertComparable(inputA, inputB, Boolean(opts.force));
      if (inputA.goldenHash !== inputB.goldenHash) ctx.notice('A and B were scored on different golden sets; --force pairs only the queries both have');
      const metrics = resolveMetrics(opts.metric, rules, inputA, inputB);
      const result = diffRuns(inputA, inputB, {
        metrics, alpha, iterations: opts.iterations, seed: opts.seed, k: opts.k, top: opts.top, gate: rules, forced: opts.force,
        underpowered: opts.underpowered,
      });
      const { only_in_a: onlyInA, only_in_b: onlyInB } = result.queries;
      if (onlyInA.length || onlyInB.length) {
        ctx.notice(`${onlyInA.length} queries only in A and ${onlyInB.length} only in B are left out; ${result.queries.paired} are paired`);
      }

      let outDir: string | undefined;
      if (opts.out) {
        outDir = writeDiffReport(opts.out, {
          'report.md': diffMarkdown(result),
          'comparison.json': comparisonJson(result),
          ...diffHtmlFiles(result, inputA, inputB),
          ...(result.gate ? { 'junit.xml': junitXml('rag diff-eval gate', result.gate.results) } : {}),
        }, { overwrite: opts.overwrite });
      }

      if (ctx.json) ctx.emit({ ...result, out: outDir });
      else {
        ctx.print(diffTerminal(result));
        if (outDir) ctx.print(`\nreport: ${path.relative(process.cwd(), outDir) || outDir}`);
      }
      if (result.gate) {
        ctx.print('');
        for (const l of result.gate.lines) ctx.print(l);
        if (!result.gate.passed) process.exitCode = EXIT.GATE;
      }
    });
}
