/**
 * One writer at a time per store. Two `rag ingest`/`rag index` runs interleaving their commits
 * double rows (LanceDB's merge-insert does not see the other process's inserts) and rebuild each
 * other's indexes, so every writer takes this lock first; readers never do.
 *
 * - Local stores: a lock file in the store folder, created atomically (hard link of a written
 *   draft), holding pid, host, command and start time. A lock whose process is gone (or whose pid now belongs to a younger process)
 *   is stale and taken over.
 * - Object storage: a lease row in a small LanceDB table, taken and renewed by conditional updates
 *   (`holder = '<token>'` predicates). LanceDB commits each update as a new manifest with an S3
 *   conditional put and re-evaluates the predicate when a concurrent commit wins, so exactly one
 *   writer's update changes the row. The lease expires LEASE_TTL_MS after its holder stops
 *   renewing it (a holder on this host whose process is gone is stale at once).
 */
import * as lancedb from '@lancedb/lancedb';
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { sqlString } from '../sql.js';

export interface WriterInfo {
  pid: number;
  host: string;
  /** The command that holds the lock, e.g. `rag index`. */
  command: string;
  started_at: string;
  token: string;
}

export interface WriterLockOptions {
  command: string;
  /** Seconds to wait for another writer to finish; undefined: do not wait; Infinity: no limit. */
  waitSeconds?: number;
  /** Called once when the lock is busy and we are going to wait for it. */
  onWait?: (holder: WriterInfo) => void;
}

export interface WriterLock {
  readonly holder: WriterInfo;
  /** Throws when the lock was lost (an object-storage lease that expired and was taken over). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export const LOCK_FILE = 'rag-writer.lock';
export const LEASE_TABLE = 'rag_writer_lease';
const LEASE_TTL_MS = 60_000;
const RENEW_EVERY_MS = 15_000;
/**
 * LanceDB creates a table as an overwrite that it retries when another creator commits first, so
 * for a moment after a new lease table appears a late creator can still replace its row. Nobody
 * takes a lease on a table younger than this; creators finish (or give up) well within it.
 */
const LEASE_SETTLE_MS = 10_000;
const POLL_LOCAL_MS = 200;
const POLL_REMOTE_MS = 1000;

const held = new Set<WriterLock>();

/** Releases every lock this process holds (the CLI calls it once the command is done, error or not). */
export async function releaseWriterLocks(): Promise<void> {
  for (const lock of [...held]) await lock.release().catch(() => undefined);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function myInfo(command: string): WriterInfo {
  return { pid: process.pid, host: hostname(), command, started_at: new Date().toISOString(), token: randomBytes(12).toString('hex') };
}

export function describeHolder(h: WriterInfo): string {
  return `pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}, \`${h.command}\`, since ${h.started_at}`;
}

function busyError(h: WriterInfo, where: string, waited: number | undefined, breakHint: string): StoreError {
  const after = waited !== undefined ? ` (gave up after waiting ${Math.round(waited)}s)` : '';
  return new StoreError(
    `another writer (${describeHolder(h)}) holds the store ${where}${after}`,
    `wait for it to finish, or pass --wait to queue behind it (--wait=SECONDS to give up after a while); ${breakHint}`,
  );
}

/**
 * Whether the process that took a lock still runs. A pid that now belongs to a process started
 * after the lock was taken is a reused pid, not the holder. (Linux: /proc; elsewhere the pid alone.)
 */
export function holderAlive(h: Pick<WriterInfo, 'pid' | 'started_at'>): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${h.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return false;
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // starttime (field 22) is in clock ticks since boot; Linux reports them at 100 per second.
    const startedMs = btime * 1000 + Number(fields[19]) * 10;
    if (Number.isFinite(startedMs) && startedMs > Date.parse(h.started_at) + 2000) return false;
  } catch {
    // no /proc: the pid check above is all we have
  }
  return true;
}

function parseInfo(raw: string): WriterInfo | null {
  try {
    const v = JSON.parse(raw) as WriterInfo;
    return typeof v.pid === 'number' && typeof v.token === 'string' ? v : null;
  } catch {
    return null;
  }
}

function readRaw(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

async function waitOrThrow(
  opts: WriterLockOptions,
  holder: WriterInfo,
  where: string,
  started: number,
  state: { announced: boolean },
  pollMs: number,
  breakHint: string,
): Promise<void> {
  if (opts.waitSeconds === undefined) throw busyError(holder, where, undefined, breakHint);
  const waited = (Date.now() - started) / 1000;
  if (waited >= opts.waitSeconds) throw busyError(holder, where, waited, breakHint);
  if (!state.announced) opts.onWait?.(holder);
  state.announced = true;
  await sleep(pollMs);
}

/** Takes the writer lock of a local store folder. */
export async function lockLocal(dir: string, opts: WriterLockOptions): Promise<WriterLock> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me = myInfo(opts.command);
  const mine = `${JSON.stringify(me)}\n`;
  const started = Date.now();
  const state = { announced: false };
  // The lock appears with its content in one step: written to a private file, then hard-linked
  // to the lock's name, which fails when a lock is there. Nobody ever reads a half-written lock.
  const draft = `${file}.${process.pid}-${me.token}`;
  try {
    const fd = openSync(draft, 'wx');
    try {
      writeSync(fd, mine);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StoreError(`cannot create the writer lock ${file} (${code ?? 'error'})`, 'check that the store folder is writable by you');
  }
  try {
    for (;;) {
      try {
        linkSync(draft, file);
        return localLock(file, me, mine);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          throw new StoreError(`cannot create the writer lock ${file} (${code ?? 'error'})`, 'check that the store folder is writable by you');
        }
      }
      const raw = readRaw(file);
      if (raw === null) continue; // released meanwhile
      const holder = parseInfo(raw);
      // A lock file nobody can read was not written by this code (or was damaged). Another
      // host's process cannot be checked from here: its lock is left to its owner.
      const stale = holder === null || (holder.host === me.host && !holderAlive(holder));
      if (stale) {
        breakStale(file, raw);
        continue;
      }
      await waitOrThrow(opts, holder, dir, started, state, POLL_LOCAL_MS, `if that process is gone, delete ${file}`);
    }
  } finally {
    try {
      unlinkSync(draft);
    } catch {
      // linked or not, the draft name goes
    }
  }
}

/**
 * Removes a stale lock file, but only the one judged stale: it is renamed aside first (atomic) and
 * checked; a fresh lock another process created in between is put back.
 */
function breakStale(file: string, staleRaw: string): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else removed it first
  }
  if (readRaw(aside) !== staleRaw) {
    try {
      linkSync(aside, file);
    } catch {
      // A third writer created a lock in the microseconds between: two now hold one. Left
      // unhandled: it takes three writers racing over a stale lock within that window.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // already gone
  }
}

function localLock(file: string, holder: WriterInfo, mine: string): WriterLock {
  const releaseSync = () => {
    if (readRaw(file) === mine) {
      try {
        unlinkSync(file);
      } catch {
        // gone already
      }
    }
  };
  // Whatever ends the process (an error, process.exit), the lock goes with it.
  process.once('exit', releaseSync);
  const lock: WriterLock = {
    holder,
    assertHeld: async () => undefined,
    release: async () => {
      process.removeListener('exit', releaseSync);
      held.delete(lock);
      releaseSync();
    },
  };
  held.add(lock);
  return lock;
}

interface LeaseRow {
  slot: string;
  holder: string;
  pid: number;
  host: string;
  command: string;
  started_at: string;
  expires_at: number;
}

const FREE_ROW: LeaseRow = { slot: 'writer', holder: '', pid: 0, host: '', command: '', started_at: '', expires_at: 0 };

/**
 * The lease table, created by whichever writer comes first. A table another writer is creating
 * right now can be listed before its first version is readable (the object store shows its folder
 * first): opening it then says "not found", so the open is retried for as long as a creator takes.
 */
async function leaseTable(conn: lancedb.Connection): Promise<lancedb.Table> {
  const deadline = Date.now() + LEASE_SETTLE_MS;
  for (;;) {
    try {
      return await openLeaseTable(conn);
    } catch (err) {
      const raw = err instanceof Error ? err.message : String(err);
      if (Date.now() > deadline || !/not found|does not exist/i.test(raw)) throw err;
      await sleep(POLL_LOCAL_MS);
    }
  }
}

async function openLeaseTable(conn: lancedb.Connection): Promise<lancedb.Table> {
  if (!(await conn.tableNames()).includes(LEASE_TABLE)) {
    try {
      await conn.createTable(LEASE_TABLE, [{ ...FREE_ROW }], { mode: 'create' });
    } catch {
      // another writer created it first
    }
  }
  const t = await conn.openTable(LEASE_TABLE);
  // Version 1 is the creation (once compacted away, the table is old enough anyway).
  const first = (await t.listVersions()).find((v) => v.version === 1);
  const age = first ? Date.now() - first.timestamp.getTime() : Infinity;
  if (age < LEASE_SETTLE_MS) await sleep(LEASE_SETTLE_MS - age);
  return t;
}

async function readLease(t: lancedb.Table): Promise<LeaseRow | null> {
  await t.checkoutLatest();
  const rows = (await t.query().toArray()) as LeaseRow[];
  const taken = rows.find((r) => r.holder);
  return taken ? { ...taken, pid: Number(taken.pid), expires_at: Number(taken.expires_at) } : null;
}

/** Takes the writer lease of a store on object storage. */
export async function lockRemote(conn: lancedb.Connection, where: string, opts: WriterLockOptions): Promise<WriterLock> {
  const t = await leaseTable(conn);
  const me = myInfo(opts.command);
  const started = Date.now();
  const state = { announced: false };
  for (;;) {
    const cur = await readLease(t);
    const now = Date.now();
    const free = !cur || cur.expires_at < now || (cur.host === me.host && !holderAlive(cur));
    if (free) {
      const predicate = cur ? `holder = ${sqlString(cur.holder)}` : `holder = ''`;
      const res = await t.update({ where: predicate, values: { ...leaseValues(me), expires_at: now + LEASE_TTL_MS } });
      if (res.rowsUpdated >= 1) return remoteLock(t, me, now + LEASE_TTL_MS);
      continue; // another writer's update won
    }
    const holder: WriterInfo = { pid: cur.pid, host: cur.host, command: cur.command, started_at: cur.started_at, token: cur.holder };
    await waitOrThrow(opts, holder, where, started, state, POLL_REMOTE_MS, `a holder that stopped without releasing it loses the lease ${LEASE_TTL_MS / 1000}s after its last renewal`);
  }
}

function leaseValues(me: WriterInfo): Omit<LeaseRow, 'expires_at'> {
  return { slot: 'writer', holder: me.token, pid: me.pid, host: me.host, command: me.command, started_at: me.started_at };
}

function remoteLock(t: lancedb.Table, holder: WriterInfo, expiresAt: number): WriterLock {
  let lost = false;
  const renew = async () => {
    const next = Date.now() + LEASE_TTL_MS;
    const res = await t.update({ where: `holder = ${sqlString(holder.token)}`, values: { expires_at: next } });
    if (res.rowsUpdated === 0) lost = true;
    else expiresAt = next;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), RENEW_EVERY_MS);
  timer.unref();
  const lock: WriterLock = {
    holder,
    assertHeld: async () => {
      if (!lost && Date.now() > expiresAt - LEASE_TTL_MS / 2) await renew();
      if (lost) {
        throw new StoreError(
          'lost the writer lease of this store: it expired (this process stalled) and another writer took it over',
          'rerun the command; the other writer finishes first',
        );
      }
    },
    release: async () => {
      clearInterval(timer);
      held.delete(lock);
      if (lost) return;
      // Every renewal is a commit: keep the lease table's history short while it is ours.
      if ((await t.version()) > 100) await t.optimize({ cleanupOlderThan: new Date(Date.now() - LEASE_TTL_MS) }).catch(() => undefined);
      await t.update({ where: `holder = ${sqlString(holder.token)}`, values: { ...FREE_ROW } });
    },
  };
  held.add(lock);
  return lock;
}
