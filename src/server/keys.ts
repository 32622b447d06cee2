/**
 * API keys of the service: who a caller is, derived from a credential instead of a flag.
 *
 * The keys file holds only SHA-256 hashes: a key is 32 random bytes, so a fast hash is as strong as
 * a slow one and a stolen file gives nothing to replay. Each key is bound to principals and one
 * tenant; a request may narrow them (fewer principals) but never widen them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLIC, validatePrincipal } from '../engine/acl.js';
import { InputError, UsageError } from '../engine/errors.js';
import { withFileLock } from '../engine/file-lock.js';
import { jsonSyntaxError } from '../engine/jsonc.js';
import type { Caller } from '../engine/types.js';

export const DEFAULT_KEYS_FILE = 'rag.keys.json';

export interface KeyRecord {
  /** Public handle of the key (list, revoke, logs); also the key's prefix, so a key names its record. */
  id: string;
  name: string;
  /** `sha256:` + hex of the whole key. */
  hash: string;
  principals: string[];
  tenant: string;
  created_at: string;
}

interface KeysFile {
  version: 1;
  keys: KeyRecord[];
}

const KEY_RE = /^rag_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const ID_RE = /^[0-9a-f]{12}$/;

const hashKey = (key: string) => `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;

export function readKeys(file: string): KeyRecord[] {
  if (!existsSync(file)) return [];
  const raw = readFileSync(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    const { line, message } = jsonSyntaxError(raw, err);
    throw new InputError(file, line, `invalid JSON (${message})`, 'restore the file or remove it and add keys again with `rag keys add`');
  }
  const keys = (data as Partial<KeysFile>)?.keys;
  if ((data as Partial<KeysFile>)?.version !== 1 || !Array.isArray(keys)) {
    throw new InputError(file, undefined, 'not a rag keys file (expected {"version": 1, "keys": [...]})', 'pass the file written by `rag keys add`');
  }
  keys.forEach((k, i) => {
    const ok =
      k && typeof k === 'object' && ID_RE.test(k.id) && /^sha256:[0-9a-f]{64}$/.test(k.hash) && typeof k.tenant === 'string' && k.tenant &&
      Array.isArray(k.principals) && k.principals.every((p: unknown) => typeof p === 'string');
    if (!ok) throw new InputError(file, undefined, `key #${i + 1} is malformed`, 'revoke it with `rag keys revoke ID` or restore the file');
    k.principals.forEach(validatePrincipal);
  });
  return keys as KeyRecord[];
}

/** Written to a sibling temp file then renamed: a reader (a running `rag serve`) never sees half a file. */
function writeKeys(file: string, keys: KeyRecord[]): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ version: 1, keys } satisfies KeysFile, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Creates a key bound to `principals` in `tenant`; returns the key itself (shown once) and its record. */
export function addKey(file: string, opts: { principals: string[]; tenant: string; name?: string }): { key: string; record: KeyRecord } {
  const principals = [...new Set(opts.principals.map(validatePrincipal))].sort();
  if (!opts.tenant) throw new UsageError('a key needs a tenant', 'pass --tenant NAME');
  return lockedKeys(file, () => {
    const keys = readKeys(file);
    let id: string;
    do id = randomBytes(6).toString('hex');
    while (keys.some((k) => k.id === id));
    const key = `rag_${id}_${randomBytes(32).toString('base64url')}`;
    const record: KeyRecord = { id, name: opts.name ?? '', hash: hashKey(key), principals, tenant: opts.tenant, created_at: new Date().toISOString() };
    writeKeys(file, [...keys, record]);
    return { key, record };
  });
}

export function revokeKey(file: string, id: string): KeyRecord {
  return lockedKeys(file, () => {
    const keys = readKeys(file);
    const found = keys.find((k) => k.id === id);
    if (!found) {
      throw new UsageError(`no key with id "${id}" in ${file}`, keys.length ? `use one of: ${keys.map((k) => k.id).join(', ')}` : 'the file has no keys');
    }
    writeKeys(file, keys.filter((k) => k !== found));
    return found;
  });
}

/** Read-modify-write under a lock file: an add racing a revoke must not write the revoked key back. */
function lockedKeys<T>(file: string, fn: () => T): T {
  mkdirSync(path.dirname(file), { recursive: true });
  return withFileLock(`${file}.lock`, 'rag keys', fn, { holding: 'another `rag keys` is changing this keys file' });
}

/** The record a presented key belongs to, or null (malformed, unknown, revoked). */
export function authenticate(keys: readonly KeyRecord[], presented: string | undefined): KeyRecord | null {
  const m = presented ? KEY_RE.exec(presented) : null;
  if (!m) return null;
  const record = keys.find((k) => k.id === m[1]);
  if (!record) return null;
  const a = Buffer.from(record.hash);
  const b = Buffer.from(hashKey(presented!));
  return a.length === b.length && timingSafeEqual(a, b) ? record : null;
}

/** Asked for more than the key grants: the service answers 403. */
export class ForbiddenError extends Error {}

/**
 * The caller of one request: the key's principals, or the subset the request asks for, in the key's
 * tenant. Asking for a principal or tenant the key does not hold is refused, never ignored.
 */
export function callerFor(record: KeyRecord, asked: { as?: readonly string[]; tenant?: string } = {}): Caller {
  if (asked.tenant !== undefined && asked.tenant !== record.tenant) {
    throw new ForbiddenError(`this key is bound to tenant "${record.tenant}"`);
  }
  let principals = record.principals;
  if (asked.as !== undefined && asked.as.length > 0) {
    const wanted = asked.as.map(validatePrincipal);
    const beyond = wanted.filter((p) => p !== PUBLIC && !record.principals.includes(p));
    if (beyond.length) throw new ForbiddenError(`this key does not hold ${beyond.join(', ')}`);
    principals = wanted;
  }
  return { principals: [...new Set([PUBLIC, ...principals])].sort(), tenant: record.tenant };
}

/**
 * The keys of a running service, re-read when the file changes (checked at most every `checkMs`),
 * so `rag keys add` and `rag keys revoke` take effect without a restart.
 */
export class KeyRing {
  private keys: KeyRecord[];
  private stamp: string;
  private checkedAt = Date.now();

  constructor(
    readonly file: string,
    private readonly checkMs = 1000,
    private readonly onError: (msg: string) => void = () => {},
  ) {
    this.keys = readKeys(file);
    this.stamp = this.fileStamp();
  }

  private fileStamp(): string {
    try {
      const st = statSync(this.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'missing';
    }
  }

  get size(): number {
    return this.current().length;
  }

  current(): KeyRecord[] {
    const now = Date.now();
    if (now - this.checkedAt >= this.checkMs) {
      this.checkedAt = now;
      const stamp = this.fileStamp();
      if (stamp !== this.stamp) {
        this.stamp = stamp;
        try {
          this.keys = readKeys(this.file);
        } catch (err) {
          // Fail closed: a hand edit that broke the file may have been a revocation.
          this.keys = [];
          this.onError(`keys file ${this.file} is unreadable, refusing every key until it is fixed: ${(err as Error).message}`);
        }
      }
    }
    return this.keys;
  }

  authenticate(presented: string | undefined): KeyRecord | null {
    return authenticate(this.current(), presented);
  }
}
