/** A real `rag serve` process for the service tests, and small HTTP helpers around it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'vitest';
import { BIN, FIXTURE_CONFIG, FIXTURES, MODELS_DIR, rag, requireModel, STATIC_MODEL, tempDir } from '../helpers/cli.js';

export const SOURCES = ['docs', 'html', 'pdf', 'tickets'];

/** The fixtures copied into a fresh directory, ingested and indexed with the static model. */
export function fixtureStore(): { dir: string; db: string; cli: (args: string[]) => ReturnType<typeof rag> } {
  requireModel(STATIC_MODEL);
  const dir = tempDir('rag-serve-');
  for (const s of SOURCES) cpSync(path.join(FIXTURES, s), path.join(dir, s), { recursive: true });
  const db = path.join(dir, 'db');
  const cli = (args: string[]) => rag(['--db', db, '--config', FIXTURE_CONFIG, ...args], { cwd: dir });
  const ing = cli(['ingest', ...SOURCES]);
  expect(ing.code, ing.stderr).toBe(0);
  const idx = cli(['index', '--model', STATIC_MODEL]);
  expect(idx.code, idx.stderr).toBe(0);
  return { dir, db, cli };
}

export interface Served {
  proc: ChildProcess;
  url: string;
  socket: string | null;
  stdout: () => string;
  stderr: () => string;
  /** Access-log entries written so far. */
  log: () => Record<string, any>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `rag ARGS… serve --port 0 EXTRA` and waits for its "listening" line. */
export async function startServe(globalArgs: string[], serveArgs: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, ...globalArgs, 'serve', '--port', '0', ...serveArgs], {
    cwd: opts.cwd,
    env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, NO_COLOR: '1', LANCEDB_LOG: 'error', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rag serve did not start within 120 s:\n${err}`)), 120_000);
    const check = () => {
      const m = /rag serve: listening.*\n/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    proc.stderr!.on('data', check);
    void exited.then(({ code }) => reject(new Error(`rag serve exited (${code}) before listening:\n${err}`)));
  });
  const url = /on (http:\/\/\S+?)(,|\s|$)/.exec(line)?.[1] ?? '';
  const socket = /local socket (\S+)/.exec(line)?.[1] ?? null;
  return {
    proc,
    url,
    socket,
    stdout: () => out,
    stderr: () => err,
    log: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>),
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = any>(): T;
}

/** One request with Node's own HTTP client (a new connection each time). */
export function request(url: string, opts: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A request whose body is sent in two parts: the headers and the first half now, the rest when
 * `finish()` is called. Until then the request is in flight on the server.
 */
export function heldRequest(url: string, key: string, body: unknown): { finish: () => Promise<Reply> } {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  let resolveReply!: (r: Reply) => void;
  let rejectReply!: (e: Error) => void;
  const reply = new Promise<Reply>((res, rej) => {
    resolveReply = res;
    rejectReply = rej;
  });
  const req = http.request(
    url,
    { method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } },
    (res) => {
      let t = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (t += d));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, headers: res.headers, text: t, json: () => JSON.parse(t) }));
    },
  );
  req.on('error', (e) => rejectReply(e));
  req.write(text.slice(0, half));
  return {
    finish: () => {
      req.end(text.slice(half));
      return reply;
    },
  };
}

/** Polls `cond` every 50 ms until it holds; the time it took. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** `rag keys add` into `file`; the key printed once. */
export function addKey(cwd: string, file: string, args: string[]): string {
  const r = rag(['--config', FIXTURE_CONFIG, 'keys', 'add', '--keys', file, ...args], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}
