import { Command, Option } from 'commander';
import type { IngestFormat } from '../engine/ingest/ingest.js';
import { existsSync } from 'node:fs';
import { EXIT, UsageError } from '../engine/errors.js';
import { Progress } from '../render/progress.js';
import { contextFrom } from './context.js';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('turn files, JSONL records or a BEIR corpus into documents and chunks (incremental)')
    .argument('<paths...>', 'files or folders (for --format beir: the corpus folder)')
    .addOption(new Option('--format <format>', 'source format').choices(['auto', 'beir', 'jsonl']).default('auto'))
    .option('--no-prune', 'keep documents whose source vanished (default: tombstone them)')
    .addHelpText(
      'after',
      `
Examples:
  $ rag ingest fixtures/docs fixtures/html fixtures/pdf
  $ rag ingest --format jsonl fixtures/tickets/tickets.jsonl
  $ rag ingest --format beir ../datasets/scifact --json

Re-running on unchanged sources writes nothing. A file that cannot be read is reported and
skipped (exit 2 at the end); the rest goes in.`,
    )
    .action(async (paths: string[], opts: { format: IngestFormat; prune: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      // Bad paths are refused before a store is created for them.
      for (const p of paths) {
        if (!existsSync(p)) throw new UsageError(`path not found: ${p}`, 'check the path, or run from the folder that holds it');
      }
      // Parsers (unified, pdfjs) load only when ingesting.
      const { ingest } = await import('../engine/ingest/ingest.js');
      const store = await ctx.openStore(true);
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
      if (ctx.json) {
        ctx.emit({ ...summary, seconds: Number(seconds.toFixed(3)) });
      } else {
        for (const f of summary.failures) {
          const where = f.line !== undefined && !f.source.endsWith(`:${f.line}`) ? `${f.source}:${f.line}` : f.source;
          process.stderr.write(`failed: ${f.error.startsWith(f.source) ? f.error : `${where}: ${f.error}`}\n`);
        }
        ctx.print(
          `ingested: ${summary.added} added, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
            `${summary.deleted} deleted, ${summary.failed} failed` +
            (summary.skipped ? `, ${summary.skipped} skipped (no connector for the file type)` : '') +
            ` — ${summary.documents} documents in store (${seconds.toFixed(1)}s)`,
        );
      }
      if (summary.failed > 0) process.exitCode = EXIT.USAGE;
    });
}
