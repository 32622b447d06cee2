import { Command, Option } from 'commander';
import { resolveCaller } from '../engine/acl.js';
import { compileFilter } from '../engine/search/filter.js';
import { Retriever } from '../engine/search/retriever.js';
import type { RetrievalMode } from '../engine/types.js';
import { queryResultJson } from '../render/query-json.js';
import { renderQueryTable } from '../render/query-table.js';
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
    .option('--rrf-k <n>', 'reciprocal rank fusion constant', intOption('--rrf-k', 0))
    .option('--no-daemon', 'search in this process even when a `rag serve` of this store is running');
  callerOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ rag query "how do I rotate the API key"
  $ rag query "salary bands" --as group:hr --json
  $ rag query "invoice" --mode bm25 --filter "product=billing" -k 5
  $ rag query "sso setup" --rerank cross-encoder/ms-marco-MiniLM-L-6-v2   # once added with \`rag models add\`

Only chunks whose ACL includes one of your principals (everyone holds "public") in your tenant
are ever searched: the permission filter is applied inside both searches, before ranking.

When \`rag serve\` runs for the same store and config, the query is answered by its warm models
over a local socket (same results, no model load); otherwise it runs here.

A hit that carries injected instructions or hidden text (the rules of \`rag audit content\`, at
medium severity or above) is marked ⚠; with --json each result has "findings" (empty when clean).`,
    )
    .action(async (words: string[], opts: QueryOpts, c: Command) => {
      const ctx = contextFrom(c);
      const text = words.join(' ');
      const store = await ctx.openStore(false);
      const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
      const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name, ctx.notice);
      const rerank = resolveRerank(opts.rerank, ctx.config);
      const res = await retriever.search(text, {
        mode: opts.mode,
        k: opts.k ?? ctx.config.retrieval.k,
        caller,
        filterSql: opts.filter ? compileFilter(opts.filter) : undefined,
        rerank,
        rerankTopN: opts.rerankTopN,
        rrfK: opts.rrfK,
      });
      const json = queryResultJson(text, res, { index: retriever.manifest.name, model: retriever.manifest.model?.id ?? null, caller });
      if (ctx.json) return ctx.emit(json);
      ctx.print(renderQueryTable(json, rerank));
    });
}

