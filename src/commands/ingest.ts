import { Command, Option } from 'commander';
import type { IngestFormat } from '../engine/ingest/ingest.js';
import { existsSync } from 'node:fs';
import { EXIT, UsageError } from '../engine/errors.js';
import { Progress } from '../render/progress.js';
import { contextFrom, waitOption } from './context.js';

export function registerIngest(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('turn files, JSONL records or a BEIR corpus into documents and chunks (incremental)')
    .argument('<paths...>', 'files or folders (for --format beir: the corpus folder)')
    .addOption(new Option('--format <format>', 'source format').choices(['auto', 'beir', 'jsonl']).default('auto'))
    .option('--no-prune', 'keep documents whose source vanished (default: tombstone them)');
  waitOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag ingest fixtures/docs fixtures/html fixtures/pdf
  $ rag ingest --format jsonl fixtures/tickets/tickets.jsonl
  $ rag ingest --format beir ../datasets/scifact --json
  $ rag ingest docs/ --wait=600                 # queue behind a running ingest or index

Re-running on unchanged sources writes nothing. A file or folder that cannot be read is reported
and skipped (exit 2 at the end); the rest goes in. Symbolic links inside folders are not followed
(each is reported as skipped). One writer at a time: while another ingest or index holds the
store, this exits 3 unless --wait is given.`,
    )
    .action(async (paths: string[], opts: { format: IngestFormat; prune: boolean; wait?: true | number }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      // Bad paths are refused before a store is created for them.
      for (const p of paths) {
        if (!existsSync(p)) throw new UsageError(`path not found: ${p}`, 'check the path, or run from the folder that holds it');
      }
      // Parsers (unified, pdfjs) load only when ingesting.
      const { ingest } = await import('../engine/ingest/ingest.js');
      const store = await ctx.openStore(true, { command: 'rag ingest', wait: opts.wait });
      const progress = new Progress(ctx.isTTY, 'ingest');
      const started = performance.now();
      const summary = await ingest(store, ctx.config, {
        paths,
        format: opts.format,
        prune: opts.prune,
        onProgress: (p) => progress.update(p.done, p.total, 'docs'),
      });
      progress.done();
      const seconds = (performance.now() - started) / 1000;
      if (summary.duplicates_removed) ctx.notice(`repaired ${summary.duplicates_removed} ids stored more than once (their documents were rewritten)`);
      if (ctx.json) {
        ctx.emit({ ...summary, seconds: Number(seconds.toFixed(3)) });
      } else {
        for (const f of summary.failures) {
          const where = f.line !== undefined && !f.source.endsWith(`:${f.line}`) ? `${f.source}:${f.line}` : f.source;
          process.stderr.write(`failed: ${f.error.startsWith(f.source) ? f.error : `${where}: ${f.error}`}\n`);
        }
        if (!ctx.quiet) for (const s of summary.skipped) process.stderr.write(`skipped: ${s.source}: ${s.reason}\n`);
        ctx.print(
          `ingested: ${summary.added} added, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
            `${summary.deleted} deleted, ${summary.failed} failed — ${summary.documents} documents in store (${seconds.toFixed(1)}s)`,
        );
      }
      if (summary.failed > 0) process.exitCode = EXIT.USAGE;
    });
}
