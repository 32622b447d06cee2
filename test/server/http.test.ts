/**
 * `rag serve` as a real process on loopback, called with Node's own HTTP client: authentication,
 * narrowing, 404 equivalence, the shared JSON shape, validation and limits, the observability
 * endpoints.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, rag } from '../helpers/cli.js';
import { addKey, fixtureStore, heldRequest, request, startServe, waitFor, type Served } from './serve-process.js';

let dir: string;
let db: string;
let keysFile: string;
let served: Served;
const keys: Record<string, string> = {};
const SALARY = 'docs/internal/salary-bands.md';

beforeAll(async () => {
  ({ dir, db } = fixtureStore());
  keysFile = path.join(dir, 'keys.json');
  keys.hr = addKey(dir, keysFile, ['--as', 'group:hr', '--name', 'hr']);
  keys.plain = addKey(dir, keysFile, []);
  keys.globex = addKey(dir, keysFile, ['--as', 'group:globex-engineering', '--tenant', 'globex']);
  keys.revoked = addKey(dir, keysFile, ['--as', 'group:hr']);
  served = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--keys', keysFile, '--max-body-kb', '1', '--max-concurrent', '2'], { cwd: dir });
}, 300_000);

afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const query = (key: string | undefined, body: unknown) => request(`${served.url}/v1/query`, { key, body });
const docIds = (r: { json(): { results: { doc_id: string }[] } }) => r.json().results.map((h) => h.doc_id);

describe('callers are API keys', () => {
  it('401 without a key, with a malformed or unknown one; the answer says how to get one', async () => {
    for (const key of [undefined, 'nonsense', `${keys.hr!.slice(0, -2)}xx`]) {
      const r = await query(key, { query: 'salary bands' });
      expect(r.status, String(key)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="rag"');
      expect(r.json().error.code).toBe('unauthorized');
      expect(r.json().error.fix).toMatch(/rag keys add/);
    }
    expect((await request(`${served.url}/v1/documents/${SALARY}`)).status).toBe(401);
    // A percent-encoded path routes to the same handler: it needs the same key.
    const encoded = await request(`${served.url}/%761/query`, { method: 'POST', body: { query: 'salary bands' } });
    expect(encoded.status).toBe(401);
    expect(encoded.json().error.code).toBe('unauthorized');
  });

  it("searches with the key's principals: the HR key finds the salary bands, a plain key does not", async () => {
    expect(docIds(await query(keys.hr, { query: 'salary bands', k: 5 }))).toContain(SALARY);
    const plain = await query(keys.plain, { query: 'salary bands', k: 5 });
    expect(plain.status).toBe(200);
    expect(docIds(plain)).not.toContain(SALARY);
    expect(plain.json().caller).toEqual({ principals: ['public'], tenant: 'acme' });
  });

  it('a request may narrow its principals (403 when it asks beyond them, or for another tenant)', async () => {
    const narrowed = await query(keys.hr, { query: 'salary bands', k: 5, as: ['public'] });
    expect(narrowed.status).toBe(200);
    expect(docIds(narrowed)).not.toContain(SALARY);
    expect(narrowed.json().caller.principals).toEqual(['public']);
    const wider = await query(keys.plain, { query: 'salary bands', as: ['group:hr'] });
    expect(wider.status).toBe(403);
    expect(wider.json().error).toMatchObject({ code: 'forbidden', message: 'this key does not hold group:hr' });
    const tenant = await query(keys.hr, { query: 'salary bands', tenant: 'globex' });
    expect(tenant.status).toBe(403);
    const doc = await request(`${served.url}/v1/documents/${SALARY}?as=group:hr,group:sre`, { key: keys.hr });
    expect(doc.status).toBe(403);
  });

  it('a key is bound to its tenant: the globex key sees globex documents, never acme ones', async () => {
    const r = await query(keys.globex, { query: 'invoice billing salary bands api key', k: 20 });
    expect(r.status).toBe(200);
    expect(r.json().caller.tenant).toBe('globex');
    const ids = [...new Set(docIds(r))];
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const doc = await request(`${served.url}/v1/documents/${encodeURIComponent(id)}`, { key: keys.globex });
      expect(doc.json().tenant, id).toBe('globex');
    }
    expect((await request(`${served.url}/v1/documents/docs%2Fapi-keys.md`, { key: keys.globex })).status).toBe(404);
  });

  it('a key revoked with `rag keys revoke` is refused within seconds, without a restart', async () => {
    expect((await query(keys.revoked, { query: 'salary' })).status).toBe(200);
    const id = keys.revoked!.split('_')[1]!;
    const r = rag(['keys', 'revoke', id, '--keys', keysFile], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const ms = await waitFor(async () => (await query(keys.revoked, { query: 'salary' })).status === 401, 10_000, 'the revoked key to be refused');
    expect(ms).toBeLessThan(5000);
  });
});

describe('documents: visible, or the same 404 as a missing one', () => {
  it('returns a document the key may see, by plain or encoded id', async () => {
    for (const id of [SALARY, encodeURIComponent(SALARY)]) {
      const r = await request(`${served.url}/v1/documents/${id}`, { key: keys.hr });
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({ doc_id: SALARY, title: 'Engineering salary bands 2024', tenant: 'acme' });
      expect(r.json().text).toContain('salary bands');
    }
  });

  it('an invisible document and a missing one get byte-identical answers', async () => {
    const answers = [
      await request(`${served.url}/v1/documents/${SALARY}`, { key: keys.plain }), // exists, not visible
      await request(`${served.url}/v1/documents/${SALARY}?as=public`, { key: keys.hr }), // narrowed away
      await request(`${served.url}/v1/documents/pdf/security-whitepaper.pdf`, { key: keys.hr }), // group:security only
      await request(`${served.url}/v1/documents/${SALARY}`, { key: keys.globex }), // another tenant
      await request(`${served.url}/v1/documents/docs/no-such-document.md`, { key: keys.hr }), // missing
    ];
    const shape = (r: (typeof answers)[number]) => {
      const { date: _d, 'x-request-id': _id, 'rag-index-version': _v, ...headers } = r.headers;
      return { status: r.status, text: r.text, headers };
    };
    expect(answers[0]!.status).toBe(404);
    for (const a of answers) expect(shape(a)).toEqual(shape(answers[4]!));
  });
});

describe('POST /v1/query', () => {
  it('answers with exactly the JSON of `rag query --json` (timings aside)', async () => {
    for (const mode of ['bm25', 'vector', 'hybrid']) {
      const cli = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'rotate a leaked API key', '--mode', mode, '-k', '4', '--as', 'group:hr', '--no-daemon'], { cwd: dir });
      expect(cli.code, cli.stderr).toBe(0);
      const http = await query(keys.hr, { query: 'rotate a leaked API key', mode, k: 4 });
      expect(http.status).toBe(200);
      const strip = ({ timings, ...rest }: Record<string, unknown>) => {
        expect(Object.keys(timings as object)).toContain('total_ms');
        return rest;
      };
      // One deliberate difference: a key holder learns whether the index is current, not the
      // counts behind it (they span every tenant of the store).
      const fromCli = strip(cli.json());
      expect(fromCli.index_freshness).toEqual({ current: true, missing_documents: 0, partial_documents: 0, stale_documents: 0 });
      expect(strip(http.json())).toEqual({ ...fromCli, index_freshness: { current: true } });
    }
  });

  it('explains an empty answer without naming other tenants or keys only restricted documents carry', async () => {
    // `confidential` is front matter of the HR-only salary bands: the HR key is told it exists, a plain key is not.
    const hr = await query(keys.hr, { query: 'rotate an API key', filter: 'colour=red' });
    expect(hr.status).toBe(200);
    expect(hr.json().results).toEqual([]);
    expect(hr.json().explanation).toMatch(/^--filter names metadata key no document visible in tenant "acme" has: colour \(keys there: .*\bconfidential\b/);
    const plain = await query(keys.plain, { query: 'rotate an API key', filter: 'colour=red' });
    expect(plain.json().explanation).toMatch(/^--filter names metadata key no document visible in tenant "acme" has: colour \(keys there: /);
    expect(plain.json().explanation).not.toMatch(/confidential/);
    const probe = await query(keys.plain, { query: 'salary', filter: 'confidential=true' });
    expect(probe.json().explanation).toMatch(/no document visible in tenant "acme" has: confidential/);
  });

  it('applies filter, rrf_k and index like the CLI', async () => {
    const r = await query(keys.hr, { query: 'service credits', filter: 'connector=pdf', k: 3, rrf_k: 60, index: 'default' });
    expect(r.status).toBe(200);
    expect(r.json().results.every((h: { source: string }) => h.source.endsWith('.pdf'))).toBe(true);
    const bad = await query(keys.hr, { query: 'x', filter: 'page>>2' });
    expect(bad.status).toBe(400);
    expect(bad.json().error.message).toMatch(/invalid --filter/);
    const noIndex = await query(keys.hr, { query: 'x', index: 'nope' });
    expect(noIndex.status).toBe(400);
    expect(noIndex.json().error.message).toMatch(/no index named "nope"/);
  });

  it('validates the body against the published schema, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ query: 'x', top_k: 3 }, /body has an unknown field "top_k"/],
      [{ k: 3 }, /body is missing the field "query"/],
      [{ query: 'x', k: 0 }, /body\.k must be >= 1/],
      [{ query: 'x', k: '5' }, /body\.k must be integer/],
      [{ query: 'x', mode: 'fuzzy' }, /body\.mode must be one of hybrid, bm25, vector/],
      [{ query: 'x', as: ['hr'] }, /body\.as\.0 must match pattern/],
      ['{"query": ', /JSON/i],
    ];
    for (const [body, message] of cases) {
      const r = await query(keys.hr, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json().error.message).toMatch(message);
    }
  });

  it('refuses a body over the limit with 413', async () => {
    const r = await query(keys.hr, { query: 'x'.repeat(3000) });
    expect(r.status).toBe(413);
    expect(r.json().error.code).toBe('body_too_large');
  });

  it('limits requests in flight per key with 429 and Retry-After; other keys are not affected', async () => {
    const held = [heldRequest(`${served.url}/v1/query`, keys.plain!, { query: 'first' }), heldRequest(`${served.url}/v1/query`, keys.plain!, { query: 'second' })];
    await waitFor(async () => (await query(keys.plain, { query: 'third' })).status === 429, 10_000, 'the third request to be refused');
    const third = await query(keys.plain, { query: 'third' });
    expect(third.headers['retry-after']).toBe('1');
    expect(third.json().error.code).toBe('too_many_requests');
    expect((await query(keys.hr, { query: 'other key' })).status).toBe(200);
    const done = await Promise.all(held.map((h) => h.finish()));
    expect(done.map((d) => d.status)).toEqual([200, 200]);
    expect((await query(keys.plain, { query: 'fourth' })).status).toBe(200);
  });
});

describe('operations', () => {
  it('serves an OpenAPI 3.1 document with the versioned routes and the request schema', async () => {
    const r = await request(`${served.url}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/query', '/v1/documents/{id}', '/healthz', '/metrics']));
    expect(doc.paths['/v1/query'].post.requestBody.content['application/json'].schema.properties.k).toMatchObject({ type: 'integer', maximum: 10000 });
  });

  it('reports health and the index version', async () => {
    const r = await request(`${served.url}/healthz`);
    expect(r.json()).toMatchObject({ status: 'ok', index: 'default' });
    expect(r.json().index_version).toMatch(/^idx_default@\d+$/);
  });

  it('exposes Prometheus metrics: requests, stage latency, caches, index version', async () => {
    await query(keys.hr, { query: 'audit log retention', mode: 'hybrid' });
    await query(keys.hr, { query: 'audit log retention', mode: 'hybrid' });
    const r = await request(`${served.url}/metrics`);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    const t = r.text;
    expect(t).toMatch(/rag_http_requests_total\{route="\/v1\/query",method="POST",status="200"\} \d+/);
    expect(t).toMatch(/rag_http_requests_total\{route="\/v1\/query",method="POST",status="401"\} [1-9]/);
    for (const stage of ['embed', 'bm25', 'vector', 'fuse', 'fetch', 'total']) {
      expect(t).toMatch(new RegExp(`rag_search_stage_duration_seconds_count\\{stage="${stage}",mode="hybrid"\\} [1-9]`));
    }
    expect(t).toMatch(/rag_query_vector_cache_hits\{index="default"\} [1-9]/);
    expect(t).toMatch(/rag_passage_cache_hits\{index="default"\} [1-9]/);
    expect(t).toMatch(/rag_index_version\{index="default",table="idx_default"\} \d+/);
  });

  it('writes one JSON access-log line per request, with the request id it echoes', async () => {
    const mine = await query(keys.hr, { query: 'webhooks' });
    const given = await request(`${served.url}/healthz`, { headers: { 'x-request-id': 'trace-42' } });
    expect(given.headers['x-request-id']).toBe('trace-42');
    const id = mine.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => served.log().some((l) => l.request_id === 'trace-42'), 5000, 'the access-log line');
    const line = served.log().find((l) => l.request_id === id)!;
    expect(line).toMatchObject({ method: 'POST', route: '/v1/query', status: 200, key_id: keys.hr!.split('_')[1] });
    expect(line.index_version).toMatch(/^idx_default@\d+$/);
    expect(typeof line.ms).toBe('number');
    expect(served.stdout()).not.toContain(keys.hr!); // keys never reach the log
  });
});
