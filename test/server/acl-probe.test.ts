/**
 * A randomized permission probe through the HTTP API: many keys (random principals and tenants,
 * randomly narrowed per request) × queries aimed at restricted documents × every mode. Each hit is
 * judged against the documents table itself; each document read must be 200 exactly when visible.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVisible } from '../../src/engine/acl.js';
import { mulberry32 } from '../../src/engine/evaluation/stats.js';
import { DOCUMENTS, Store } from '../../src/engine/store/store.js';
import type { Caller } from '../../src/engine/types.js';
import { addKey as makeKey, type KeyRecord } from '../../src/server/keys.js';
import { FIXTURE_CONFIG, ROOT } from '../helpers/cli.js';
import { fixtureStore, request, startServe, type Served } from './serve-process.js';

const SEED = 20240611;
const KEYS = 10;
const QUERIES = 16;
const MODES = ['bm25', 'vector', 'hybrid'] as const;

interface Doc {
  doc_id: string;
  title: string;
  text: string;
  acl: string[];
  tenant: string;
}

let dir: string;
let served: Served;
let docs: Map<string, Doc>;
let keys: { key: string; record: KeyRecord }[];
let queries: string[];

beforeAll(async () => {
  const built = fixtureStore();
  dir = built.dir;
  const store = await Store.open(built.db);
  docs = new Map((await store.readAll<Doc>(DOCUMENTS, ['doc_id', 'title', 'text', 'acl', 'tenant'], 'deleted = false')).map((d) => [d.doc_id, d]));
  store.close();

  const rand = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const principals = [...new Set([...docs.values()].flatMap((d) => d.acl))].filter((p) => p !== 'public');
  principals.push('group:nobody', 'user:mallory');
  const tenants = [...new Set([...docs.values()].map((d) => d.tenant)), 'initech'];
  const file = path.join(dir, 'probe.keys.json');
  keys = Array.from({ length: KEYS }, () =>
    makeKey(file, { principals: principals.filter(() => rand() < 0.3), tenant: rand() < 0.75 ? 'acme' : pick(tenants) }),
  );

  // Queries aimed at what most keys may not see: titles and phrases of restricted documents,
  // plus the goldens' everyday questions.
  const restricted = [...docs.values()].filter((d) => !d.acl.includes('public'));
  const goldens = readFileSync(path.join(ROOT, 'goldens/fixtures.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).query as string);
  queries = Array.from({ length: QUERIES }, (_, i) => {
    if (i % 4 === 3) return pick(goldens);
    const d = pick(restricted);
    const words = d.text.split(/\s+/).filter((w) => /^[A-Za-z]{5,}$/.test(w));
    const at = Math.floor(rand() * Math.max(1, words.length - 6));
    return i % 2 ? d.title : words.slice(at, at + 6).join(' ') || d.title;
  });
  served = await startServe(['--db', built.db, '--config', FIXTURE_CONFIG], ['--keys', file, '--no-socket', '--max-concurrent', '64'], { cwd: dir });
}, 300_000);

afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('randomized ACL probe over HTTP', () => {
  it(`${KEYS} keys × ${QUERIES} queries × ${MODES.length} modes, randomly narrowed: no hit the caller may not see`, async () => {
    const rand = mulberry32(SEED + 1);
    const leaks: string[] = [];
    let hits = 0;
    let restrictedHits = 0;
    for (const { key, record } of keys) {
      for (const q of queries) {
        for (const mode of MODES) {
          const as = rand() < 0.3 ? record.principals.filter(() => rand() < 0.5) : undefined;
          const r = await request(`${served.url}/v1/query`, { key, body: { query: q, mode, k: 10, ...(as?.length ? { as } : {}) } });
          expect(r.status, r.text).toBe(200);
          const caller = r.json().caller as Caller;
          const expected = [...new Set(['public', ...(as?.length ? as : record.principals)])].sort();
          expect(caller).toEqual({ principals: expected, tenant: record.tenant });
          for (const h of r.json().results as { doc_id: string }[]) {
            hits++;
            const doc = docs.get(h.doc_id);
            if (!doc || !isVisible(doc, caller)) leaks.push(`${record.id} ${JSON.stringify(caller)} "${q}" ${mode} → ${h.doc_id}`);
            else if (!doc.acl.includes('public')) restrictedHits++;
          }
        }
      }
    }
    expect(leaks, leaks.join('\n')).toEqual([]);
    // The probe has power: restricted documents do come back, to the keys allowed to see them.
    expect(restrictedHits).toBeGreaterThan(0);
    console.log(`ACL probe: ${KEYS * QUERIES * MODES.length} queries, ${hits} hits (${restrictedHits} restricted, all to permitted keys), 0 leaks`);
  });

  it('every document × every key: 200 exactly when visible, otherwise the one 404', async () => {
    let visible = 0;
    let hidden = 0;
    const notFound = new Set<string>();
    for (const { key, record } of keys) {
      const caller: Caller = { principals: ['public', ...record.principals], tenant: record.tenant };
      for (const doc of docs.values()) {
        const r = await request(`${served.url}/v1/documents/${encodeURIComponent(doc.doc_id)}`, { key });
        if (isVisible(doc, caller)) {
          expect(r.status, `${doc.doc_id} for ${JSON.stringify(caller)}`).toBe(200);
          expect(r.json().doc_id).toBe(doc.doc_id);
          visible++;
        } else {
          expect(r.status, `${doc.doc_id} for ${JSON.stringify(caller)}`).toBe(404);
          notFound.add(r.text);
          hidden++;
        }
      }
    }
    expect(visible).toBeGreaterThan(0);
    expect(hidden).toBeGreaterThan(0);
    expect([...notFound]).toEqual(['{"error":{"code":"not_found","message":"no such document"}}']);
  });
});
