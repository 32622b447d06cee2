/**
 * The same cases on an s3:// store (the loopback S3 server of test/s3.test.ts). There is no lock
 * file on object storage: writers take a lease row by conditional updates, which LanceDB commits
 * with S3 conditional puts and re-evaluates when another commit wins.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/engine/store/store.js';
import { BIN, MODELS_DIR, tempDir } from '../helpers/cli.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { beirLine, count, duplicated, ids, ragAsync, tableCounts, writeBeir, type Proc } from './helpers.js';

const BUCKET = 'rag-reliability';
const TRIALS = 10;
const PER_TRIAL = 60;
const REBUILDS = 4;
let s3: S3Server;

beforeAll(async () => {
  s3 = await startS3Server();
  if (s3.running) {
    await s3.makeBucket(BUCKET);
    // tableCounts opens the store in this process, with the same settings as the CLI.
    Object.assign(process.env, s3.env);
  }
}, 300_000);

afterAll(async () => {
  await s3?.stop();
});

function needServer(ctx: { skip: (note?: string) => void }): void {
  if (!s3.running) ctx.skip(`no S3-compatible server: ${s3.startError.split('\n')[0]}`);
}

describe('two writers on one s3:// store', () => {
  it(`${TRIALS} trials: two ingest + index pipelines at once with --wait end as if run one after the other`, async (ctx) => {
    needServer(ctx);
    const dir = tempDir('rag-rel-s3w-');
    const db = `s3://${BUCKET}/writers`;
    const base = ['--db', db, '--json', '-q'];
    const run = (args: string[]) => ragAsync([...base, ...args], { cwd: dir, env: s3.env });
    let overlapped = 0;
    for (let t = 0; t < TRIALS; t++) {
      writeBeir(path.join(dir, `c${t}`), ids(`t${t}-`, PER_TRIAL).map((id) => beirLine(id)));
      const pipeline = async () => [await run(['ingest', '--format', 'beir', `c${t}`, '--wait']), await run(['index', '--model', 'none', '--wait'])] as const;
      const [a, b] = await Promise.all([pipeline(), pipeline()]);
      for (const r of [...a, ...b]) expect(r.code, r.stderr).toBe(0);
      expect([a[0].json().added, b[0].json().added].sort((x, y) => x - y)).toEqual([0, PER_TRIAL]);
      const counts = await tableCounts(db);
      expect(duplicated(counts), JSON.stringify(counts)).toEqual([]);
      expect(count(counts, 'documents')).toBe(PER_TRIAL * (t + 1));
      expect(count(counts, 'idx_default')).toBe(count(counts, 'chunks'));
      if (a[0].ended > b[0].started && b[0].ended > a[0].started) overlapped++;
    }
    expect(overlapped).toBeGreaterThan(TRIALS / 2);
    console.log(`s3 writers with --wait: ${TRIALS} trials × 2 pipelines (ingest + index), ${overlapped} with overlapping ingests, 0 duplicates`);

    // Without --wait the second writer is refused with the holder's name.
    writeBeir(path.join(dir, 'last'), ids('last-', 300).map((id) => beirLine(id)));
    const both = await Promise.all([0, 1].map(() => run(['ingest', '--format', 'beir', 'last'])));
    for (const r of both) expect(r.code === 0 || (r.code === 3 && /another writer \(pid \d+, `rag ingest`, since \S+\) holds the store s3:\/\//.test(r.stderr)), r.stderr).toBe(true);
    expect(duplicated(await tableCounts(db))).toEqual([]);
  }, 1_200_000);

  it('the first writers of fresh stores race to create the lease table: every one gets the lease in turn', async (ctx) => {
    // One CI run failed here once: a writer listed the lease table another was still creating,
    // and opening it said "not found" (exit 3). Four fresh stores × 3 writers starting together.
    needServer(ctx);
    const dir = tempDir('rag-rel-s3first-');
    writeBeir(path.join(dir, 'corpus'), ids('f', 20).map((id) => beirLine(id)));
    const stores = [0, 1, 2, 3].map((i) => `s3://${BUCKET}/first-${i}`);
    const runs = await Promise.all(
      stores.flatMap((db) => [0, 1, 2].map(() => ragAsync(['--db', db, '--json', '-q', 'ingest', '--format', 'beir', 'corpus', '--wait'], { cwd: dir, env: s3.env }))),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const db of stores) {
      const counts = await tableCounts(db);
      expect(duplicated(counts)).toEqual([]);
      expect(count(counts, 'documents')).toBe(20);
    }
  }, 600_000);

  it('a lease holder killed with SIGKILL is taken over at once by a writer on the same host', async (ctx) => {
    needServer(ctx);
    const dir = tempDir('rag-rel-s3k-');
    const db = `s3://${BUCKET}/killed`;
    writeBeir(path.join(dir, 'corpus'), ids('d', 3000).map((id) => beirLine(id)));
    const child = spawn(process.execPath, [BIN, '--db', db, '-q', 'ingest', '--format', 'beir', 'corpus'], {
      cwd: dir,
      env: { ...process.env, ...s3.env, RAG_MODELS_DIR: MODELS_DIR, LANCEDB_LOG: 'error' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill once the ingest is writing (its first chunks are in the bucket).
    const deadline = Date.now() + 120_000;
    while (!(await s3.listKeys(BUCKET, 'killed/chunks.lance/')).length && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(child.exitCode, 'still running when killed').toBe(null);
    child.kill('SIGKILL');
    await exited;
    // It died holding the lease: the row still names it.
    const store = await Store.open(db);
    const lease = await store.readAll<{ pid: number; command: string }>('rag_writer_lease', ['pid', 'command']);
    store.close();
    expect(lease.map((l) => [Number(l.pid), l.command])).toEqual([[child.pid, 'rag ingest']]);
    const t0 = Date.now();
    const again = await ragAsync(['--db', db, '--json', '-q', 'ingest', '--format', 'beir', 'corpus'], { cwd: dir, env: s3.env });
    expect(again.code, again.stderr).toBe(0);
    // Not the 60 s lease expiry: the holder's pid is gone, so its lease is stale now.
    expect(Date.now() - t0).toBeLessThan(55_000);
    const counts = await tableCounts(db);
    expect(duplicated(counts)).toEqual([]);
    expect(count(counts, 'documents')).toBe(3000);
  }, 600_000);
});

describe('readers during rebuilds on an s3:// store', () => {
  it(`two query loops during ${REBUILDS} rebuilds: no errors, no empty answers`, async (ctx) => {
    needServer(ctx);
    const dir = tempDir('rag-rel-s3r-');
    const db = `s3://${BUCKET}/readers`;
    writeBeir(path.join(dir, 'corpus'), ids('d', 150).map((id) => beirLine(id)));
    const base = ['--db', db, '--json', '-q'];
    const run = (args: string[]) => ragAsync([...base, ...args], { cwd: dir, env: s3.env });
    expect((await run(['ingest', '--format', 'beir', 'corpus'])).code).toBe(0);
    expect((await run(['index', '--model', 'none'])).code).toBe(0);

    const windows: { start: number; end: number }[] = [];
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = 0; i < REBUILDS; i++) {
          const t0 = Date.now();
          const r = await run(['index', '--rebuild']);
          expect(r.code, r.stderr).toBe(0);
          windows.push({ start: t0, end: Date.now() });
        }
      } finally {
        writing = false;
      }
    })();
    const reader = async () => {
      const log: { r: Proc; hits: number }[] = [];
      while (writing) {
        const r = await run(['query', 'common marker', '--mode', 'bm25', '-k', '5']);
        log.push({ r, hits: r.code === 0 ? r.json<{ results: unknown[] }>().results.length : -1 });
      }
      return log;
    };
    const all = (await Promise.all([reader(), reader()])).flat();
    await writer;
    const errors = all.filter((q) => q.r.code !== 0).map((q) => `exit ${q.r.code}: ${q.r.stderr.trim()}`);
    const during = all.filter((q) => windows.some((w) => q.r.started < w.end && q.r.ended > w.start)).length;
    expect(errors, errors.join('\n')).toEqual([]);
    expect(all.filter((q) => q.hits === 0)).toEqual([]);
    expect(during).toBeGreaterThanOrEqual(REBUILDS);
    const keys = await s3.listKeys(BUCKET, 'readers/');
    expect(keys.some((k) => k.startsWith(`readers/idx_default.g${REBUILDS}.lance/`))).toBe(true);
    console.log(`s3 readers: ${all.length} queries (${during} during ${REBUILDS} rebuilds), 0 errors, 0 empty answers`);
  }, 900_000);
});
