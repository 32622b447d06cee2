/**
 * The local side of `rag serve`: answers `rag query` from the same user over a Unix socket with the
 * warm retriever, so a terminal user pays the model load once, not per query.
 *
 * The socket's directory admits only its owner, who can read the store anyway, so the caller is
 * taken from the query's flags exactly as the in-process `rag query` takes them. The daemon answers
 * only for its own store and config; anything else is declined and the client searches in-process.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { resolveCaller } from '../engine/acl.js';
import { resolveRerank, type RagConfig } from '../engine/config.js';
import { AclViolationError, EXIT, RagError } from '../engine/errors.js';
import { userFacingError } from '../engine/store/store-errors.js';
import { parseFilter } from '../engine/search/filter.js';
import { staleIndexLine } from '../render/freshness.js';
import { renderQueryTable } from '../render/query-table.js';
import { answerJson } from './answer.js';
import { ensurePrivateDir, LOCAL_BODY_LIMIT, socketPath } from './local-socket.js';
import type { ServiceMetrics } from './metrics.js';
import type { RetrieverPool } from './pool.js';
import type { QueryBody } from './schemas.js';

/**
 * What `rag query` sends: the HTTP body, plus what the daemon checks before answering (which store
 * and config) and what only the store's owner may send (a config profile).
 */
export interface LocalQuery extends QueryBody {
  db: string;
  /** The client's config file text (null: none), compared with the daemon's own. */
  config_text: string | null;
  profile?: string;
  /**
   * The client's terminal, when it prints the results table: the daemon draws it (warm code, ~1 ms)
   * so the client process need not (~9 ms of a cold process's first render of 10 SciFact hits).
   */
  view?: { width: number | null; color: boolean };
}

export interface LocalAnswer {
  result: Record<string, unknown>;
  /** The reranker actually used (the config may add one the flags did not name). */
  rerank: string | null;
  notices: string[];
  /** The results table drawn for the client's `view`, exactly as `rag query` draws it in-process. */
  text?: string;
}

export interface LocalError {
  error: { message: string; fix?: string; exit_code: number };
}

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['db', 'config_text', 'query'],
  properties: {
    db: { type: 'string' },
    config_text: { type: ['string', 'null'] },
    query: { type: 'string' },
    mode: { type: 'string', enum: ['hybrid', 'bm25', 'vector'] },
    k: { type: 'integer', minimum: 1, maximum: 10000 },
    index: { type: 'string' },
    filter: { type: 'string' },
    rerank: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
    rerank_top_n: { type: 'integer', minimum: 1 },
    rrf_k: { type: 'integer', minimum: 0 },
    as: { type: 'array', items: { type: 'string' } },
    tenant: { type: 'string' },
    profile: { type: 'string' },
    view: {
      type: 'object',
      additionalProperties: false,
      required: ['width', 'color'],
      properties: { width: { type: ['integer', 'null'], minimum: 1 }, color: { type: 'boolean' } },
    },
  },
} as const;

export interface LocalOptions {
  pool: RetrieverPool;
  /** A query without --index gets `config.index.name`, as in-process: never the index `rag serve --index` warms for HTTP. */
  config: RagConfig;
  /** The store as resolved (`resolveDb`). */
  db: string;
  configText: string | null;
  metrics: ServiceMetrics;
  accessLog: (entry: Record<string, unknown>) => void;
  logError: (msg: string) => void;
}

/**
 * Listens on the store's socket. Null (with the reason) when the runtime directory is not private
 * or another live daemon already serves this store.
 */
export async function listenLocal(o: LocalOptions): Promise<{ app: FastifyInstance; socket: string } | { app: null; reason: string }> {
  const socket = socketPath(o.db);
  if (!ensurePrivateDir(path.dirname(socket))) return { app: null, reason: `${path.dirname(socket)} is not a directory only you can enter (mode 0700)` };
  if (existsSync(socket)) {
    if (await answers(socket)) return { app: null, reason: `another rag serve already answers local queries for this store (${socket})` };
    unlinkSync(socket); // left by a daemon that was killed
  }
  const app = Fastify({ logger: false, bodyLimit: LOCAL_BODY_LIMIT, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
  app.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { validation?: unknown };
    if (e.validation) return reply.code(400).send({ error: { message: e.message, exit_code: EXIT.USAGE } } satisfies LocalError);
    if (err instanceof RagError && !(err instanceof AclViolationError)) {
      return reply.code(err.exitCode === EXIT.USAGE ? 400 : 500).send({ error: { message: err.message, fix: err.fix, exit_code: err.exitCode } } satisfies LocalError);
    }
    o.logError((err as Error).stack ?? String(err));
    const message = err instanceof AclViolationError ? err.message : `rag serve failed: ${userFacingError(err).message}`;
    return reply.code(500).send({ error: { message, exit_code: EXIT.STORE } } satisfies LocalError);
  });
  app.addHook('onResponse', async (req, reply) => {
    const seconds = (performance.now() - (req as unknown as { t0: number }).t0) / 1000;
    o.metrics.request('/local/query', req.method, reply.statusCode, seconds);
    o.accessLog({ time: new Date().toISOString(), request_id: req.id, method: req.method, route: 'local', path: req.url, status: reply.statusCode, ms: Math.round(seconds * 1e5) / 100 });
  });
  app.addHook('onRequest', async (req) => {
    (req as unknown as { t0: number }).t0 = performance.now();
  });
  app.get('/local/ping', async () => ({ db: o.db, pid: process.pid }));
  app.post<{ Body: LocalQuery }>('/local/query', { schema: { body } }, async (req, reply) => {
    const b = req.body;
    if (b.db !== o.db || b.config_text !== o.configText) {
      return reply.code(409).send({ error: { message: 'this daemon serves another store or config', exit_code: EXIT.USAGE } } satisfies LocalError);
    }
    const caller = resolveCaller(o.config, { as: b.as, tenant: b.tenant, profile: b.profile });
    const lease = await o.pool.acquire(b.index ?? o.config.index.name);
    try {
      const rerank = resolveRerank(b.rerank, o.config);
      const r = lease.retriever;
      const filter = b.filter ? parseFilter(b.filter) : null;
      const res = await r.search(b.query, {
        mode: b.mode,
        k: b.k ?? o.config.retrieval.k,
        caller,
        filterSql: filter?.sql,
        rerank,
        rerankTopN: b.rerank_top_n,
        rrfK: b.rrf_k,
      });
      o.metrics.search(res);
      // The same freshness notice and empty-answer explanation as an in-process `rag query` prints.
      const { json, freshness } = await answerJson(lease, b.query, res, caller, filter?.metadataKeys, 'owner');
      const notices = freshness.current ? [] : [staleIndexLine(r.manifest.name, freshness, o.config.index.name)];
      const text = b.view ? renderQueryTable(json, rerank, (json as { explanation?: string }).explanation, { width: b.view.width ?? undefined, color: b.view.color }) : undefined;
      return { result: json, rerank, notices, text } satisfies LocalAnswer;
    } finally {
      lease.release();
    }
  });
  await app.listen({ path: socket });
  chmodSync(socket, 0o600);
  return { app, socket };
}

/** Whether a live process accepts connections on `socket`. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
