/**
 * `rag query` answered by a warm `rag serve` of the same store over its owner-only Unix socket,
 * with the same output as the in-process search, and the fallback when no daemon answers.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueryArgs, parseResponse } from '../../src/server/daemon-client.js';
import { resolveDb, socketPath } from '../../src/server/local-socket.js';
import { FIXTURE_CONFIG, rag, tempDir } from '../helpers/cli.js';
import { loadTrace } from '../helpers/load-trace.js';
import { fixtureStore, startServe, waitFor, type Served } from './serve-process.js';

let dir: string;
let db: string;
let runtime: string;
let served: Served;
const env = () => ({ RAG_RUNTIME_DIR: runtime });

beforeAll(async () => {
  ({ dir, db } = fixtureStore());
  runtime = path.join(tempDir('rag-run-'), 'rt');
  served = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--no-http'], { cwd: dir, env: env() });
}, 300_000);

afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const query = (args: string[], extra: Record<string, string> = {}) =>
  rag(['--db', db, '--config', FIXTURE_CONFIG, 'query', ...args], { cwd: dir, env: { ...env(), ...extra } });
/** Queries the daemon answered (a 409 is a refusal: the client then searches in-process). */
const localAnswers = () => served.log().filter((l) => l.route === 'local' && l.path === '/local/query' && l.status !== 409).length;
/**
 * The daemon's access log shows how many queries it answered. Its lines arrive a moment after the
 * client exits, so one more query known to go through the daemon marks the end of what to count.
 */
async function daemonAnswered(run: () => void): Promise<number> {
  const before = localAnswers();
  run();
  expect(query(['--json', 'marker', '--mode', 'bm25']).code).toBe(0);
  await waitFor(() => served.log().some((l, i, all) => i === all.length - 1 && l.route === 'local') && localAnswers() > before, 10_000, 'the marker query');
  await new Promise((r) => setTimeout(r, 200));
  return localAnswers() - before - 1;
}
const withoutMs = (s: string) => s.replace(/ · \d+ ms · /, ' · N ms · ');

describe('rag query through a running rag serve', () => {
  it('listens on a socket only its owner can reach', () => {
    expect(served.url).toBe('');
    expect(path.dirname(served.socket!)).toBe(runtime);
    expect(statSync(runtime).mode & 0o777).toBe(0o700);
    expect(statSync(served.socket!).mode & 0o777).toBe(0o600);
  });

  it('answers --json with exactly the in-process JSON, and the table with the same text', async () => {
    for (const args of [
      ['--json', 'rotate a leaked API key', '-k', '4', '--as', 'group:hr'],
      ['--json', 'salary', 'bands', '--mode', 'bm25', '--profile', 'hr'],
      ['--json', 'service credits', '--filter', 'connector=pdf', '--mode=vector', '--rrf-k', '20'],
      ['restore a deleted project', '-k', '3'],
    ]) {
      let viaDaemon!: ReturnType<typeof query>;
      let inProcess!: ReturnType<typeof query>;
      expect(await daemonAnswered(() => (viaDaemon = query(args))), `${args.join(' ')} goes through the daemon`).toBe(1);
      expect(viaDaemon.code, viaDaemon.stderr).toBe(0);
      expect(await daemonAnswered(() => (inProcess = query([...args, '--no-daemon'])))).toBe(0);
      expect(inProcess.code, inProcess.stderr).toBe(0);
      if (args[0] === '--json') {
        const strip = ({ timings: _t, ...rest }: Record<string, unknown>) => rest;
        expect(strip(viaDaemon.json())).toEqual(strip(inProcess.json()));
      } else {
        expect(withoutMs(viaDaemon.stdout)).toBe(withoutMs(inProcess.stdout));
        expect(viaDaemon.stdout).toMatch(/3 results · hybrid · index "default"/);
      }
    }
  });

  it('draws the table at the client terminal width, and an empty answer, as in-process', async () => {
    for (const [args, extra] of [
      [['restore a deleted project', '-k', '3'], { COLUMNS: '72' }],
      [['rotate a leaked API key', '--as', 'group:hr'], { COLUMNS: '200' }],
      [['salary bands', '--filter', 'connector=nosuch'], {}],
    ] as const) {
      let viaDaemon!: ReturnType<typeof query>;
      expect(await daemonAnswered(() => (viaDaemon = query([...args], extra)))).toBe(1);
      const inProcess = query([...args, '--no-daemon'], extra);
      expect(viaDaemon.code, viaDaemon.stderr).toBe(0);
      expect(withoutMs(viaDaemon.stdout)).toBe(withoutMs(inProcess.stdout));
      if ((args as readonly string[]).includes('connector=nosuch')) expect(viaDaemon.stdout).toMatch(/^no results for "salary bands" \(searched as /);
      if (extra.COLUMNS) for (const l of viaDaemon.stdout.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(Number(extra.COLUMNS));
    }
  });

  it('answers a query from one CommonJS file of built-ins: no ES module, no package, no LanceDB', async () => {
    const trace = loadTrace();
    let r!: ReturnType<typeof query>;
    expect(await daemonAnswered(() => (r = query(['restore a deleted project'], { NODE_OPTIONS: trace.nodeOptions })))).toBe(1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/results · hybrid/);
    const loaded = trace.take();
    // Besides built-ins: bin/rag, the client file, and the trace's own hook (a data: URL).
    const client = loaded.filter((f) => f.endsWith(`${path.sep}dist${path.sep}daemon-client.cjs`));
    expect(client).toHaveLength(1);
    const builtin = (f: string) => /^(node:)?[a-z_][a-z_/]*$/.test(f);
    expect(loaded.filter((f) => !builtin(f) && !f.startsWith('data:') && f !== client[0] && !f.endsWith(`${path.sep}bin${path.sep}rag`))).toEqual([]);
  });

  it('reports errors like the CLI does, with the same exit code', async () => {
    for (const args of [['x', '--filter', 'page>>2'], ['x', '--profile', 'nobody'], ['x', '--index', 'nope']]) {
      let d!: ReturnType<typeof query>;
      expect(await daemonAnswered(() => (d = query(args)))).toBe(1);
      const p = query([...args, '--no-daemon']);
      expect({ code: d.code, stderr: d.stderr }).toEqual({ code: p.code, stderr: p.stderr });
      expect(d.code).toBeGreaterThan(1);
    }
  });

  it('leaves anything unusual to the CLI: help, bad flags, RAG_NO_DAEMON', async () => {
    const answered = await daemonAnswered(() => {
      expect(query(['--help']).stdout).toMatch(/--no-daemon/);
      const bad = query(['x', '-k', '0']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/-k must be an integer between 1 and 10000/);
      expect(query(['x', '--json'], { RAG_NO_DAEMON: '1' }).code).toBe(0);
    });
    expect(answered).toBe(0);
  });

  it('is not used by a client with another config', async () => {
    const other = path.join(dir, 'other.config.json');
    writeFileSync(other, JSON.stringify({ tenant: { default: 'acme' } }));
    const answered = await daemonAnswered(() => {
      const r = rag(['--db', db, '--config', other, '--json', 'query', 'api key', '--mode', 'bm25'], { cwd: dir, env: env() });
      expect(r.code, r.stderr).toBe(0);
    });
    expect(answered).toBe(0);
  });
});

describe('parseQueryArgs (what the client hands to the daemon)', () => {
  it('reads the query command line as commander does', () => {
    expect(parseQueryArgs(['--db', 'x', 'query', 'a', 'b', '-k', '3', '--as', 'group:a,user:b', '--as=role:c', '--rerank', 'm/id', 'c', '--json'])).toEqual({
      db: 'x',
      json: true,
      quiet: false,
      query: { k: 3, as: ['group:a', 'user:b', 'role:c'], rerank: 'm/id' },
      words: ['a', 'b', 'c'],
    });
    expect(parseQueryArgs(['query', 'a', '--rerank', '--mode', 'bm25'])?.query).toEqual({ as: [], rerank: true, mode: 'bm25' });
    expect(parseQueryArgs(['query', 'a', '--no-rerank', '-q'])).toMatchObject({ quiet: true, query: { rerank: false } });
  });

  it('declines anything else', () => {
    for (const args of [
      ['query'],
      ['query', 'a', '--help'],
      ['query', 'a', '--no-daemon'],
      ['query', 'a', '-k', 'x'],
      ['query', 'a', '-k'],
      ['query', 'a', '--mode', 'fuzzy'],
      ['query', 'a', '--unknown'],
      ['--mode', 'bm25', 'query', 'a'],
      ['eval', 'query'],
      ['query', 'a', '--db='],
    ]) {
      expect(parseQueryArgs(args), args.join(' ')).toBeNull();
    }
  });
});

describe('parseResponse (the client reads the daemon\'s HTTP answer by hand)', () => {
  const res = (s: string) => parseResponse(Buffer.from(s, 'utf8'));
  it('takes a complete Content-Length answer, multi-byte text included', () => {
    const body = '{"q":"ünïcödé"}';
    expect(res(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)).toEqual({ status: 200, text: body });
    expect(res('HTTP/1.1 409 Conflict\r\ncontent-length: 2\r\n\r\n{}')).toEqual({ status: 409, text: '{}' });
  });
  it('declines anything else, so the CLI runs the query itself', () => {
    for (const raw of [
      '',
      'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{"cut":', // cut short
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n', // headers never ended
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\n\r\n{}', // no length
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n{}',
      'HTTP/2 200\r\ncontent-length: 2\r\n\r\n{}',
      'SSH-2.0-OpenSSH\r\n\r\n',
    ]) {
      expect(res(raw), JSON.stringify(raw)).toBeNull();
    }
  });
});

describe('without a daemon', () => {
  it('searches in-process when the socket is stale, and when the directory is not private', async () => {
    const rt = path.join(tempDir('rag-run-'), 'rt');
    mkdirSync(rt, { mode: 0o700 });
    const s = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--no-http'], { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
    s.proc.kill('SIGKILL'); // leaves its socket file behind
    await s.exited;
    const r = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'api key', '--mode', 'bm25'], { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // nobody listening is the ordinary no-daemon case: nothing to say
    expect(r.json().results.length).toBeGreaterThan(0);
    // A daemon started now replaces the stale socket.
    const again = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--no-http'], { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
    expect(again.socket).toBe(s.socket);
    await again.stop();

    const open = path.join(tempDir('rag-run-'), 'open');
    mkdirSync(open, { mode: 0o755 });
    const refused = await startServe(['--db', db, '--config', FIXTURE_CONFIG], ['--no-http'], { cwd: dir, env: { RAG_RUNTIME_DIR: open } }).catch((e: Error) => e);
    expect(String(refused)).toMatch(/no local socket: .* is not a directory only you can enter/);
  });
});

describe('a daemon whose answer cannot be read', () => {
  it('says so on stderr and searches in-process; -q keeps it quiet', async () => {
    const rt = path.join(tempDir('rag-run-'), 'rt');
    mkdirSync(rt, { mode: 0o700 });
    // Where `rag query` looks for this store's daemon (RAG_RUNTIME_DIR is read when called).
    const saved = process.env.RAG_RUNTIME_DIR;
    process.env.RAG_RUNTIME_DIR = rt;
    const socket = socketPath(resolveDb(db));
    if (saved === undefined) delete process.env.RAG_RUNTIME_DIR;
    else process.env.RAG_RUNTIME_DIR = saved;
    // A real process on that socket, answering in forms the client does not take, one per
    // connection: chunked; an error that is not rag's (another server's 413 page); a 200 without
    // the table a table query asked for; then chunked again for the -q run.
    const http = (status: string, body: string) => `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const answers = [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      http('413 Payload Too Large', '{"statusCode":413,"error":"Payload Too Large","message":"Request body is too large"}'),
      http('200 OK', '{"result":{"query":"api key","results":[]},"rerank":null,"notices":[]}'),
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    ];
    const fake = spawn(process.execPath, ['-e', `const a = ${JSON.stringify(answers)}; let n = 0; require('net').createServer((c) => c.once('data', () => c.end(a[Math.min(n++, a.length - 1)]))).listen(${JSON.stringify(socket)})`], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(socket), 10_000, 'the fake daemon socket');
      const args = ['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'api key', '--mode', 'bm25'];
      const inProcess = rag([...args, '--no-daemon'], { cwd: dir });
      const strip = ({ timings: _t, ...rest }: Record<string, unknown>) => rest;
      const note = (why: string) => `note: rag serve on ${socket} gave no usable answer (${why}); searching in-process`;
      const r = rag(args, { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(note('not a complete HTTP answer'));
      expect(strip(r.json())).toEqual(strip(inProcess.json()));
      const notRags = rag(args, { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
      expect(notRags.code, notRags.stderr).toBe(0);
      expect(notRags.stderr).toContain(note('an unexpected answer (HTTP 413)'));
      expect(strip(notRags.json())).toEqual(strip(inProcess.json()));
      const noTable = rag(args.filter((a) => a !== '--json'), { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
      expect(noTable.code, noTable.stderr).toBe(0);
      expect(noTable.stderr).toContain(note('an unexpected answer (HTTP 200)'));
      expect(noTable.stdout).toMatch(/results? · bm25/);
      const quiet = rag([...args, '-q'], { cwd: dir, env: { RAG_RUNTIME_DIR: rt } });
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe('');
    } finally {
      fake.kill();
    }
  });
});

describe('a stale index through the daemon', () => {
  it('says so as in-process: the same note on stderr and the same index_freshness', async () => {
    // An ingest without `rag index`: the index is now behind the chunks (last test: it changes the store).
    writeFileSync(path.join(dir, 'docs', 'stale-note.md'), '# Stale note\n\nA document ingested but never indexed.\n');
    expect(rag(['--db', db, '--config', FIXTURE_CONFIG, '-q', 'ingest', 'docs'], { cwd: dir }).code).toBe(0);
    const inProcess = query(['--json', 'stale note', '--mode', 'bm25', '--no-daemon']);
    expect(inProcess.json().index_freshness).toMatchObject({ current: false, missing_documents: 1 });
    // The daemon serves the new documents version once it has refreshed (default every second).
    let viaDaemon = query(['--json', 'stale note', '--mode', 'bm25']);
    await waitFor(() => (viaDaemon = query(['--json', 'stale note', '--mode', 'bm25'])).json().index_freshness.current === false, 20_000, 'the daemon to see the ingest');
    // And it was the daemon that answered (its access log), not an in-process fallback.
    expect(await daemonAnswered(() => (viaDaemon = query(['--json', 'stale note', '--mode', 'bm25'])))).toBeGreaterThanOrEqual(1);
    expect(viaDaemon.json().index_freshness).toEqual(inProcess.json().index_freshness);
    expect(viaDaemon.stderr).toBe(inProcess.stderr);
    expect(viaDaemon.stderr).toMatch(/^note: index "default" is behind the chunks \(1 document missing\)/);
  }, 60_000);
});
