import { Command } from 'commander';
import { buildIndex } from '../engine/index/indexer.js';
import { Progress } from '../render/progress.js';
import { contextFrom, waitOption } from './context.js';

export function registerIndex(program: Command): void {
  const cmd = program
    .command('index')
    .description('embed chunks and build the BM25 and vector indexes of a named index (incremental)')
    .option('--name <name>', 'index name', undefined)
    .option('--model <id>', 'embedding model id from `rag models list`, or "none" for BM25 only')
    .option('--rebuild', 'build the index from scratch into a new table, then switch searches to it');
  waitOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag index                                   # best model present, or BM25-only
  $ rag index --model minishlab/m2v-bge-base-vq128 --name static   # fast static model (prepare-models.sh)
  $ rag index --model BAAI/bge-small-en-v1.5 --name bge           # once added with \`rag models add\`
  $ rag index --model none --name bm25
  $ rag index --rebuild --wait                  # queue behind a running ingest, then rebuild

Only chunks this model has not embedded before are embedded; removed chunks leave the index.
Searches running during a rebuild finish on the previous table; it is dropped by a later
\`rag index\` once index.graceSeconds (default 3600) have passed. One writer at a time: while
another ingest or index holds the store, this exits 3 unless --wait is given.`,
    )
    .action(async (opts: { name?: string; model?: string; rebuild?: boolean; wait?: true | number }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const store = await ctx.openStore(false, { command: 'rag index', wait: opts.wait });
      const progress = new Progress(ctx.isTTY, 'index');
      const summary = await buildIndex(store, ctx.config, {
        name: opts.name ?? ctx.config.index.name,
        model: opts.model,
        rebuild: opts.rebuild,
        onProgress: (p) => progress.update(p.done, p.total, 'chunks'),
        onNotice: (m) => {
          progress.done();
          ctx.notice(m);
        },
      });
      progress.done();
      if (summary.duplicates_removed) ctx.notice(`repaired ${summary.duplicates_removed} ids stored more than once in the index, its embedding cache or the manifests`);
      if (ctx.json) return ctx.emit(summary);
      ctx.print(
        `index "${summary.name}" (${summary.model ?? 'BM25 only'}): ${summary.rows} rows; ` +
          `${summary.embedded} embedded, ${summary.reused} reused from cache, ${summary.removed} removed, ${summary.unchanged} unchanged` +
          `${summary.ann ? '; ANN index' : ''} — ${summary.seconds.toFixed(1)}s` +
          (summary.embedded ? ` (${summary.chunks_per_second.toFixed(0)} chunks/s)` : ''),
      );
    });
}
