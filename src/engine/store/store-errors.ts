import { RagError, StoreError } from '../errors.js';

/**
 * What LanceDB, Arrow and the object store throw is written for their developers (Rust source
 * paths, `lance error: …` chains). Users get one line that says what happened to their store and
 * what to do; the raw text stays on the error as `detail`, printed by `--verbose`.
 */
const RULES: { test: RegExp; message: (table: string | null) => string; fix: string }[] = [
  {
    test: /commit conflict|conflict_resolver|preempted by concurrent transaction/i,
    message: () => 'another process wrote the store at the same time (commit conflict)',
    fix: 'rerun the command; rag ingest and rag index take a writer lock, so the other writer was an older rag or a store shared across machines without one',
  },
  {
    test: /no space left|ENOSPC/i,
    message: () => 'the disk holding the store is full',
    fix: 'free some space and rerun the command (committed data is intact)',
  },
  {
    test: /permission denied|EACCES|EPERM|access ?denied|forbidden|\b403\b/i,
    message: (t) => `the store refused access${t ? ` to table ${t}` : ''} (permission denied)`,
    fix: 'check the permissions of the store folder, or the credentials of the bucket',
  },
  {
    test: /dispatch failure|connection refused|error sending request|timed out|dns error|ECONNREFUSED|ETIMEDOUT/i,
    message: () => 'cannot reach the store (network error)',
    fix: 'check that the bucket endpoint is up and reachable (RAG_S3_ENDPOINT, AWS_REGION), then rerun',
  },
  {
    test: /not found|no such file|does not exist|ENOENT|was not found/i,
    message: (t) =>
      `part of the store is missing${t ? ` (table ${t})` : ''}: its files were deleted, or an index table was removed while this command read it`,
    fix: 'rerun the command; if it fails again, rebuild with `rag index --rebuild` (or re-ingest into a fresh store)',
  },
  {
    test: /corrupt|invalid (?:manifest|file|data)|failed to decode|unexpected eof|checksum|parquet|protobuf/i,
    message: (t) => `the store's files are damaged${t ? ` (table ${t})` : ''}`,
    fix: 'restore the store folder from a backup, or re-create it with `rag ingest` and `rag index`',
  },
];

/** Table name in a raw message (`…/idx_default.lance/…`), when there is one. */
function tableIn(raw: string): string | null {
  const m = /([A-Za-z0-9_.-]+)\.lance\b/.exec(raw);
  return m ? m[1]! : null;
}

/** Whether an error came from the storage stack rather than from rag's own code. */
export function isStoreFailure(raw: string): boolean {
  return /lance|arrow|datafusion|object[_ ]store|\.rs:\d+|\.lance\b|_versions|_indices|Not found:|commit conflict|s3:\/\//i.test(raw);
}

/** One clear StoreError for any failure of the storage stack; the raw text goes to `detail`. */
export function storeErrorFrom(err: unknown, where?: string): StoreError {
  if (err instanceof StoreError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const table = tableIn(raw);
  const rule = RULES.find((r) => r.test.test(raw));
  const out = rule
    ? new StoreError(`${rule.message(table)}${where ? ` — ${where}` : ''}`, rule.fix)
    : new StoreError(`the store${where ? ` at ${where}` : ''} failed${table ? ` on table ${table}` : ''}`, 'rerun with --verbose to see the underlying error');
  out.detail = raw;
  return out;
}

/**
 * The one line any unexpected error becomes at the CLI: storage failures are mapped as above;
 * anything else is a bug in rag, said so plainly (its stack stays behind --verbose).
 */
export function userFacingError(err: unknown): RagError {
  if (err instanceof RagError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  if (isStoreFailure(raw)) {
    const mapped = storeErrorFrom(err);
    mapped.detail = err instanceof Error && err.stack ? err.stack : raw;
    return mapped;
  }
  const firstLine = raw.split('\n')[0]!.replace(/^(?:Error:\s*)+/, '').slice(0, 300);
  const out = new StoreError(`internal error: ${firstLine}`, 'rerun with --verbose for the details, and report it');
  out.detail = err instanceof Error && err.stack ? err.stack : raw;
  return out;
}
