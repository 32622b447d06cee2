import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolveCaller } from '../engine/acl.js';
import { InputError, UsageError } from '../engine/errors.js';
import { parseBatchFile } from '../engine/search/batch.js';
import { explainEmpty } from '../engine/search/explain.js';
import { parseFilter } from '../engine/search/filter.js';
import { Retriever, type SearchOptions } from '../engine/search/retriever.js';
import { indexFreshness } from '../engine/index/freshness.js';
import { staleIndexLine } from '../render/freshness.js';
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
  batch?: string;
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
    .argument('[text...]', 'the query; `-` (or none, when stdin is not a terminal) reads it from stdin')
    .addOption(new Option('--mode <mode>', 'retrieval mode (default: hybrid when the index has vectors)').choices(['hybrid', 'bm25', 'vector']))
    .option('-k, --k <n>', 'number of results', intOption('-k', 1, 10000))
    .option('--index <name>', 'index name')
    .option('--filter <expr>', 'metadata filter, e.g. "product=billing and page>=2"')
    .option('--rerank [id]', 'rerank the top candidates with a cross-encoder (id from `rag models list`)')
    .option('--no-rerank', 'do not rerank even if the config says so')
    .option('--rerank-top-n <n>', 'candidates sent to the reranker', intOption('--rerank-top-n'))
    .option('--rrf-k <n>', 'reciprocal rank fusion constant', intOption('--rrf-k', 0))
    .option('--no-daemon', 'search in this process even when a `rag serve` of this store is running')
    .option('--batch <file>', 'run every query of FILE (JSONL {"id","query"[,"k","mode","filter"]} or TSV id<TAB>query), one JSON line each');
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
      if (opts.batch && words.length) throw new UsageError('--batch reads its queries from the file', 'drop the query text, or drop --batch');
      const batch = opts.batch ? parseBatchFile(readText(opts.batch), opts.batch) : null;
      const text = batch ? '' : await queryText(words);
      // Filters are checked before the store opens: a typo costs nothing.
      const filters = new Map((batch ?? [{ filter: opts.filter, line: 0 }]).map((q) => [q.filter, q.filter ? parseFilterAt(q.filter, opts.batch, q.line) : null]));
      const store = await ctx.openStore(false);
      const caller = resolveCaller(ctx.config, { as: opts.as, tenant: opts.tenant, profile: opts.profile });
      const retriever = await Retriever.open(store, ctx.config, opts.index ?? ctx.config.index.name);
      const rerank = resolveRerank(opts.rerank, ctx.config);
      // An index behind the chunks answers from old content: say so (one line; a field with --json).
      const freshness = await indexFreshness(store, retriever.manifest);
      if (!freshness.current) ctx.notice(staleIndexLine(retriever.manifest.name, freshness, ctx.config.index.name));
      const info = { index: retriever.manifest.name, model: retriever.manifest.model?.id ?? null, caller, freshness };
      const search = (q: string, over: Partial<SearchOptions> & { filter?: string }) =>
        retriever.search(q, {
          mode: over.mode ?? opts.mode,
          k: over.k ?? opts.k ?? ctx.config.retrieval.k,
          caller,
          filterSql: filters.get(over.filter)?.sql,
          rerank,
          rerankTopN: opts.rerankTopN,
          rrfK: opts.rrfK,
        });
      if (batch) {
        await retriever.warm({ rerank });
        for (const q of batch) process.stdout.write(`${JSON.stringify({ id: q.id, ...queryResultJson(q.query, await search(q.query, q), info) })}\n`);
        return;
      }
      const res = await search(text, { filter: opts.filter });
      // An empty answer says why when the store can tell (unknown tenant, filter key, no access).
      const explanation = res.hits.length ? null : await explainEmpty(store, caller, filters.get(opts.filter)?.metadataKeys);
      const json = queryResultJson(text, res, { ...info, explanation });
      if (ctx.json) return ctx.emit(json);
      ctx.print(renderQueryTable(json, rerank, explanation));
    });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, 'cannot be read', 'pass an existing JSONL or TSV file to --batch');
  }
}

function parseFilterAt(filter: string, file: string | undefined, line: number) {
  try {
    return parseFilter(filter);
  } catch (err) {
    if (!file) throw err;
    throw new InputError(file, line, (err as Error).message);
  }
}

/** The query words, or stdin for `-` (or no words when stdin is a pipe or a file). */
async function queryText(words: string[]): Promise<string> {
  const fromStdin = (words.length === 1 && words[0] === '-') || (words.length === 0 && !process.stdin.isTTY);
  if (!fromStdin) {
    if (words.length === 0) throw new UsageError('no query', 'pass the text to search for, e.g. rag query "reset my password" (or pipe it in)');
    return words.join(' ');
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  if (!text.trim()) throw new UsageError('no query on stdin', 'pipe the text to search for, e.g. echo "reset my password" | rag query -');
  return text.trim().replace(/\s+/g, ' ');
}
