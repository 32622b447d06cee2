/**
 * `rag query` through a warm `rag serve` of the same store: the client side.
 *
 * bin/rag calls this (built alone as dist/daemon-client.cjs) before it loads the CLI, so a query
 * answered by the daemon costs a Node start, this file and a socket round trip — no LanceDB, no
 * model, no config schema, not even the table renderer: the daemon draws the results table for
 * this terminal. It understands the plain `rag query` command line only; anything else (help, an
 * unknown or malformed flag, `--no-daemon`, RAG_NO_DAEMON=1, no daemon, a daemon of another
 * config) returns null and the CLI runs as usual, which prints the same errors and results it
 * always does.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stripJsonComments } from '../engine/jsonc.js';
import type { LocalAnswer, LocalError, LocalQuery } from './local.js';
import { terminalWidth, useColor } from '../render/table.js';
import { configText, LOCAL_BODY_LIMIT, privateDir, resolveDb, socketPath } from './local-socket.js';

interface Parsed {
  db?: string;
  config?: string;
  json: boolean;
  quiet: boolean;
  query: Omit<LocalQuery, 'db' | 'config_text' | 'query' | 'view'> & { as: string[] };
  words: string[];
}

const MODES = ['hybrid', 'bm25', 'vector'];
const int = (v: string | undefined, min: number, max: number): number | undefined => {
  const n = Number(v);
  return v !== undefined && /^\d+$/.test(v) && n >= min && n <= max ? n : undefined;
};

/** Thrown inside parseQueryArgs for anything it does not read exactly as commander would. */
const UNUSUAL = Symbol('unusual');

/** The `rag query` command line as commander would read it, or null for anything unusual. */
export function parseQueryArgs(args: readonly string[]): Parsed | null {
  try {
    return parse(args);
  } catch (err) {
    if (err === UNUSUAL) return null;
    throw err;
  }
}

function parse(args: readonly string[]): Parsed | null {
  const p: Parsed = { json: false, quiet: false, query: { as: [] }, words: [] };
  let command = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw UNUSUAL;
      return v;
    };
    if (!a.startsWith('-') || a === '-') {
      if (!command) {
        if (a !== 'query') return null;
        command = true;
      } else p.words.push(a);
      continue;
    }
    if (flag === '--json' && inline === undefined) p.json = true;
    else if ((flag === '-q' || flag === '--quiet') && inline === undefined) p.quiet = true;
    else if (flag === '--db') p.db = value();
    else if (flag === '--config') p.config = value();
    else if (!command) return null;
    else if (flag === '--mode') {
      const m = value();
      if (!MODES.includes(m)) return null;
      p.query.mode = m as LocalQuery['mode'];
    } else if (flag === '-k' || flag === '--k') {
      if ((p.query.k = int(value(), 1, 10000)) === undefined) return null;
    } else if (flag === '--rerank-top-n') {
      if ((p.query.rerank_top_n = int(value(), 1, Number.MAX_SAFE_INTEGER)) === undefined) return null;
    } else if (flag === '--rrf-k') {
      if ((p.query.rrf_k = int(value(), 0, Number.MAX_SAFE_INTEGER)) === undefined) return null;
    } else if (flag === '--index') p.query.index = value();
    else if (flag === '--filter') p.query.filter = value();
    else if (flag === '--tenant') p.query.tenant = value();
    else if (flag === '--profile') p.query.profile = value();
    else if (flag === '--as') {
      p.query.as.push(...value().split(',').map((s) => s.trim()).filter(Boolean));
    } else if (flag === '--no-rerank' && inline === undefined) p.query.rerank = false;
    else if (flag === '--rerank') {
      // commander: an optional value is taken when the next word is not an option.
      const next = inline ?? (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-') ? args[++i] : undefined);
      p.query.rerank = next ?? true;
    } else return null;
  }
  // No words, or `-`: the query comes from stdin, which the CLI reads.
  if (!command || p.words.length === 0 || (p.words.length === 1 && p.words[0] === '-')) return null;
  return p;
}

/** The store location the CLI would use: --db, RAG_DB, the config's "db", else .rag. */
function storeOf(p: Parsed, config: string | null): string | null {
  if (p.db) return p.db;
  if (process.env.RAG_DB) return process.env.RAG_DB;
  if (config === null) return '.rag';
  try {
    const db = (JSON.parse(stripJsonComments(config)) as { db?: unknown }).db;
    return typeof db === 'string' ? db : '.rag';
  } catch {
    return null; // the CLI reports the broken config
  }
}

type Answer = { status: number; text: string };
/** Why no answer was used: nobody listening (a stale socket, silent), or an answer that cannot be read. */
type NoAnswer = { unreadable: string | null };

/**
 * One HTTP/1.1 request over the socket, written and read by hand: node:http's client costs a cold
 * process ~10 ms more than the bare socket (README, Performance). Anything but a complete
 * Content-Length answer (chunked, cut short, no answer in 60 s) is unreadable, and the CLI runs the
 * query itself.
 */
function post(socket: string, body: string): Promise<Answer | NoAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let connected = false;
    let timedOut = false;
    const c = net.connect(socket);
    const timer = setTimeout(() => {
      timedOut = true;
      c.destroy();
    }, 60_000);
    const done = (v: Answer | NoAnswer) => {
      clearTimeout(timer);
      resolve(v);
    };
    c.on('connect', () => {
      connected = true;
      c.write(`POST /local/query HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('end', () => done(parseResponse(Buffer.concat(chunks)) ?? { unreadable: 'not a complete HTTP answer' }));
    // After 'end' these change nothing: a promise settles once.
    c.on('close', () => done({ unreadable: timedOut ? 'no answer in 60 s' : connected ? 'the connection closed early' : null }));
    c.on('error', () => done({ unreadable: connected ? 'the connection failed' : null }));
  });
}

/** Status and body of a complete HTTP/1.x response with a Content-Length, else null. */
export function parseResponse(raw: Buffer): { status: number; text: string } | null {
  const head = raw.indexOf('\r\n\r\n');
  if (head < 0) return null;
  const [status, ...lines] = raw.subarray(0, head).toString('latin1').split('\r\n');
  const code = /^HTTP\/1\.[01] (\d{3}) /.exec(`${status} `)?.[1];
  if (!code) return null;
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const length = Number(headers.get('content-length'));
  const rest = raw.subarray(head + 4);
  if (headers.has('transfer-encoding') || !/^\d+$/.test(headers.get('content-length') ?? '') || rest.length < length) return null;
  return { status: Number(code), text: rest.subarray(0, length).toString('utf8') };
}

function isLocalError(b: unknown): b is LocalError {
  const e = (b as Partial<LocalError> | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.message === 'string' && Number.isInteger(e.exit_code);
}

function isLocalAnswer(b: unknown, withTable: boolean): b is LocalAnswer {
  const a = b as Partial<LocalAnswer> | null;
  return typeof a?.result === 'object' && a.result !== null && Array.isArray(a.notices) && (!withTable || typeof a.text === 'string');
}

/** Runs `rag query` through the daemon; the exit code, or null when the CLI should run it itself. */
export async function queryViaDaemon(args: readonly string[]): Promise<number | null> {
  try {
    if (process.env.RAG_NO_DAEMON) return null;
    const p = parseQueryArgs(args);
    if (!p) return null;
    // Read once: it names the store, and the daemon compares it with its own.
    const config = configText(p.config);
    if (config === undefined) return null;
    const db = storeOf(p, config);
    if (db === null) return null;
    const resolved = resolveDb(db);
    const socket = socketPath(resolved);
    if (!existsSync(socket) || !privateDir(path.dirname(socket))) return null;
    const view = p.json ? undefined : { width: terminalWidth() ?? null, color: useColor() };
    const request: LocalQuery = { ...p.query, db: resolved, config_text: config, query: p.words.join(' '), view };
    // A daemon that answers but cannot be understood is worth knowing about; the answer the CLI
    // prints next is its own, in-process one. Nobody listening (reason null) is the ordinary case.
    const inProcess = (reason: string | null): null => {
      if (reason && !p.quiet) process.stderr.write(`note: rag serve on ${socket} gave no usable answer (${reason}); searching in-process\n`);
      return null;
    };
    const text = JSON.stringify(request);
    if (Buffer.byteLength(text) > LOCAL_BODY_LIMIT) return null; // the daemon would refuse it: the CLI's
    const res = await post(socket, text);
    if ('unreadable' in res) return inProcess(res.unreadable);
    if (res.status === 409) return null;
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return inProcess('not JSON');
    }
    // Only the two shapes local.ts sends are printed; anything else (another server's error page,
    // an answer without the table asked for) is searched in-process.
    const failed = res.status !== 200 && isLocalError(body);
    if (!failed && !(res.status === 200 && isLocalAnswer(body, !p.json))) return inProcess(`an unexpected answer (HTTP ${res.status})`);
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
      });
    }
    if (failed) {
      const { error } = body as LocalError;
      process.stderr.write(`error: ${error.message}\n${error.fix ? `fix: ${error.fix}\n` : ''}`);
      return error.exit_code;
    }
    const answer = body as LocalAnswer;
    if (!p.quiet) for (const n of answer.notices) process.stderr.write(`note: ${n}\n`);
    process.stdout.write(`${p.json ? JSON.stringify(answer.result, null, 2) : answer.text}\n`);
    return 0;
  } catch {
    return null;
  }
}
