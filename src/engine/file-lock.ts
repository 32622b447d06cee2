/**
 * A short-lived lock file around a read-check-rewrite of a small file that several processes may
 * change at once: a golden file (several `rag label` sessions and `--import` on one golden set;
 * their journal appends never conflict, one O_APPEND write each, so only the rewrite of the
 * golden file itself is serialised, for milliseconds) and the API keys file (`rag keys`).
 *
 * The file says who holds it (pid, host, labeler, since). A lock whose process is gone (same
 * host, pid not alive) or that is older than any rewrite can take is stale and is broken.
 */
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import { UsageError } from './errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  owner: string;
  since: string;
}

export interface LockOptions {
  /** How long to wait for a live holder before giving up. */
  waitMs?: number;
  /** Age after which a lock is stale whoever holds it (no rewrite takes this long). */
  staleMs?: number;
  /** What the holder is doing, for the refusal (default: a `rag label` writing the golden file). */
  holding?: string;
}

const held = new Set<string>();

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readHolder(lockPath: string): { holder?: LockHolder; raw: string } | undefined {
  let raw: string;
  try {
    raw = readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const h = JSON.parse(raw) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? { holder: h, raw } : { raw };
  } catch {
    return { raw }; // being written right now, or garbage: judged by its age below
  }
}

function isStale(lockPath: string, h: LockHolder | undefined, firstSeen: number, staleMs: number): boolean {
  if (!h) return Date.now() - firstSeen > 2000;
  if (h.host === os.hostname() && (!alive(h.pid) || (h.pid === process.pid && !held.has(lockPath)))) return true;
  const since = Date.parse(h.since);
  return Number.isFinite(since) && Date.now() - since > staleMs;
}

/** Moves a stale lock aside; if what was moved turns out to be a fresh lock, puts it back. */
function breakStale(lockPath: string, staleRaw: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleRaw) linkSync(aside, lockPath);
  } catch {
    // a new lock already took its place: that holder stands
  }
  try {
    unlinkSync(aside);
  } catch {
    // already gone
  }
}

export function describeHolder(h: LockHolder): string {
  return `${h.owner} (pid ${h.pid} on ${h.host}, since ${h.since})`;
}

/** Runs `fn` holding `lockPath`; waits for a live holder up to `waitMs`, breaks a stale one. */
export function withFileLock<T>(lockPath: string, owner: string, fn: () => T, opts: LockOptions = {}): T {
  const waitMs = opts.waitMs ?? 10_000;
  const staleMs = opts.staleMs ?? 60_000;
  const me: LockHolder = { pid: process.pid, host: os.hostname(), owner, since: new Date().toISOString() };
  const raw = JSON.stringify(me);
  const start = Date.now();
  let seen: { raw: string; at: number } | undefined;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      try {
        writeSync(fd, raw);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const cur = readHolder(lockPath);
    if (!cur) continue;
    if (!seen || seen.raw !== cur.raw) seen = { raw: cur.raw, at: Date.now() };
    if (isStale(lockPath, cur.holder, seen.at, staleMs)) {
      breakStale(lockPath, cur.raw);
      continue;
    }
    if (Date.now() - start > waitMs) {
      const who = cur.holder ? describeHolder(cur.holder) : 'another process';
      throw new UsageError(
        `${lockPath} is held by ${who}: ${opts.holding ?? 'another `rag label` is writing this golden file'}`,
        `wait for it to finish; if that process is gone, delete ${lockPath}`,
      );
    }
    sleep(15);
  }
  held.add(lockPath);
  try {
    return fn();
  } finally {
    held.delete(lockPath);
    if (existsSync(lockPath) && readHolder(lockPath)?.raw === raw) unlinkSync(lockPath);
  }
}
