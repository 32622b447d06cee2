/**
 * Two writers on one local store, as real processes. Without the writer lock two `rag ingest`
 * runs doubled document and chunk rows in most tries and two `rag index` runs doubled the index.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { beirLine, count, duplicated, ids, liveDocuments, ragAsync, tableCounts, writeBeir, type Proc } from './helpers.js';

const TRIALS = 10;
const PER_TRIAL = 120;
const BUSY = /^error: another writer \(pid \d+, `rag (ingest|index)`, since \d{4}-\d\d-\d\dT[\d:.]+Z\) holds the store .+\nfix: wait for it to finish, or pass --wait/m;

/** With --json the refusal is one JSON object on stderr: the same message and fix, as fields. */
const busyJson = (stderr: string) => {
  try {
    const e = JSON.parse(stderr) as { error: string; fix: string; exit: number };
    return e.exit === 3 && BUSY.test(`error: ${e.error}\nfix: ${e.fix}`);
  } catch {
    return false;
  }
};
const okOrBusy = (r: Proc) => r.code === 0 || (r.code === 3 && (BUSY.test(r.stderr) || busyJson(r.stderr)));

describe('two writers on one local store', () => {
  it(`${TRIALS} trials: two ingest + index pipelines at once with --wait end as if run one after the other`, async () => {
    const dir = tempDir('rag-rel-writers-');
    const db = path.join(dir, 'store');
    const base = ['--db', db, '--json', '-q'];
    let waited = 0;
    for (let t = 0; t < TRIALS; t++) {
      // Each trial brings new records: both writers try to insert the same rows.
      writeBeir(path.join(dir, `c${t}`), ids(`t${t}-`, PER_TRIAL).map((id) => beirLine(id)));
      const pipeline = async () => {
        const ing = await ragAsync([...base, 'ingest', '--format', 'beir', `c${t}`, '--wait'], { cwd: dir });
        const idx = await ragAsync([...base, 'index', '--model', 'none', '--wait'], { cwd: dir });
        return [ing, idx] as const;
      };
      const [a, b] = await Promise.all([pipeline(), pipeline()]);
      for (const r of [...a, ...b]) expect(r.code, r.stderr).toBe(0);
      // Exactly what running them one after the other gives: one added the trial's records, the other found them unchanged.
      expect([a[0].json().added, b[0].json().added].sort((x, y) => x - y)).toEqual([0, PER_TRIAL]);
      const counts = await tableCounts(db);
      expect(duplicated(counts), JSON.stringify(counts)).toEqual([]);
      expect(count(counts, 'documents')).toBe(PER_TRIAL * (t + 1));
      expect(count(counts, 'idx_default')).toBe(count(counts, 'chunks'));
      if (a[0].ended > b[0].started && b[0].ended > a[0].started) waited++;
    }
    // The processes really overlapped (otherwise this would prove nothing).
    expect(waited).toBeGreaterThan(TRIALS / 2);
    console.log(`local writers with --wait: ${TRIALS} trials × 2 pipelines (ingest + index), ${waited} with overlapping ingests, 0 duplicates`);
  }, 900_000);

  it(`${TRIALS} trials: without --wait the second writer exits 3 naming the holder, and nothing is doubled`, async () => {
    const dir = tempDir('rag-rel-busy-');
    writeBeir(path.join(dir, 'corpus'), ids('d', 400).map((id) => beirLine(id)));
    let refused = 0;
    for (let t = 0; t < TRIALS; t++) {
      const db = path.join(dir, `store-${t}`);
      const base = ['--db', db, '--json', '-q'];
      // A fresh store each trial: two first ingests racing is where rows used to double.
      const ingests = await Promise.all([0, 1].map(() => ragAsync([...base, 'ingest', '--format', 'beir', 'corpus'], { cwd: dir })));
      for (const r of ingests) expect(okOrBusy(r), `exit ${r.code}: ${r.stderr}`).toBe(true);
      expect(ingests.some((r) => r.code === 0)).toBe(true);
      const indexes = await Promise.all([0, 1].map(() => ragAsync([...base, 'index', '--model', 'none'], { cwd: dir })));
      for (const r of indexes) expect(okOrBusy(r), `exit ${r.code}: ${r.stderr}`).toBe(true);
      expect(indexes.some((r) => r.code === 0)).toBe(true);
      refused += [...ingests, ...indexes].filter((r) => r.code === 3).length;
      const counts = await tableCounts(db);
      expect(duplicated(counts), JSON.stringify(counts)).toEqual([]);
      expect(count(counts, 'documents')).toBe(400);
      expect(count(counts, 'idx_default')).toBe(count(counts, 'chunks'));
      expect(existsSync(path.join(db, 'rag-writer.lock')), 'the lock is released').toBe(false);
    }
    expect(refused).toBeGreaterThan(0);
    console.log(`local writers without --wait: ${TRIALS} trials × (2 ingests + 2 indexes), ${refused} refused with exit 3, 0 duplicates`);
  }, 900_000);
});

describe('the lock file', () => {
  const lockOf = (pid: number, command: string) =>
    `${JSON.stringify({ pid, host: hostname(), command, started_at: new Date(Date.now() - 5000).toISOString(), token: `t${pid}` })}\n`;

  it('names the live holder; --wait=SECONDS gives up; --wait queues until it is released', async () => {
    const dir = tempDir('rag-rel-lock-');
    const db = path.join(dir, 'store');
    writeBeir(path.join(dir, 'corpus'), ids('d', 30).map((id) => beirLine(id)));
    const base = ['--db', db, '-q'];
    expect((await ragAsync([...base, 'ingest', '--format', 'beir', 'corpus'], { cwd: dir })).code).toBe(0);
    const lock = path.join(db, 'rag-writer.lock');
    // This test process is alive: its lock is not stale.
    writeFileSync(lock, lockOf(process.pid, 'rag ingest'));

    const busy = await ragAsync([...base, 'index', '--model', 'none'], { cwd: dir });
    expect(busy.code).toBe(3);
    expect(busy.stderr).toMatch(new RegExp(`^error: another writer \\(pid ${process.pid}, \`rag ingest\`, since \\S+Z\\) holds the store ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n`));
    expect(busy.stderr).toContain(`delete ${lock}`);
    expect(busy.stderr.trim().split('\n')).toHaveLength(2);

    const gaveUp = await ragAsync([...base, 'index', '--model', 'none', '--wait=1'], { cwd: dir });
    expect(gaveUp.code).toBe(3);
    expect(gaveUp.stderr).toMatch(/gave up after waiting 1s/);
    expect(gaveUp.ended - gaveUp.started).toBeGreaterThanOrEqual(1000);

    let waiting: () => void = () => undefined;
    const isWaiting = new Promise<void>((r) => (waiting = r));
    const queued = ragAsync(['--db', db, 'index', '--model', 'none', '--wait'], { cwd: dir, onStderr: (e) => /waiting for another writer/.test(e) && waiting() });
    await isWaiting;
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(lock, 'utf8')).toContain(`"pid":${process.pid}`);
    unlinkSync(lock);
    const done = await queued;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(new RegExp(`note: waiting for another writer \\(pid ${process.pid}, \`rag ingest\``));
    expect(existsSync(lock)).toBe(false);
    // Readers never take the lock: a query answers while a writer holds it.
    writeFileSync(lock, lockOf(process.pid, 'rag index'));
    const q = await ragAsync([...base, 'query', 'common marker', '-k', '3'], { cwd: dir });
    expect(q.code, q.stderr).toBe(0);
  }, 300_000);

  it('a lock left by a dead process is stale and taken over', async () => {
    const dir = tempDir('rag-rel-stale-');
    const db = path.join(dir, 'store');
    writeBeir(path.join(dir, 'corpus'), ids('d', 30).map((id) => beirLine(id)));
    const dead = spawn(process.execPath, ['-e', '']);
    const pid = dead.pid!;
    await new Promise((r) => dead.on('exit', r));
    mkdirSync(db, { recursive: true });
    writeFileSync(path.join(db, 'rag-writer.lock'), lockOf(pid, 'rag index'));
    const r = await ragAsync(['--db', db, '-q', 'ingest', '--format', 'beir', 'corpus'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(db, 'rag-writer.lock'))).toBe(false);
  }, 300_000);

  it('a writer killed with SIGKILL mid-ingest leaves a stale lock the next writer takes over; the store is whole', async () => {
    const dir = tempDir('rag-rel-kill-');
    const db = path.join(dir, 'store');
    writeBeir(path.join(dir, 'corpus'), ids('d', 3000).map((id) => beirLine(id)));
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../bin/rag'), '--db', db, '-q', 'ingest', '--format', 'beir', 'corpus'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill once it holds the lock and has committed its first batch of chunks.
    const lock = path.join(db, 'rag-writer.lock');
    const deadline = Date.now() + 120_000;
    while (!existsSync(path.join(db, 'chunks.lance', '_versions')) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(child.exitCode, 'still running when killed').toBe(null);
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(lock), 'a killed writer cannot remove its lock').toBe(true);
    const again = await ragAsync(['--db', db, '--json', '-q', 'ingest', '--format', 'beir', 'corpus'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const counts = await tableCounts(db);
    expect(duplicated(counts)).toEqual([]);
    expect(await liveDocuments(db)).toBe(3000);
  }, 300_000);
});
