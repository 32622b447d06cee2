/**
 * `rag mcp`: the retriever as Model Context Protocol tools over stdio, for coding agents. The
 * caller is fixed when the server is launched (flags or a config profile), as for `rag query`:
 * whoever configures the agent chooses whose permissions it searches with.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import type { RagConfig } from '../engine/config.js';
import { AclViolationError, RagError } from '../engine/errors.js';
import { userFacingError } from '../engine/store/store-errors.js';
import { getDocument } from '../engine/search/documents.js';
import { parseFilter } from '../engine/search/filter.js';
import type { Caller } from '../engine/types.js';
import { VERSION } from '../version.js';
import { answerJson } from './answer.js';
import type { RetrieverPool } from './pool.js';

export interface McpOptions {
  pool: RetrieverPool;
  config: RagConfig;
  index: string;
  caller: Caller;
}

type ToolResult = { content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

const failure = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

/** Errors an agent can act on (bad filter, empty query) are told; anything else is a generic failure. */
const asToolError = (err: unknown): ToolResult => {
  // Names a chunk: its existence is exactly what must not leak (the operator's log has it).
  if (err instanceof AclViolationError) return failure('search failed: refused by a permission check; the operator has the details');
  if (err instanceof RagError && err.exitCode === 2) return failure(`${err.message}${err.fix ? ` (${err.fix})` : ''}`);
  return failure(`search failed: ${userFacingError(err).message}`);
};

export function buildMcpServer(o: McpOptions): McpServer {
  const server = new McpServer({ name: 'rag', version: VERSION });
  server.registerTool(
    'search',
    {
      title: 'Search the knowledge base',
      description:
        'Permission-filtered search over the indexed documents (hybrid BM25 + vector by default). Returns ranked passages with ' +
        'their doc_id, source, title and text; fetch a whole document with get_document.',
      inputSchema: {
        query: z.string().min(1).describe('what to search for, in natural language or keywords'),
        k: z.number().int().min(1).max(100).optional().describe('number of passages (default 10)'),
        mode: z.enum(['hybrid', 'bm25', 'vector']).optional().describe('bm25 for exact terms and identifiers; default hybrid'),
        filter: z.string().optional().describe('metadata filter, e.g. "product=billing and page>=2" or "connector=pdf"'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, k, mode, filter }): Promise<ToolResult> => {
      const lease = await o.pool.acquire(o.index);
      try {
        const parsed = filter ? parseFilter(filter) : null;
        const res = await lease.retriever.search(query, {
          mode,
          k: k ?? o.config.retrieval.k,
          caller: o.caller,
          filterSql: parsed?.sql,
        });
        const { json } = await answerJson(lease, query, res, o.caller, parsed?.metadataKeys, 'caller');
        const text = res.hits.length
          ? res.hits.map((h) => `[${h.rank}] ${h.chunk.title} — ${h.chunk.source} (doc_id: ${h.chunk.doc_id}, score ${h.score.toFixed(4)})\n${h.chunk.text}`).join('\n\n')
          : `no results for "${query}"`;
        return { content: [{ type: 'text', text }], structuredContent: json };
      } catch (err) {
        return asToolError(err);
      } finally {
        lease.release();
      }
    },
  );
  server.registerTool(
    'get_document',
    {
      title: 'Read a whole document',
      description: 'The full text and metadata of one document by its doc_id (as returned by search).',
      inputSchema: { id: z.string().min(1).describe('the doc_id of a search result') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ id }): Promise<ToolResult> => {
      const lease = await o.pool.acquire(o.index);
      try {
        const doc = await getDocument(lease.store, id, o.caller);
        // Same answer for a document this caller may not see as for one that does not exist.
        if (!doc) return failure(`no document with id "${id}"`);
        return { content: [{ type: 'text', text: `# ${doc.title}\nsource: ${doc.source}\n\n${doc.text}` }], structuredContent: { ...doc } };
      } catch (err) {
        return asToolError(err);
      } finally {
        lease.release();
      }
    },
  );
  return server;
}

/** Serves MCP on stdin/stdout until the client closes the stream. */
export async function runMcpStdio(o: McpOptions): Promise<void> {
  const server = buildMcpServer(o);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
