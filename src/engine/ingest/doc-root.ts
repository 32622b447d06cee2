/**
 * The directory file ids are relative to. A file's doc_id is its path from this root, so the same
 * file gets the same id whatever directory `rag ingest` runs from (golden sets name documents by
 * these ids). The root is, in order: the config's `root` key (relative to the config file), else
 * the root the store recorded at its first ingest, else — for a new store — the working
 * directory of that first ingest. The store keeps it in `store_meta`, so every later ingest, from
 * anywhere, uses it.
 */
import { existsSync, statSync } from 'node:fs';
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

/** Connectors whose ids come from the records (JSONL and BEIR): not paths. */
const RECORD_CONNECTORS = new Set(['jsonl', 'beir']);

/**
 * Whether a path id resolves under `root`: the id is the file (`docs/a.md`), or a file holds what
 * it names — an mbox message or a sheet row (`mail.mbox#3`), an e-mail attachment
 * (`msg.eml/report.pdf`): the id or one of its prefixes is a file there. Null for ids that are not
 * paths: records' ids, and table rows keyed by an id column.
 */
function resolvesUnder(d: { doc_id: string; connector: string }, root: string): boolean | null {
  if (RECORD_CONNECTORS.has(d.connector)) return null;
  const hash = d.doc_id.indexOf('#');
  if (hash < 0 && ['csv', 'xlsx', 'ods'].includes(d.connector) && !existsSync(path.resolve(root, d.doc_id))) return null;
  let p = path.resolve(root, hash > 0 ? d.doc_id.slice(0, hash) : d.doc_id);
  const top = path.resolve(root);
  for (; p.startsWith(top + path.sep); p = path.dirname(p)) {
    if (existsSync(p)) return statSync(p).isFile() || p === path.resolve(root, d.doc_id);
  }
  return false;
}

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
  const checks = docs.map((d) => resolvesUnder(d, root)).filter((r): r is boolean => r !== null);
  if (checks.length === 0) return true;
  const found = checks.filter(Boolean).length;
  return found * 2 >= checks.length;
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
