/**
 * Shared parts of the reliability suite: real `rag` processes run concurrently, generated BEIR
 * corpora, and a look at every table of a store for duplicated ids.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Store } from '../../src/engine/store/store.js';
import { BIN, MODELS_DIR } from '../helpers/cli.js';

export interface Proc {
  code: number;
  stdout: string;
  stderr: string;
  started: number;
  ended: number;
  json<T = any>(): T;
}

/** Runs the built CLI as its own process without blocking the test (so several run at once). */
export function ragAsync(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; wrap?: string[]; onStderr?: (soFar: string) => void },
): Promise<Proc> {
  return new Promise((resolve) => {
    const started = Date.now();
    const cmd = opts.wrap?.length ? opts.wrap[0]! : process.execPath;
    const argv = opts.wrap?.length ? [...opts.wrap.slice(1), process.execPath, BIN, ...args] : [BIN, ...args];
    const child = spawn(cmd, argv, {
      cwd: opts.cwd,
      env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, NO_COLOR: '1', LANCEDB_LOG: 'error', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr);
    });
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? -1 : -2),
        stdout,
        stderr,
        started,
        ended: Date.now(),
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`not JSON (exit ${code}):\n${stdout}\n--- stderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}

const WORDS = 'alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega harbor lantern meadow quartz river summit willow'.split(' ');

/** Text of a generated record: every record holds "common marker" (so a query for it always has answers) and its own id word. */
export function recordText(id: string, variant = 0): string {
  const h = [...id].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, variant);
  const body = Array.from({ length: 90 }, (_, j) => WORDS[(h + j * 7) % WORDS.length]).join(' ');
  return `common marker ${id}word ${body}. Second sentence about ${WORDS[h % WORDS.length]} and ${id}word again, version ${variant}.`;
}

/** One BEIR corpus line; `repeat` > 1 makes a record long enough for several chunks. */
export function beirLine(id: string, variant = 0, repeat = 1): string {
  const text = Array.from({ length: repeat }, (_, i) => recordText(id, variant + i * 100)).join('\n\n');
  return JSON.stringify({ _id: id, title: `Record ${id}`, text });
}

/** A BEIR corpus folder (corpus.jsonl) holding the given records. */
export function writeBeir(dir: string, lines: string[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

export const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The id column of each kind of table. */
function keyOf(table: string): string | null {
  if (table === 'documents') return 'doc_id';
  if (table === 'chunks' || table.startsWith('idx_')) return 'chunk_id';
  if (table.startsWith('emb_')) return 'content_hash';
  if (table === 'manifests') return 'name';
  return null;
}

export interface TableCount {
  table: string;
  rows: number;
  unique: number;
}

/** Row and distinct-id counts of every table of a store (opened as a reader). */
export async function tableCounts(db: string): Promise<TableCount[]> {
  const store = await Store.open(db);
  try {
    const out: TableCount[] = [];
    for (const table of (await store.tableNames()).sort()) {
      const key = keyOf(table);
      if (!key) continue;
      const rows = await store.readAll<Record<string, unknown>>(table, [key]);
      out.push({ table, rows: rows.length, unique: new Set(rows.map((r) => String(r[key]))).size });
    }
    return out;
  } finally {
    store.close();
  }
}

export const duplicated = (counts: TableCount[]) => counts.filter((c) => c.rows !== c.unique);

export const count = (counts: TableCount[], table: string) => counts.find((c) => c.table === table)?.rows ?? 0;

/** Live documents of a store (tombstones excluded). */
export async function liveDocuments(db: string): Promise<number> {
  const store = await Store.open(db);
  try {
    return await store.countRows('documents', 'deleted = false');
  } finally {
    store.close();
  }
}
