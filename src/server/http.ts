/**
 * The HTTP/JSON API of `rag serve`. Callers are API keys (keys.ts); every search and document read
 * goes through the same Retriever and `getDocument` as the CLI, so the ACL pre-filter applies.
 *
 * Per request, in order: a request id (echoed in `x-request-id`), the key (401), the key's
 * concurrency slot (429), a lease on the current index generation (pool.ts) — all before the body
 * is read, so the version a request answers from is the one current when it arrived — then body
 * validation, the work under a deadline (503), one JSON access-log line.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { resolveRerank, type RagConfig } from '../engine/config.js';
import { AclViolationError, RagError } from '../engine/errors.js';
import { getDocument } from '../engine/search/documents.js';
import { parseFilter } from '../engine/search/filter.js';
import { VERSION } from '../version.js';
import { answerJson } from './answer.js';
import { callerFor, ForbiddenError, type KeyRecord, type KeyRing } from './keys.js';
import type { ServiceMetrics } from './metrics.js';
import { stampLabel, type Lease, type RetrieverPool } from './pool.js';
import { documentQuery, openApiDocument, queryBody, type DocumentQuery, type QueryBody } from './schemas.js';

export interface HttpOptions {
  pool: RetrieverPool;
  config: RagConfig;
  index: string;
  keys: KeyRing;
  metrics: ServiceMetrics;
  /** A request's work is abandoned (503) after this long; its lease is returned when the work ends. */
  timeoutMs: number;
  bodyLimit: number;
  maxConcurrentPerKey: number;
  /** One structured line per request. */
  accessLog: (entry: Record<string, unknown>) => void;
  /** Unexpected failures (with stack), for the operator. */
  logError: (msg: string) => void;
}

/** What one request holds between arrival and the end of its work. */
interface Ticket {
  key: KeyRecord;
  lease: Lease;
  /** Work started: from then on only the work itself returns the slot and the lease. */
  busy: boolean;
  done: boolean;
  free(): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    ticket?: Ticket;
    startedAt: number;
  }
}

/** Routes served without a key: health, metrics and the API description hold no indexed content. */
const OPEN_ROUTES = new Set(['/healthz', '/metrics', '/openapi.json']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildHttpApp(o: HttpOptions): Promise<FastifyInstance> {
  const inFlight = new Map<string, number>();
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit,
    // A client that sends its request slowly holds a slot; it gets this long to finish sending.
    requestTimeout: Math.max(o.timeoutMs * 2, 10_000),
    return503OnClosing: true,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Requests are JSON as sent: no silently dropped fields, no "5" taken for 5.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  app.decorateRequest('ticket', undefined);
  app.decorateRequest('startedAt', 0);

  app.addHook('onRequest', async (req, reply) => {
    req.startedAt = performance.now();
    reply.header('x-request-id', req.id);
    // Decided on the matched route, not the raw URL (`/%761/query` routes to /v1/query): every
    // route needs a key except the few that expose nothing indexed.
    const route = req.routeOptions.url;
    if (route === undefined || OPEN_ROUTES.has(route)) return;
    const auth = req.headers.authorization;
    const key = o.keys.authenticate(typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7).trim() : undefined);
    if (!key) {
      reply.header('www-authenticate', 'Bearer realm="rag"');
      throw new HttpError(401, 'unauthorized', auth ? 'invalid or revoked API key' : 'missing API key', 'send Authorization: Bearer KEY (create one with `rag keys add`)');
    }
    const n = inFlight.get(key.id) ?? 0;
    if (n >= o.maxConcurrentPerKey) {
      reply.header('retry-after', '1');
      throw new HttpError(429, 'too_many_requests', `this key already has ${n} requests in flight (limit ${o.maxConcurrentPerKey})`, 'retry after the earlier requests finish');
    }
    inFlight.set(key.id, n + 1);
    let lease: Lease;
    try {
      lease = await o.pool.acquire(o.index);
    } catch (err) {
      inFlight.set(key.id, (inFlight.get(key.id) ?? 1) - 1);
      throw err;
    }
    const ticket: Ticket = {
      key,
      lease,
      busy: false,
      done: false,
      free() {
        if (this.done) return;
        this.done = true;
        this.lease.release();
        const left = (inFlight.get(key.id) ?? 1) - 1;
        if (left > 0) inFlight.set(key.id, left);
        else inFlight.delete(key.id);
      },
    };
    req.ticket = ticket;
    reply.header('rag-index-version', stampLabel(lease.stamp));
  });
  // A request that never reaches its work (bad body, abort while sending) returns its slot here.
  const freeIdle = async (req: FastifyRequest) => {
    if (req.ticket && !req.ticket.busy) req.ticket.free();
  };
  app.addHook('onRequestAbort', freeIdle);
  app.addHook('onResponse', async (req, reply) => {
    await freeIdle(req);
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = (performance.now() - req.startedAt) / 1000;
    o.metrics.request(route, req.method, reply.statusCode, seconds);
    o.accessLog({
      time: new Date().toISOString(),
      request_id: req.id,
      method: req.method,
      route,
      path: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(seconds * 1e5) / 100,
      key_id: req.ticket?.key.id ?? null,
      index_version: req.ticket ? stampLabel(req.ticket.lease.stamp) : null,
      remote: req.ip,
    });
  });

  /** Runs a request's work under the deadline; the lease and slot are returned when the work ends, not before. */
  const work = async <T>(req: FastifyRequest, fn: (t: Ticket) => Promise<T>): Promise<T> => {
    const t = req.ticket!;
    t.busy = true;
    const p = fn(t).finally(() => t.free());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(503, 'timeout', `the request took longer than ${o.timeoutMs} ms`, 'retry, or ask for fewer results')), o.timeoutMs);
    });
    try {
      return await Promise.race([p, deadline]);
    } finally {
      clearTimeout(timer);
      p.catch(() => {}); // its failure after the deadline was already answered
    }
  };

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const { status, body } = errorBody(err);
    if (status >= 500 && !(err instanceof HttpError)) o.logError(`request ${req.id}: ${(err as Error).stack ?? String(err)}`);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));

  app.get('/healthz', async (_req, reply) => {
    const s = o.pool.stamp(o.index);
    // A load balancer must stop sending queries to a server that withholds its answers.
    const withheld = o.pool.withheld(o.index);
    if (withheld) reply.code(503);
    return { status: withheld ? 'withheld' : 'ok', index: o.index, index_version: s ? stampLabel(s) : null, uptime_s: Math.round(process.uptime()) };
  });
  app.get('/metrics', async (_req, reply) => reply.type(o.metrics.contentType).send(await o.metrics.text()));
  const doc = openApiDocument(VERSION);
  app.get('/openapi.json', async () => doc);

  app.post<{ Body: QueryBody }>('/v1/query', { schema: { body: queryBody } }, async (req) =>
    work(req, async (t) => {
      const b = req.body;
      const caller = callerFor(t.key, { as: b.as, tenant: b.tenant });
      const filter = b.filter ? parseFilter(b.filter) : null;
      let lease = t.lease;
      if (b.index && b.index !== o.index) {
        lease = await o.pool.acquire(b.index); // an unknown name is a UsageError: 400 naming the indexes there are
      }
      try {
        const res = await lease.retriever.search(b.query, {
          mode: b.mode,
          k: b.k ?? o.config.retrieval.k,
          caller,
          filterSql: filter?.sql,
          rerank: resolveRerank(b.rerank, o.config),
          rerankTopN: b.rerank_top_n,
          rrfK: b.rrf_k,
        });
        o.metrics.search(res);
        return (await answerJson(lease, b.query, res, caller, filter?.metadataKeys, 'caller')).json;
      } finally {
        if (lease !== t.lease) lease.release();
      }
    }),
  );

  app.get<{ Params: { '*': string }; Querystring: DocumentQuery }>('/v1/documents/*', { schema: { querystring: documentQuery } }, async (req, reply) =>
    work(req, async (t) => {
      const as = [req.query.as ?? []].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
      const caller = callerFor(t.key, { as, tenant: req.query.tenant });
      const found = await getDocument(t.lease.store, req.params['*'], caller);
      // Invisible and missing are the same null, so they get the same answer, byte for byte.
      if (!found) return reply.code(404).send({ error: { code: 'not_found', message: 'no such document' } });
      return found;
    }),
  );

  await app.ready();
  return app;
}

function errorBody(err: unknown): { status: number; body: { error: { code: string; message: string; fix?: string } } } {
  const out = (status: number, code: string, message: string, fix?: string) => ({ status, body: { error: { code, message, ...(fix ? { fix } : {}) } } });
  if (err instanceof HttpError) return out(err.status, err.code, err.message, err.fix);
  if (err instanceof ForbiddenError) return out(403, 'forbidden', err.message, 'ask only for principals and the tenant your key holds (`rag keys list`)');
  // Names a chunk: its existence is exactly what must not leak.
  if (err instanceof AclViolationError) return out(500, 'internal', 'the search was refused by a permission check; the operator has the details');
  if (err instanceof RagError) return err.exitCode === 2 ? out(400, 'invalid_request', err.message, err.fix) : out(500, 'store', err.message, err.fix);
  const fe = err as FastifyError;
  if (fe.validation) return out(400, 'invalid_request', validationMessage(fe), 'see /openapi.json for the request schema');
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return out(413, 'body_too_large', fe.message);
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return out(415, 'unsupported_media_type', 'send Content-Type: application/json');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return out(fe.statusCode, 'invalid_request', fe.message);
  return out(500, 'internal', 'internal error; the operator has the details');
}

/** One line naming the field: `body.k must be <= 10000`, `body has an unknown field "top_k"`. */
function validationMessage(fe: FastifyError): string {
  const v = fe.validation![0]!;
  const where = `${fe.validationContext ?? 'request'}${v.instancePath.replace(/\//g, '.')}`;
  const params = v.params as Record<string, unknown>;
  if (v.keyword === 'additionalProperties') return `${where} has an unknown field "${String(params.additionalProperty)}"`;
  if (v.keyword === 'required') return `${where} is missing the field "${String(params.missingProperty)}"`;
  if (v.keyword === 'enum') return `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
  return `${where} ${v.message ?? 'is invalid'}`;
}
