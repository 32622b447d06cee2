/**
 * Where a warm `rag serve` listens for the local `rag query` of its store: a Unix socket in a
 * directory only its owner may enter (0700, checked), named by a hash of the store location. Only
 * Node built-ins here: `rag query` reads this before it loads anything heavy.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const isRemote = (uri: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(uri);

/** The store location as `Store.open` resolves it. */
export function resolveDb(db: string, cwd = process.cwd()): string {
  return isRemote(db) ? db : path.resolve(cwd, db);
}

export function runtimeDir(): string {
  if (process.env.RAG_RUNTIME_DIR) return process.env.RAG_RUNTIME_DIR;
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? path.join(xdg, 'rag') : path.join(os.tmpdir(), `rag-${os.userInfo().uid}`);
}

/** Unix socket paths are limited to ~104 bytes, so the name is a short hash, not the store path. */
export function socketPath(resolvedDb: string): string {
  return path.join(runtimeDir(), `${createHash('sha256').update(resolvedDb).digest('hex').slice(0, 20)}.sock`);
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
 * Identifies the config a query would run under: the daemon answers only clients whose config file
 * is byte-identical to its own (defaults, profiles and tenants all come from it).
 */
export function configFingerprint(configPath: string | undefined, cwd = process.cwd()): string {
  const file = path.resolve(cwd, configPath ?? 'rag.config.json');
  if (!existsSync(file)) return configPath ? `missing:${file}` : 'none';
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
