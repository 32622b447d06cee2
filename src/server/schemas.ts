/**
 * JSON schemas of the HTTP API: Fastify validates requests with them and `/openapi.json` publishes
 * them, so the document cannot drift from what the service accepts.
 */

const PRINCIPAL = { type: 'string', pattern: "^(public|(user|group|role|service):[^\\s,']+)$" } as const;

/** `POST /v1/query`: the options of `rag query`, snake_case. */
export const queryBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, maxLength: 4096, description: 'the text to search for' },
    mode: { type: 'string', enum: ['hybrid', 'bm25', 'vector'], description: 'default: hybrid when the index has vectors' },
    k: { type: 'integer', minimum: 1, maximum: 10000, description: 'number of results (default retrieval.k, 10)' },
    index: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'index name (default: the one `rag serve` was started for)' },
    filter: { type: 'string', maxLength: 2000, description: 'metadata filter, e.g. "product=billing and page>=2"' },
    rerank: {
      anyOf: [{ type: 'boolean' }, { type: 'string', minLength: 1 }],
      description: 'true: the configured (or default) cross-encoder; an id from `rag models list`; false: none',
    },
    rerank_top_n: { type: 'integer', minimum: 1, maximum: 1000, description: 'candidates sent to the reranker' },
    rrf_k: { type: 'integer', minimum: 0, description: 'reciprocal rank fusion constant' },
    as: {
      type: 'array',
      items: PRINCIPAL,
      maxItems: 64,
      description: "narrow the key's principals to these (each must be held by the key; public always is)",
    },
    tenant: { type: 'string', minLength: 1, description: "must be the key's tenant when given" },
  },
} as const;

export interface QueryBody {
  query: string;
  mode?: 'hybrid' | 'bm25' | 'vector';
  k?: number;
  index?: string;
  filter?: string;
  rerank?: boolean | string;
  rerank_top_n?: number;
  rrf_k?: number;
  as?: string[];
  tenant?: string;
}

/** `GET /v1/documents/{id}` query string: the same narrowing, `as` repeated or comma-separated. */
export const documentQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    as: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 64 }] },
    tenant: { type: 'string', minLength: 1 },
  },
} as const;

export interface DocumentQuery {
  as?: string | string[];
  tenant?: string;
}

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, fix: { type: 'string' } },
    },
  },
} as const;

const hit = {
  type: 'object',
  properties: {
    rank: { type: 'integer' },
    doc_id: { type: 'string' },
    chunk_id: { type: 'string' },
    score: { type: 'number' },
    source: { type: 'string' },
    title: { type: 'string' },
    heading_path: { type: 'array', items: { type: 'string' } },
    page: { type: ['integer', 'null'] },
    char_start: { type: 'integer' },
    char_end: { type: 'integer' },
    text: { type: 'string' },
    scores: { type: 'object', additionalProperties: { type: 'number' } },
  },
} as const;

const queryResult = {
  type: 'object',
  description: 'exactly what `rag query --json` prints',
  properties: {
    query: { type: 'string' },
    mode: { type: 'string' },
    index: { type: 'string' },
    model: { type: ['string', 'null'] },
    caller: { type: 'object', properties: { principals: { type: 'array', items: { type: 'string' } }, tenant: { type: 'string' } } },
    timings: { type: 'object', additionalProperties: { type: 'number' } },
    results: { type: 'array', items: hit },
  },
} as const;

const documentView = {
  type: 'object',
  properties: {
    doc_id: { type: 'string' },
    title: { type: 'string' },
    source: { type: 'string' },
    connector: { type: 'string' },
    text: { type: 'string' },
    metadata: { type: 'object' },
    acl: { type: 'array', items: { type: 'string' } },
    tenant: { type: 'string' },
    ingested_at: { type: 'string' },
    content_hash: { type: 'string' },
  },
} as const;

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const failures = {
  '400': json(error, 'invalid request (the message names the field)'),
  '401': json(error, 'missing, malformed, unknown or revoked API key'),
  '403': json(error, 'the request asks for principals or a tenant beyond its key'),
  '413': json(error, 'body larger than the limit'),
  '429': json(error, "too many concurrent requests for this key (see Retry-After)"),
  '503': json(error, 'the request timed out, or the service is shutting down'),
};

/** The `/healthz` answer, 200 when serving and 503 when answers are withheld. */
const health = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok', 'withheld'] }, index: { type: 'string' }, index_version: { type: 'string' }, uptime_s: { type: 'number' } },
} as const;

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'rag',
      version,
      description:
        'Permission-filtered retrieval. Every /v1 request carries `Authorization: Bearer KEY` (a key from `rag keys add`); ' +
        "the caller is the key's principals and tenant, optionally narrowed by the request, never widened. " +
        'Every response carries `x-request-id` (echoed when the request sends a valid one).',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a key printed by `rag keys add`' } } },
    paths: {
      '/v1/query': {
        post: {
          summary: 'Search the index (same options and answer as `rag query --json`)',
          security: [{ apiKey: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: queryBody } } },
          responses: { '200': json(queryResult, 'ranked passages the caller may see'), ...failures },
        },
      },
      '/v1/documents/{id}': {
        get: {
          summary: 'One whole document, if the caller may see it',
          description: 'A document the caller may not see gets the same 404 as one that does not exist. URL-encode the id (slashes may stay as they are).',
          security: [{ apiKey: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'as', in: 'query', required: false, schema: { type: 'string' }, description: 'narrow to these principals (comma-separated or repeated)' },
            { name: 'tenant', in: 'query', required: false, schema: { type: 'string' } },
          ],
          responses: { '200': json(documentView, 'the document'), '404': json(error, 'no such document, or not visible to this caller'), ...failures },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness and the index version served',
          responses: {
            '200': json(health, 'serving'),
            '503': json(health, 'answers withheld: a newer index version has been unreadable past --stale-limit (status "withheld")'),
          },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format', content: { 'text/plain': {} } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
