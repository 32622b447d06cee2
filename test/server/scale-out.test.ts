/**
 * Scale-out: two `rag serve` processes over one s3:// store (the loopback S3 server) while
 * `rag ingest` + `rag index` write new generations to it. Readers never fail, never see two
 * generations in one answer, never go back in time, and each server serves the final generation
 * within the documented bound (--refresh-ms plus the warm-up of the new version).
 * Under CI=true a server that cannot be started fails the suite; elsewhere these tests skip.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addKey as makeKey } from '../../src/server/keys.js';
import { BIN, MODELS_DIR, tempDir } from '../helpers/cli.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { request, startServe, type Served } from './serve-process.js';

const BUCKET = 'rag-serve';
const GENERATIONS = 3;
const REFRESH_MS = 500;
let s3: S3Server;
const servers: Served[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
  if (s3.running) await s3.makeBucket(BUCKET);
}, 300_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  await s3?.stop();
});

function run(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, LANCEDB_LOG: 'error', ...s3.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('two rag serve processes on one s3:// store, one writer', () => {
  it('readers never fail or mix generations, and see the final one within the bound', async (ctx) => {
    if (!s3.running) ctx.skip(`no S3-compatible server: ${s3.startError.split('\n')[0]}`);
    const dir = tempDir('rag-scale-');
    const docs = path.join(dir, 'docs');
    mkdirSync(docs, { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(docs, `note-${i}.md`), `# Note ${i}\n\nRoutine maintenance note number ${i} about backups and keys.\n`);
    // Both paragraphs always carry the same generation: an answer with two numbers would be torn.
    const writeVersion = (g: number) =>
      writeFileSync(path.join(docs, 'version.md'), `# Release marker\n\nzebraquartz generation ${g} first paragraph.\n\n## Second\n\nzebraquartz generation ${g} second paragraph.\n`);
    writeVersion(0);
    const db = `s3://${BUCKET}/kb`;
    const base = ['--db', db, '-q'];
    expect((await run([...base, 'ingest', 'docs'], dir)).code).toBe(0);
    expect((await run([...base, 'index', '--model', 'none'], dir)).code).toBe(0);
    const keysFile = path.join(dir, 'keys.json');
    const { key } = makeKey(keysFile, { principals: [], tenant: 'default' });
    for (let i = 0; i < 2; i++) {
      servers.push(await startServe(['--db', db], ['--keys', keysFile, '--refresh-ms', String(REFRESH_MS), '--no-socket'], { cwd: dir, env: s3.env }));
    }

    let writing = true;
    let finalCommitAt = 0;
    const writer = (async () => {
      try {
        for (let g = 1; g <= GENERATIONS; g++) {
          writeVersion(g);
          writeFileSync(path.join(docs, `extra-${g}.md`), `# Extra ${g}\n\nAdded in generation ${g}.\n`);
          const ing = await run([...base, 'ingest', 'docs'], dir);
          expect(ing.code, ing.stderr).toBe(0);
          const idx = await run([...base, 'index'], dir);
          expect(idx.code, idx.stderr).toBe(0);
          if (g === GENERATIONS) finalCommitAt = performance.now();
        }
      } finally {
        writing = false;
      }
    })();

    const reader = async (s: Served) => {
      const log = { queries: 0, failures: [] as string[], generations: [] as number[], finalSeenMs: null as number | null, versions: new Set<string>() };
      let last = -1;
      while (writing || performance.now() - finalCommitAt < 60_000) {
        log.queries++;
        const r = await request(`${s.url}/v1/query`, { key, body: { query: 'zebraquartz generation', mode: 'bm25', k: 10 } }).catch((e: Error) => e);
        if (r instanceof Error || r.status !== 200) {
          log.failures.push(r instanceof Error ? r.message : `HTTP ${r.status}: ${r.text.slice(0, 200)}`);
          continue;
        }
        log.versions.add(r.headers['rag-index-version'] as string);
        const hits = r.json().results as { doc_id: string; text: string }[];
        const gens = new Set(hits.filter((h) => h.doc_id === 'docs/version.md').map((h) => Number(/generation (\d+)/.exec(h.text)?.[1])));
        if (gens.size > 1) log.failures.push(`torn read: generations ${[...gens].join(', ')} in one answer`);
        const g = gens.size === 1 ? [...gens][0]! : null;
        if (g !== null) {
          if (g < last) log.failures.push(`went back in time: generation ${g} after ${last}`);
          last = Math.max(last, g);
          log.generations.push(g);
          if (g === GENERATIONS && !writing) {
            log.finalSeenMs = performance.now() - finalCommitAt;
            return log;
          }
        }
      }
      return log;
    };

    const logs = await Promise.all(servers.flatMap((s) => [reader(s), reader(s)]));
    await writer;
    const failures = logs.flatMap((l) => l.failures);
    expect(failures, failures.join('\n')).toEqual([]);
    for (const l of logs) {
      expect(l.generations.at(-1)).toBe(GENERATIONS);
      // Documented bound: --refresh-ms plus the new version's warm-up (generous on a loaded 2-core machine).
      expect(l.finalSeenMs!).toBeLessThan(REFRESH_MS + 15_000);
    }
    const seen = new Set(logs.flatMap((l) => l.generations));
    expect(seen.size, 'readers should have run while the writer was writing').toBeGreaterThan(1);
    const versions = new Set(logs.flatMap((l) => [...l.versions]));
    expect(versions.size).toBeGreaterThan(1);
    console.log(
      `scale-out: 2 servers × 2 readers, ${logs.reduce((n, l) => n + l.queries, 0)} queries, 0 failures; generations seen ${[...seen].sort().join(',')}; ` +
        `final generation served ${logs.map((l) => l.finalSeenMs!.toFixed(0)).join(', ')} ms after the last \`rag index\` returned`,
    );
    rmSync(dir, { recursive: true, force: true });
  }, 600_000);
});
