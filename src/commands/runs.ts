import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkOutDir, defaultRunsDir, writeOutDir } from '../engine/artifact.js';
import { UsageError } from '../engine/errors.js';
import { normaliseMetricName, suggestMetric } from '../engine/evaluation/gate.js';
import { listRuns } from '../engine/evaluation/runs.js';
import { runsPlotHtml } from '../render/html/runs-report.js';
import { plotGroups, runsTable, sparklines } from '../render/runs.js';
import { contextFrom } from './context.js';

interface RunsOpts {
  plot?: string;
  golden?: string;
  out?: string;
  overwrite?: boolean;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the eval run artifacts under a folder (date, golden set, mode, model, key metrics, gate) and plot a metric over time')
    .argument('[dir]', 'folder to scan for `rag eval` artifacts (default: <db>/runs, where rag eval writes without --out)')
    .option('--plot <metric>', 'draw this metric over time (ndcg@10, recall@100, p95_ms, …): a sparkline per golden set, and an HTML chart')
    .option('--golden <hash>', 'only runs on the golden set whose hash starts with this')
    .option('--out <dir>', 'with --plot: write the chart as report.html into this directory (default: <dir>/runs-<metric>.html)')
    .option('--overwrite', 'replace --out if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ rag runs                                   # the runs of the current store (<db>/runs)
  $ rag runs runs/ --golden 66558288
  $ rag runs --plot ndcg@10                    # sparkline per golden set + <db>/runs/runs-ndcg@10.html
  $ rag runs reports/nightly --plot p95_ms --out reports/latency
  $ rag runs --json

A folder holding metrics.json is a run; sub-folders are searched 4 levels deep. A run that cannot be
read is named on stderr and skipped. Runs are listed oldest first (manifest.json created_at).`,
    )
    .action((dir: string | undefined, opts: RunsOpts, c: Command) => {
      const ctx = contextFrom(c);
      if (opts.out) {
        if (!opts.plot) throw new UsageError('--out needs --plot', 'e.g. rag runs --plot ndcg@10 --out reports/ndcg');
        checkOutDir(opts.out, { overwrite: opts.overwrite, marker: 'report.html' });
      }
      const metric = opts.plot === undefined ? undefined : normaliseMetricName(opts.plot);
      if (opts.plot !== undefined && !metric) throw new UsageError(`unknown metric "${opts.plot}"`, `did you mean ${suggestMetric(opts.plot)}?`);
      const root = dir ?? defaultRunsDir(ctx.db);
      if (!existsSync(root)) {
        if (dir) throw new UsageError(`${dir} does not exist`, 'pass a folder holding `rag eval --out` artifacts');
        if (ctx.json) return ctx.emit({ root: path.resolve(root), runs: [], skipped: [] });
        return ctx.print(`no runs yet: ${root} does not exist (rag eval writes there when --out is not given)`);
      }
      const listing = listRuns(root);
      for (const s of listing.skipped) ctx.notice(`skipped ${s.dir}: ${s.reason}`);
      if (opts.golden) listing.runs = listing.runs.filter((r) => r.golden_hash.startsWith(opts.golden!.toLowerCase()));
      if (!metric) {
        if (ctx.json) return ctx.emit(listing);
        return ctx.print(runsTable(listing));
      }
      const groups = plotGroups(listing.runs, metric);
      const page = runsPlotHtml(groups, metric, listing.root);
      let chart: string;
      if (opts.out) chart = path.join(writeOutDir(opts.out, { 'report.html': page }, { overwrite: opts.overwrite, marker: 'report.html' }), 'report.html');
      else {
        // A derived view of the folder, re-drawn every time: replaced without asking.
        mkdirSync(listing.root, { recursive: true });
        chart = path.join(listing.root, `runs-${metric.replace(/[^\w@.-]/g, '_')}.html`);
        writeFileSync(chart, page);
      }
      if (ctx.json) {
        return ctx.emit({ metric, chart, groups: groups.map((g) => ({ golden_hash: g.golden_hash, golden_source: g.golden_source, points: g.points.map((p) => ({ dir: p.run.dir, created_at: p.run.created_at, value: p.value })) })) });
      }
      ctx.print(groups.length ? sparklines(groups, metric) : `no run under ${listing.root} has ${metric}`);
      ctx.print(`chart: ${path.relative(process.cwd(), chart) || chart}`);
    });
}
