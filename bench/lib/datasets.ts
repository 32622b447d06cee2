/** Inputs of the benchmarks: the fixtures, SciFact, and the built stores (cached when slow to build). */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { benchEnv, parseJson, rag, ROOT } from './proc.js';

export const SHARED = process.env.RAG_SHARED_DIR ?? path.resolve(ROOT, '../shared');
export const SCIFACT = path.join(SHARED, 'datasets/scifact');
export const SCIFACT_CONFIG = path.join(ROOT, 'bench/scifact.config.json');
export const FIXTURE_CONFIG = path.join(ROOT, 'fixtures/rag.config.json');
export const FIXTURE_SOURCES = ['fixtures/docs', 'fixtures/html', 'fixtures/pdf', 'fixtures/tickets'].map((p) => path.join(ROOT, p));
export const CACHE = path.join(ROOT, 'bench/.cache');
export const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
export const STATIC = 'minishlab/m2v-bge-base-vq128';

export function modelsDir(): string {
  return benchEnv().RAG_MODELS_DIR!;
}

export function requireModel(id: string): void {
  if (!existsSync(path.join(modelsDir(), id))) {
    throw new Error(`model ${id} is missing from ${modelsDir()}: run \`bash scripts/prepare-models.sh .models\` and set RAG_MODELS_DIR`);
  }
}

export function requireScifact(): void {
  if (!existsSync(path.join(SCIFACT, 'corpus.jsonl.gz'))) throw new Error(`SciFact not found at ${SCIFACT} (set RAG_SHARED_DIR)`);
}

export interface BeirDoc {
  _id: string;
  title?: string;
  text: string;
}

export function scifactCorpus(): { docs: BeirDoc[]; bytes: number } {
  const raw = gunzipSync(readFileSync(path.join(SCIFACT, 'corpus.jsonl.gz')));
  const docs = raw.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as BeirDoc);
  return { docs, bytes: raw.length };
}

/** The 300 SciFact test queries (those with judgments in qrels/test.tsv). */
export function scifactTestQueries(): string[] {
  const judged = new Set(
    readFileSync(path.join(SCIFACT, 'qrels/test.tsv'), 'utf8').split('\n').slice(1).map((l) => l.split('\t')[0]).filter(Boolean),
  );
  return readFileSync(path.join(SCIFACT, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BeirDoc)
    .filter((q) => judged.has(q._id))
    .map((q) => q.text);
}

export function fixtureQueries(): string[] {
  return readFileSync(path.join(ROOT, 'goldens/fixtures.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { query: string }).query);
}

export function bytesUnder(paths: string[]): number {
  let total = 0;
  const visit = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(path.join(p, e));
    else total += st.size;
  };
  paths.forEach(visit);
  return total;
}

/** Contents keyed by path relative to the repo or the models dir, so moving either keeps the key. */
function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f.startsWith(modelsDir()) ? path.relative(modelsDir(), f) : path.relative(ROOT, f));
    if (!existsSync(f)) throw new Error(`bench store key: ${f} is missing (moved? update storeKey)`);
    h.update(readFileSync(f));
  }
  return h.digest('hex');
}

/** Everything a built store depends on: data, config, model weights, the code that writes it. */
function storeKey(inputs: string[], model: string): string {
  const engine = ['ingest/ingest.ts', 'index/indexer.ts', 'ingest/chunker.ts', 'store/store.ts', 'hash.ts', 'config.ts'].map((f) => path.join(ROOT, 'src/engine', f));
  const connectors = readdirSync(path.join(ROOT, 'src/connectors')).map((f) => path.join(ROOT, 'src/connectors', f));
  const weights = path.join(modelsDir(), model, '.rag-weights.json');
  const lancedb = path.join(ROOT, 'node_modules/@lancedb/lancedb/package.json');
  return hashFiles([...inputs, ...engine, ...connectors, weights, lancedb]).slice(0, 16);
}

export interface BuiltStore {
  db: string;
  config: string;
  model: string;
  /** Seconds to ingest and to index, when this run built it (null when reused from the cache). */
  ingestSeconds: number | null;
  indexSeconds: number | null;
  embedded: number | null;
  chunks: number;
  reused: boolean;
}

/** The SciFact store indexed with MiniLM: built once (~4 min of embedding), then reused by key. */
export async function scifactStore(log: (m: string) => void): Promise<BuiltStore> {
  requireScifact();
  requireModel(MINILM);
  const key = storeKey([path.join(SCIFACT, 'corpus.jsonl.gz'), SCIFACT_CONFIG], MINILM);
  const dir = path.join(CACHE, `scifact-${key}`);
  const ready = path.join(dir, 'bench-ready.json');
  if (existsSync(ready)) return { ...(JSON.parse(readFileSync(ready, 'utf8')) as BuiltStore), reused: true };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`building the SciFact store in ${path.relative(ROOT, dir)} (MiniLM embedding of ~5k abstracts: a few minutes, once)`);
  const built = await buildStore(path.join(dir, 'db'), SCIFACT_CONFIG, MINILM, ['--format', 'beir', SCIFACT]);
  writeFileSync(ready, JSON.stringify(built, null, 2));
  return built;
}

/** The fixtures indexed with the static model, in a fresh directory (seconds to build). */
export async function fixtureStore(dir: string): Promise<BuiltStore> {
  requireModel(STATIC);
  return buildStore(path.join(dir, 'db'), FIXTURE_CONFIG, STATIC, FIXTURE_SOURCES);
}

/** `rag ingest` then `rag index --model`, timed, into a new store. */
async function buildStore(db: string, config: string, model: string, sources: string[]): Promise<BuiltStore> {
  const ing = await rag(['--db', db, '--config', config, '--json', '-q', 'ingest', ...sources]);
  const idx = await rag(['--db', db, '--config', config, '--json', '-q', 'index', '--model', model]);
  const summary = parseJson<{ embedded: number; rows: number }>(idx);
  return {
    db,
    config,
    model,
    ingestSeconds: ing.wallMs / 1000,
    indexSeconds: idx.wallMs / 1000,
    embedded: summary.embedded,
    chunks: summary.rows,
    reused: false,
  };
}
