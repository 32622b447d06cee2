/**
 * The store on object storage, for real: an S3-compatible server (moto, started by
 * scripts/start-s3.sh) on loopback, and the CLI run against `--db s3://bucket/prefix`.
 * Under CI=true a server that cannot be started fails the suite; elsewhere these tests skip.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURE_CONFIG, FIXTURES, MODELS_DIR, rag, requireModel, STATIC_MODEL, tempDir } from './helpers/cli.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

const BUCKET = 'rag-test';
let s3: S3Server;
let s3env: Record<string, string> = {};

beforeAll(async () => {
  s3 = await startS3Server();
  if (s3.running) await s3.makeBucket(BUCKET);
  s3env = s3.env;
}, 300_000);

afterAll(async () => {
  await s3?.stop();
});

function needServer(ctx: { skip: (note?: string) => void }): void {
  if (!s3.running) ctx.skip(`no S3-compatible server: ${s3.startError.split('\n')[0]}`);
}

/** Keys under a prefix of the bucket (S3 ListObjectsV2). */
const listKeys = (prefix: string) => s3.listKeys(BUCKET, prefix);

const SOURCES = ['docs', 'html', 'pdf', 'tickets'];

describe('rag on an s3:// store', () => {
  let dir: string;
  const db = `s3://${BUCKET}/fixtures`;
  const cli = (args: string[]) => rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', ...args], { cwd: dir, env: s3env });

  it('ingests, indexes and queries the fixtures, and re-ingesting writes nothing', async (ctx) => {
    needServer(ctx);
    dir = tempDir('rag-s3-');
    for (const s of SOURCES) cpSync(path.join(FIXTURES, s), path.join(dir, s), { recursive: true });

    const ing = cli(['ingest', ...SOURCES]);
    expect(ing.code, ing.stderr).toBe(0);
    const first = ing.json<{ added: number; documents: number }>();
    expect(first.added).toBeGreaterThan(10);

    const idx = cli(['index', '--model', 'none']);
    expect(idx.code, idx.stderr).toBe(0);
    expect(idx.json<{ rows: number }>().rows).toBeGreaterThan(first.added);

    // The tables live in the bucket, under the prefix: nothing was written to a local folder.
    const keys = await listKeys('fixtures/');
    expect(keys.some((k) => k.startsWith('fixtures/chunks.lance/'))).toBe(true);
    expect(keys.some((k) => k.startsWith('fixtures/idx_default.lance/'))).toBe(true);

    const q = cli(['query', 'how do I rotate an API key', '--mode', 'bm25', '-k', '5']);
    expect(q.code, q.stderr).toBe(0);
    const hits = q.json<{ results: { doc_id: string }[] }>().results;
    expect(hits[0]?.doc_id).toBe('docs/api-keys.md');

    const again = cli(['ingest', ...SOURCES]);
    expect(again.code, again.stderr).toBe(0);
    const second = again.json<{ added: number; updated: number; unchanged: number; store_version: number }>();
    expect(second).toMatchObject({ added: 0, updated: 0, unchanged: first.added });
    expect(second.store_version).toBe(ing.json<{ store_version: number }>().store_version);
  });

  it('builds a vector index there too and answers hybrid queries', (ctx) => {
    needServer(ctx);
    requireModel(STATIC_MODEL);
    const idx = cli(['index', '--name', 'vec', '--model', STATIC_MODEL]);
    expect(idx.code, idx.stderr).toBe(0);
    expect(idx.json<{ model: string }>().model).toBe(STATIC_MODEL);
    const q = cli(['query', 'restore a deleted project from a backup', '--index', 'vec', '--mode', 'hybrid', '-k', '5']);
    expect(q.code, q.stderr).toBe(0);
    const res = q.json<{ mode: string; results: { doc_id: string }[] }>();
    expect(res.mode).toBe('hybrid');
    expect(res.results.map((r) => r.doc_id)).toContain('docs/backups-restore.md');
  });

  it('reports a missing bucket as a store error (exit 3), not a crash', (ctx) => {
    needServer(ctx);
    const r = rag(['--db', `s3://no-such-bucket-${Date.now()}/x`, '--json', 'query', 'anything'], { cwd: dir, env: s3env, timeout: 60_000 });
    expect(r.code).toBe(3);
    // --json: the error is one JSON object on stderr, not a backtrace
    const err = JSON.parse(r.stderr) as { error: string; fix: string; exit: number };
    expect(err.error).toMatch(/^cannot reach store s3:\/\/no-such-bucket-\d+\/x: bucket missing or not reachable$/);
    expect(err.fix).toMatch(/^check that the bucket exists/);
    expect(err.exit).toBe(3);
  });
});

interface ReaderLog {
  queries: number;
  failures: string[];
  generations: number[];
  latencies: number[];
}

function runAsync(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, NO_COLOR: '1', LANCEDB_LOG: 'error', ...s3env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }));
  });
}

describe('one writer, several readers on one s3:// store', () => {
  const READERS = Number(process.env.RAG_S3_READERS ?? 4);
  const GENERATIONS = 4;

  it(`${READERS} query processes never fail and see each committed version whole while a writer re-ingests and re-indexes`, async (ctx) => {
    needServer(ctx);
    const dir = tempDir('rag-s3-conc-');
    const docs = path.join(dir, 'docs');
    mkdirSync(docs, { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(docs, `note-${i}.md`), `# Note ${i}\n\nRoutine maintenance note number ${i} about backups and keys.\n`);
    // The version document: both paragraphs always carry the same generation number, so a
    // reader that ever saw two different numbers in one answer would have seen a torn write.
    const writeVersion = (g: number) =>
      writeFileSync(
        path.join(docs, 'version.md'),
        `# Release marker\n\nzebraquartz generation ${g} first paragraph.\n\n## Second\n\nzebraquartz generation ${g} second paragraph.\n`,
      );
    writeVersion(0);
    const db = `s3://${BUCKET}/concurrency`;
    const base = ['--db', db, '--json', '-q'];
    expect((await runAsync([...base, 'ingest', 'docs'], dir)).code).toBe(0);
    expect((await runAsync([...base, 'index', '--model', 'none'], dir)).code).toBe(0);

    let writing = true;
    const commits: { generation: number; ms: number }[] = [];
    const writer = (async () => {
      try {
        for (let g = 1; g <= GENERATIONS; g++) {
          writeVersion(g);
          writeFileSync(path.join(docs, `extra-${g}.md`), `# Extra ${g}\n\nAdded in generation ${g}.\n`);
          const t0 = performance.now();
          const ing = await runAsync([...base, 'ingest', 'docs'], dir);
          expect(ing.code, ing.stderr).toBe(0);
          const idx = await runAsync([...base, 'index'], dir);
          expect(idx.code, idx.stderr).toBe(0);
          commits.push({ generation: g, ms: performance.now() - t0 });
        }
      } finally {
        writing = false;
      }
    })();

    const reader = async (): Promise<ReaderLog> => {
      const log: ReaderLog = { queries: 0, failures: [], generations: [], latencies: [] };
      let last = -1;
      // Keep reading while the writer works, then once more to see the final version.
      for (let extra = 0; writing || extra < 1; extra += writing ? 0 : 1) {
        const r = await runAsync([...base, 'query', 'zebraquartz generation', '--mode', 'bm25', '-k', '10'], dir);
        log.queries++;
        log.latencies.push(r.ms);
        if (r.code !== 0) {
          log.failures.push(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
          continue;
        }
        const hits = (JSON.parse(r.stdout) as { results: { doc_id: string; text: string }[] }).results;
        const gens = new Set(hits.filter((h) => h.doc_id === 'docs/version.md').map((h) => Number(/generation (\d+)/.exec(h.text)?.[1])));
        if (gens.size > 1) log.failures.push(`torn read: generations ${[...gens].join(', ')} in one answer`);
        // Between a re-ingest and its re-index the changed document is withdrawn from the index;
        // when it is present it must never be older than what this reader saw before.
        const g = gens.size === 1 ? [...gens][0]! : null;
        if (g !== null) {
          if (g < last) log.failures.push(`went back in time: generation ${g} after ${last}`);
          last = Math.max(last, g);
          log.generations.push(g);
        }
      }
      return log;
    };

    const logs = await Promise.all(Array.from({ length: READERS }, reader));
    await writer;
    const all = logs.flatMap((l) => l.failures);
    expect(all, all.join('\n')).toEqual([]);
    expect(commits.map((c) => c.generation)).toEqual([1, 2, 3, 4]);
    // Every reader's last answer shows the final version.
    for (const l of logs) expect(l.generations.at(-1)).toBe(GENERATIONS);
    const seen = new Set(logs.flatMap((l) => l.generations));
    expect(seen.size, 'readers should have run while the writer was writing').toBeGreaterThan(1);
    const lat = logs.flatMap((l) => l.latencies).sort((a, b) => a - b);
    const q = logs.reduce((s, l) => s + l.queries, 0);
    console.log(
      `s3 concurrency: ${READERS} readers, ${q} queries, 0 failures; query process p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(0)} ms, ` +
        `max ${lat.at(-1)!.toFixed(0)} ms; writer ingest+index per generation ${commits.map((c) => c.ms.toFixed(0)).join(', ')} ms; generations seen ${[...seen].sort().join(',')}`,
    );
  }, 600_000);
});
