/**
 * The directory file ids are relative to. A file's doc_id is its path from this root, so the same
 * file gets the same id whatever directory `rag ingest` runs from (golden sets name documents by
 * these ids). The root is, in order: the config's `root` key (relative to the config file), else
 * the root the store recorded at its first ingest, else — for a new store — the working
 * directory of that first ingest. The store keeps it in `store_meta`, so every later ingest, from
 * anywhere, uses it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DOCUMENTS, manifestsSchema, type Store } from '../store/store.js';

const STORE_META = 'store_meta';
const KEY = 'doc_ids';
const SCHEME = 'root-relative/1';

interface DocIdRecord {
  scheme: string;
  root: string;
}

/** Connectors whose doc_id is the file's path (JSONL and BEIR ids come from the records). */
const PATH_CONNECTORS = new Set(['markdown', 'html', 'pdf', 'text']);

export async function readDocIdRecord(store: Store): Promise<DocIdRecord | null> {
  const rows = await store.readAll<{ name: string; json: string }>(STORE_META, undefined, `name = '${KEY}'`);
  return rows[0] ? (JSON.parse(rows[0].json) as DocIdRecord) : null;
}

async function writeRecord(store: Store, root: string): Promise<void> {
  await store.upsert(STORE_META, manifestsSchema, 'name', [{ name: KEY, json: JSON.stringify({ scheme: SCHEME, root }) }]);
}

/**
 * Whether the stored path ids are paths from `root`: at least half of the live files resolve
 * there (the rest may be about to be pruned). True when the store holds no path ids.
 */
async function idsResolveUnder(store: Store, root: string): Promise<boolean> {
  const docs = await store.readAll<{ doc_id: string; connector: string }>(DOCUMENTS, ['doc_id', 'connector'], 'deleted = false');
  const files = docs.filter((d) => PATH_CONNECTORS.has(d.connector));
  if (files.length === 0) return true;
  const found = files.filter((d) => existsSync(path.resolve(root, d.doc_id))).length;
  return found * 2 >= files.length;
}

/**
 * The root for this ingest, recorded in the store. A store whose ids were made from another root
 * (an older rag made them relative to each run's working directory) is adopted when its ids
 * resolve from the new root (same layout, e.g. a moved checkout), and refused otherwise: mixing
 * two roots would store every file twice under two ids.
 */
export async function resolveDocRoot(store: Store, opts: { configRoot?: string; cwd: string; paths: readonly string[] }): Promise<string> {
  const record = await readDocIdRecord(store);
  const recorded = record?.scheme === SCHEME ? record.root : null;
  const candidate = opts.configRoot ?? (recorded && existsSync(recorded) ? recorded : opts.cwd);
  if (candidate === recorded) return candidate;
  if (await idsResolveUnder(store, candidate)) {
    await writeRecord(store, candidate);
    return candidate;
  }
  const rebuild = `rm -rf ${store.uri} && rag --db ${store.uri} ingest ${opts.paths.join(' ')}`;
  if (!recorded) {
    throw new UsageError(
      `the store ${store.uri} was built by an older rag, with document ids relative to the directory each ingest ran in, and they are not paths from ${candidate}`,
      `run this ingest once from the directory the store was built from (its ids are then kept as they are), or rebuild the store: ${rebuild}`,
    );
  }
  throw new UsageError(
    `the store ${store.uri} holds document ids relative to ${recorded}${existsSync(recorded) ? '' : ' (not on this machine)'}, but this ingest would make them relative to ${candidate}: every file would be stored twice`,
    `set "root" in the config to the directory the ids are relative to, or rebuild the store: ${rebuild}`,
  );
}
