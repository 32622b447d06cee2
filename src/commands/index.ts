import { Command } from 'commander';
import { buildIndex } from '../engine/index/indexer.js';
import { Progress } from '../render/progress.js';
import { contextFrom } from './context.js';

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('embed chunks and build the BM25 and vector indexes of a named index (incremental)')
    .option('--name <name>', 'index name', undefined)
    .option('--model <id>', 'embedding model id from `rag models list`, or "none" for BM25 only')
    .option('--rebuild', 'drop the index and build it from scratch')
    .addHelpText(
      'after',
      `
Examples:
  $ rag index                                   # best model present, or BM25-only
  $ rag index --model minishlab/m2v-bge-base-vq128 --name static   # fast static model (prepare-models.sh)
  $ rag index --model BAAI/bge-small-en-v1.5 --name bge           # once added with \`rag models add\`
  $ rag index --model none --name bm25

Only chunks this model has not embedded before are embedded; removed chunks leave the index.`,
    )
    .action(async (opts: { name?: string; model?: string; rebuild?: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const store = await ctx.openStore(false);
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
      if (ctx.json) return ctx.emit(summary);
      ctx.print(
        `index "${summary.name}" (${summary.model ?? 'BM25 only'}): ${summary.rows} rows; ` +
          `${summary.embedded} embedded, ${summary.reused} reused from cache, ${summary.removed} removed, ${summary.unchanged} unchanged` +
          `${summary.ann ? '; ANN index' : ''} — ${summary.seconds.toFixed(1)}s` +
          (summary.embedded ? ` (${summary.chunksPerSecond.toFixed(0)} chunks/s)` : ''),
      );
    });
}
