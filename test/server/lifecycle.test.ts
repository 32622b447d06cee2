/**
 * A running `rag serve` over time: a writer's new version is served without a restart while a
 * request in flight finishes on the version it started on; SIGTERM drains and exits 0.
 */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, MODELS_DIR, rag, requireModel, STATIC_MODEL } from '../helpers/cli.js';

const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
import { addKey, fixtureStore, heldRequest, request, startServe, waitFor, type Served } from './serve-process.js';

let dir: string;
let db: string;
let cli: ReturnType<typeof fixtureStore>['cli'];
let keysFile: string;
let key: string;
let other: string;
const running: Served[] = [];

beforeAll(() => {
  ({ dir, db, cli } = fixtureStore());
  keysFile = path.join(dir, 'keys.json');
  key = addKey(dir, keysFile, ['--as', 'group:hr']);
  other = addKey(dir, keysFile, []);
}, 300_000);

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** With --max-concurrent 1, a 429 for `key` proves the held request has its slot, and so its lease. */
async function inFlight(url: string, k: string): Promise<void> {
  await waitFor(async () => (await request(`${url}/v1/query`, { key: k, body: { query: 'probe' } })).status === 429, 20_000, 'the held request to be in flight');
}

describe('new index versions', () => {
  it('are served without a restart, while a request in flight finishes on its own version', async () => {
    const s = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--keys', keysFile, '--refresh-ms', '200', '--max-concurrent', '1', '--no-socket'], { cwd: dir });
    running.push(s);
    const ask = (k: string) => request(`${s.url}/v1/query`, { key: k, body: { query: 'zebraquartz', mode: 'bm25', k: 5 } });
    const before = await ask(other);
    expect(before.json().results).toEqual([]);
    const v0 = before.headers['rag-index-version'] as string;
    expect(v0).toMatch(/^idx_default@\d+$/);

    const held = heldRequest(`${s.url}/v1/query`, key, { query: 'zebraquartz', mode: 'bm25', k: 5 });
    await inFlight(s.url, key);

    writeFileSync(path.join(dir, 'docs', 'zebra.md'), '# Zebra\n\nThe zebraquartz release note: a marker only this test writes.\n');
    expect(cli(['ingest', 'docs']).code).toBe(0);
    const idx = cli(['index']);
    expect(idx.code, idx.stderr).toBe(0);
    const ms = await waitFor(async () => (await ask(other)).json().results.length > 0, 30_000, 'the new document to be served');
    console.log(`version pickup: new document served ${ms} ms after \`rag index\` returned (--refresh-ms 200)`);
    const after = await ask(other);
    expect(after.json().results[0].doc_id).toBe('docs/zebra.md');
    expect(after.headers['rag-index-version']).not.toBe(v0);
    expect((await request(`${s.url}/healthz`)).json().index_version).toBe(after.headers['rag-index-version']);
    expect((await request(`${s.url}/metrics`)).text).toMatch(/rag_index_swaps_total\{index="default"\} [1-9]/);

    // Started before the write: answered from the version it started on, whole.
    const old = await held.finish();
    expect(old.status).toBe(200);
    expect(old.headers['rag-index-version']).toBe(v0);
    expect(old.json().results).toEqual([]);
    expect(s.stderr()).toMatch(/now serving idx_default@\d+ \(was idx_default@\d+\)/);
    // The retired version's store was closed when its last request ended; the service goes on.
    expect((await ask(key)).json().results[0].doc_id).toBe('docs/zebra.md');
  });
});

describe('SIGTERM', () => {
  it('stops accepting, finishes the request in flight, exits 0 and removes its socket', async () => {
    const s = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--keys', keysFile, '--max-concurrent', '1'], { cwd: dir });
    running.push(s);
    expect(s.socket && existsSync(s.socket)).toBe(true);
    const held = heldRequest(`${s.url}/v1/query`, key, { query: 'rotate an API key', mode: 'bm25', k: 3 });
    await inFlight(s.url, key);
    s.proc.kill('SIGTERM');
    await waitFor(() => s.stderr().includes('SIGTERM: finishing in-flight requests'), 10_000, 'the SIGTERM notice');
    await waitFor(async () => request(`${s.url}/healthz`).then(() => false, () => true), 10_000, 'new connections to be refused');
    expect(s.proc.exitCode).toBeNull(); // still draining
    const reply = await held.finish();
    expect(reply.status).toBe(200);
    expect(reply.json().results.length).toBeGreaterThan(0);
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toMatch(/rag serve: stopped\n/);
    expect(existsSync(s.socket!)).toBe(false);
  });
});

describe('start-up errors', () => {
  it('refuses to start without keys, or on a port in use, with one clear line and exit 2', async () => {
    const none = rag(['--db', db, '--config', FIXTURE_CONFIG, 'serve', '--keys', path.join(dir, 'absent.json'), '--no-socket'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: no API keys in .*absent\.json: every request would be refused\nfix: add one with `rag keys add/);
    const s = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--keys', keysFile, '--no-socket'], { cwd: dir });
    running.push(s);
    const port = new URL(s.url).port;
    const busy = rag(['--db', db, '--config', FIXTURE_CONFIG, 'serve', '--keys', keysFile, '--port', port, '--no-socket'], { cwd: dir });
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 is already in use\nfix: pass another --port`));
    const noIndex = rag(['--db', db, '--config', FIXTURE_CONFIG, 'serve', '--keys', keysFile, '--index', 'nope'], { cwd: dir });
    expect(noIndex.code).toBe(2); // a usage error: the store has indexes, just not this one
    expect(noIndex.stderr).toMatch(/^error: no index named "nope"\nfix: use --index with one of: default/);
  });
});

describe('a newer version the server cannot read', () => {
  it('is bridged for --stale-limit seconds, then answers are withheld until a readable version comes', async () => {
    requireModel(MINILM);
    const store = fixtureStore();
    // This server's models directory lacks MiniLM: an index rebuilt with it cannot be opened here.
    const lite = path.join(store.dir, 'models-lite');
    mkdirSync(path.join(lite, 'minishlab'), { recursive: true });
    symlinkSync(path.join(MODELS_DIR, STATIC_MODEL), path.join(lite, STATIC_MODEL));
    const s = await startServe(['--db', store.db, '--config', FIXTURE_CONFIG], ['--keys', keysFile, '--refresh-ms', '200', '--stale-limit', '4', '--no-socket'], {
      cwd: store.dir,
      env: { RAG_MODELS_DIR: lite },
    });
    running.push(s);
    const ask = () => request(`${s.url}/v1/query`, { key, body: { query: 'rotate an API key', mode: 'bm25', k: 3 } });
    expect((await ask()).status).toBe(200);
    expect(store.cli(['index', '--model', MINILM, '--rebuild']).code).toBe(0);
    await waitFor(async () => /keeping .*not readable yet/.test(s.stderr()), 20_000, 'the refresh to fail');
    // Bridged first (a rebuild in progress looks the same for a moment), withheld after the limit.
    expect((await ask()).status).toBe(200);
    await waitFor(async () => (await ask()).status === 500, 20_000, 'answers to be withheld');
    const r = await ask();
    expect(r.json().error.message).toMatch(/^index "default" has a newer version this server could not read for \d+ s .*answers are withheld/);
    const health = await request(`${s.url}/healthz`);
    expect(health.status).toBe(503);
    expect(health.json().status).toBe('withheld');
    // Back to a model the server has: served again, without a restart.
    expect(store.cli(['index', '--model', STATIC_MODEL, '--rebuild']).code).toBe(0);
    await waitFor(async () => (await ask()).status === 200, 20_000, 'the readable version to be served');
    expect((await request(`${s.url}/healthz`)).json().status).toBe('ok');
  }, 300_000);
});
