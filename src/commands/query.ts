import { Command, Option } from 'commander';
import { makeTable, useColor } from '../render/table.js';
import { resolveCaller } from '../engine/acl.js';
import { indexFreshness } from '../engine/index/freshness.js';
import { staleIndexLine } from '../render/freshness.js';
import { compileFilter } from '../engine/search/filter.js';
import { Retriever } from '../engine/search/retriever.js';
import type { RetrievalMode } from '../engine/types.js';
import { queryTerms, snippet } from '../render/highlight.js';
import { queryResultJson } from '../render/query-json.js';
import { collect, contextFrom, intOption, resolveRerank } from './context.js';

interface QueryOpts {
  mode?: RetrievalMode;
  k?: number;
  index?: string;
  as?: string[];
  tenant?: string;
  profile?: string;
  filter?: string;
  rerank?: string | boolean;
  rerankTopN?: number;
  rrfK?: number;
}

export function callerOptions(cmd: Command): Command {
  return cmd
    .option('--as <principal>', 'search as this principal (repeatable: user:alice, group:support)', collect, [])
    .option('--tenant <tenant>', 'tenant to search in (default: the configured default tenant)')
    .option('--profile <name>', 'a caller profile from the config (principals + tenant)');
}

export function registerQuery(program: Command): void {
  const cmd = program
    .command('query')
    .description('search the index: hybrid BM25 + vector, optional rerank, always permission-filtered')
    .argument('<text...>', 'the query')
    .addOption(new Option('--mode <mode>', 'retrieval mode (default: hybrid when the index has vectors)').choices(['hybrid', 'bm25', 'vector']))
    .option('-k, --k <n>', 'number of results', intOption('-k', 1, 10000))
    .option('--index <name>', 'index name')
    .option('--filter <expr>', 'metadata filter, e.g. "product=billing and page>=2"')
    .option('--rerank [id]', 'rerank the top candidates with a cross-encoder (id from `rag models list`)')
    .option('--no-rerank', 'do not rerank even if the config says so')
    .option('--rerank-top-n <n>', 'candidates sent to the reranker', intOption('--rerank-top-n'))
    .option('--rrf-k <n>', 'reciprocal rank fusion constant', intOption('--rrf-k', 0));
  callerOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag query "how do I rotate the API key"
  $ rag query "salary bands" --as group:hr --json
  $ rag query "invoice" --mode bm25 --filter "product=billing" -k 5
  $ rag query "sso setup" --rerank cross-encoder/ms-marco-MiniLM-L-6-v2

Only chunks whose ACL includes one of your principals (everyone holds "public") in your tenant
are ever searched: the permission filter is applied inside both searches, before ranking.`,
    )
    .action(async (words: string[], opts: QueryOpts, c: Command) => {
      const ctx = contextFrom(c);
      const text = words.join(' ');
      const store = await ctx.openStore(false);
      const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
      const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name, ctx.notice);
      const rerank = resolveRerank(opts.rerank, ctx.config);
      const freshness = await indexFreshness(store, retriever.manifest);
      if (!freshness.current) ctx.notice(staleIndexLine(retriever.manifest.name, freshness, ctx.config.index.name));
      const res = await retriever.search(text, {
        mode: opts.mode,
        k: opts.k ?? ctx.config.retrieval.k,
        caller,
        filterSql: opts.filter ? compileFilter(opts.filter) : undefined,
        rerank,
        rerankTopN: opts.rerankTopN,
        rrfK: opts.rrfK,
      });
      if (ctx.json) {
        return ctx.emit(queryResultJson(text, res, { index: retriever.manifest.name, model: retriever.manifest.model?.id ?? null, caller, freshness }));
      }
      if (res.hits.length === 0) {
        ctx.print(`no results for "${text}" (searched as ${caller.principals.join(', ')} in tenant ${caller.tenant})`);
        return;
      }
      const terms = queryTerms(text);
      const color = useColor();
      const mark = (s: string) => (color ? `\x1b[1;33m${s}\x1b[0m` : `[${s}]`);
      const width = Math.max(60, Math.min((process.stdout.columns ?? 120) - 70, 100));
      const table = makeTable(['#', 'score', 'title', 'where', 'snippet'], { colWidths: [4, 9, 24, 28, width + 4], wordWrap: true });
      for (const h of res.hits) {
        const where = [h.chunk.source, h.chunk.page ? `p.${h.chunk.page}` : h.chunk.heading_path.join(' › ')].filter(Boolean).join('\n');
        table.push([String(h.rank), h.score.toFixed(4), h.chunk.title, where, snippet(h.chunk.text, terms, width * 2, mark)]);
      }
      ctx.print(table.toString());
      ctx.print(
        `${res.hits.length} results · ${res.mode}${rerank ? ` + rerank (${rerank})` : ''} · index "${retriever.manifest.name}" · ` +
          `${res.timings.total_ms.toFixed(0)} ms · as ${caller.principals.join(', ')} @ ${caller.tenant}`,
      );
    });
}


