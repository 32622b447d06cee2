/**
 * Where a warm `rag serve` listens for the local `rag query` of its store: a Unix socket in a
 * directory only its owner may enter (0700, checked), named by a hash of the store location. Only
 * Node built-ins here: `rag query` reads this before it loads anything heavy.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const isRemote = (uri: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(uri);

/** The largest request the daemon's socket takes; the client leaves anything larger to the CLI. */
export const LOCAL_BODY_LIMIT = 256 * 1024;

/** The store location as `Store.open` resolves it. */
export function resolveDb(db: string, cwd = process.cwd()): string {
  return isRemote(db) ? db : path.resolve(cwd, db);
}

export function runtimeDir(): string {
  if (process.env.RAG_RUNTIME_DIR) return process.env.RAG_RUNTIME_DIR;
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? path.join(xdg, 'rag') : path.join(os.tmpdir(), `rag-${os.userInfo().uid}`);
}

/**
 * Unix socket paths are limited to ~104 bytes, so the name is a short hash, not the store path.
 * FNV-1a, not node:crypto: loading crypto costs every daemon-answered `rag query` ~4 ms, and a
 * clash only makes a daemon decline (a request names its store, checked before it is answered).
 */
export function socketPath(resolvedDb: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(resolvedDb, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return path.join(runtimeDir(), `${h.toString(16).padStart(16, '0')}.sock`);
}

/**
 * True when `dir` is ours and closed to everyone else. Another user could otherwise create the
 * directory first and answer our queries, or read them.
 */
export function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === os.userInfo().uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Creates the runtime directory (0700) if needed; false when it exists but is not private. */
export function ensurePrivateDir(dir: string): boolean {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return privateDir(dir);
}

/**
 * The config a query would run under, as the daemon compares it: the file's text (null: no config
 * file, the defaults). The daemon answers only clients whose config is identical to its own
 * (defaults, profiles and tenants all come from it). Undefined when an explicitly named file is
 * missing: the CLI reports that.
 */
export function configText(configPath: string | undefined, cwd = process.cwd()): string | null | undefined {
  const file = path.resolve(cwd, configPath ?? 'rag.config.json');
  if (!existsSync(file)) return configPath ? undefined : null;
  return readFileSync(file, 'utf8');
}
