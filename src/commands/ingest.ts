import { Command, Option } from 'commander';
import type { IngestFormat, IngestSummary } from '../engine/ingest/ingest.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UsageError } from '../engine/errors.js';
import { userFacingError } from '../engine/store/store-errors.js';
import { loadConfig } from '../engine/config.js';
import { Progress } from '../render/progress.js';
import { contextFrom, waitOption, type Context } from './context.js';

interface IngestFlags {
  format: IngestFormat;
  prune: boolean;
  watch?: boolean;
  index?: string;
  wait?: true | number;
}

export function registerIngest(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('turn files, JSONL records or a BEIR corpus into documents and chunks (incremental)')
    .argument('<paths...>', 'files or folders (for --format beir: the corpus folder)')
    .addOption(new Option('--format <format>', 'source format').choices(['auto', 'beir', 'jsonl']).default('auto'))
    .option('--no-prune', 'keep documents whose source vanished (default: tombstone them)')
    .option('--watch', 'keep watching the paths: re-ingest on every change and keep the index current, until Ctrl-C')
    .option('--index <name>', 'with --watch: the index kept current (default: the config\'s index.name)');
  waitOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag ingest fixtures/docs fixtures/html fixtures/pdf
  $ rag ingest fixtures/office fixtures/mail fixtures/scanned
  $ rag ingest --format jsonl fixtures/tickets/tickets.jsonl
  $ rag ingest --format beir ../datasets/scifact --json
  $ rag ingest --watch docs/            # saved files are searchable within a second or two
  $ rag ingest docs/ --wait=600         # queue behind a running ingest or index

Formats: .md .html .pdf (scanned pages OCRed by tesseract) .txt .docx .pptx .odt .odp .xlsx .ods
.csv .tsv .eml .mbox .jsonl. Re-running on unchanged sources writes nothing. A file that cannot be
read is reported and skipped (exit 2 at the end); the rest goes in. Symbolic links inside folders
are not followed (each is reported as skipped). One writer at a time: while another ingest or
index holds the store, this exits 3 unless --wait is given (--watch holds it until it stops). With
--watch, each batch of changes is an ordinary incremental ingest followed by an index update;
Ctrl-C ends after the batch in flight (--json: one JSON line per batch).`,
    )
    .action(async (paths: string[], opts: IngestFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      // Bad paths are refused before a store is created for them.
      for (const p of paths) {
        if (!existsSync(p)) throw new UsageError(`path not found: ${p}`, 'check the path, or run from the folder that holds it');
      }
      if (opts.index && !opts.watch) throw new UsageError('--index is only used with --watch', 'add --watch, or run `rag index --name NAME` after the ingest');
      if (opts.watch && !opts.prune) throw new UsageError('--watch always removes deleted files; it cannot be combined with --no-prune');
      if (opts.watch) return watchMode(ctx, paths, opts);
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
      if (ctx.json) ctx.emit({ ...summary, seconds: Number(seconds.toFixed(3)) });
      else report(ctx, summary, seconds);
      if (summary.failed > 0) process.exitCode = EXIT.USAGE;
    });
}

function report(ctx: Context, summary: IngestSummary, seconds: number, prefix = ''): void {
  for (const n of summary.notices) ctx.notice(n);
  for (const f of summary.failures) {
    const where = f.line !== undefined && f.line > 0 && !f.source.endsWith(`:${f.line}`) ? `${f.source}:${f.line}` : f.source;
    process.stderr.write(`${prefix}failed: ${f.error.startsWith(f.source) ? f.error : `${where}: ${f.error}`}\n`);
  }
  if (!ctx.quiet) for (const s of summary.skipped) process.stderr.write(`${prefix}skipped: ${s.source}: ${s.reason}\n`);
  ctx.print(
    `${prefix}ingested: ${summary.added} added, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
      `${summary.deleted} deleted, ${summary.failed} failed` +
      (summary.unsupported ? `, ${summary.unsupported} skipped (no connector for the file type)` : '') +
      ` — ${summary.documents} documents in store (${seconds.toFixed(1)}s)`,
  );
}

/** `--watch`: ingest, then after every burst of changes ingest again and bring the index up to date. */
async function watchMode(ctx: Context, paths: string[], opts: IngestFlags): Promise<void> {
  const [{ watchSources }, { buildIndex }] = await Promise.all([import('../engine/ingest/watch.js'), import('../engine/index/indexer.js')]);
  // The writer lock is held for the whole session: the watcher is the store's one writer.
  const store = await ctx.openStore(true, { command: 'rag ingest --watch', wait: opts.wait });
  let config = ctx.config;
  const name = opts.index ?? config.index.name;
  const noticed = new Set<string>();
  const notice = (m: string) => noticed.has(m) || (noticed.add(m), ctx.notice(m));
  const stop = new Promise<void>((resolve) => {
    const onSignal = () => {
      ctx.log('stopping: finishing the batch in flight (Ctrl-C again to abort)');
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await watchSources(store, {
    paths,
    format: opts.format,
    // Re-read before every batch: an edited ACL rule applies to the very next one.
    config: () => (config = ctx.configPath ? reloadConfig(ctx) : config),
    extraFiles: ctx.configPath ? [ctx.configPath] : [],
    ignore: [ctx.db],
    stop,
    onBatch: async (summary, info) => {
      const started = performance.now();
      const changed = summary.added + summary.updated + summary.deleted > 0;
      const index = changed || info.batch === 0 ? await buildIndex(store, config, { name, onNotice: notice }) : null;
      const seconds = (performance.now() - started) / 1000;
      if (ctx.json) {
        const timing = { ingest_seconds: Number(info.ingestSeconds.toFixed(3)), index_seconds: Number(seconds.toFixed(3)) };
        process.stdout.write(`${JSON.stringify({ batch: info.batch, events: info.events, ...summary, index, ...timing })}\n`);
        return;
      }
      const time = new Date().toISOString().slice(11, 19);
      report(ctx, summary, info.ingestSeconds, `[${time}] `);
      if (index) ctx.print(`[${time}] index "${index.name}": ${index.rows} rows; ${index.embedded} embedded, ${index.removed} removed (${seconds.toFixed(1)}s)`);
      if (info.batch === 0) ctx.log(`watching ${paths.join(', ')} for changes (Ctrl-C to stop)`);
    },
    // Never quiet (--quiet hides notices, not this): a paused or failed batch must be seen.
    onError: (err) => process.stderr.write(`watch: batch failed: ${userFacingError(err).message}\n`),
  });
  store.close();
}

/**
 * The config file as it is now. An invalid edit pauses ingestion rather than keeping the previous
 * config: that one may hold the looser ACL rule the edit was tightening. Saving a valid config
 * starts the next batch, which catches up on everything changed meanwhile (each batch rescans).
 */
function reloadConfig(ctx: Context) {
  try {
    return loadConfig(path.relative(process.cwd(), ctx.configPath!)).config;
  } catch (err) {
    const e = userFacingError(err);
    throw new UsageError(`${e.message} — nothing is ingested until the config is valid again`, e.fix ?? 'fix the config file and save it');
  }
}
