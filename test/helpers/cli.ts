import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/rag');
export const FIXTURES = path.join(ROOT, 'fixtures');
export const FIXTURE_CONFIG = path.join(FIXTURES, 'rag.config.json');
export const SHARED = path.resolve(ROOT, '../shared');

/** Models for tests: RAG_MODELS_DIR, else the repo's .models prepared by scripts/prepare-models.sh. */
export const MODELS_DIR = process.env.RAG_MODELS_DIR ?? path.join(ROOT, '.models');
export const STATIC_MODEL = 'minishlab/m2v-bge-base-vq128';

export function requireModel(id: string): void {
  if (!existsSync(path.join(MODELS_DIR, id))) {
    throw new Error(`model ${id} is missing from ${MODELS_DIR}: run scripts/prepare-models.sh (CI does)`);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

export function rag(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string; timeout?: number } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, RAG_MODELS_DIR: MODELS_DIR, NO_COLOR: '1', LANCEDB_LOG: 'error', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeout ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json() {
      try {
        return JSON.parse(r.stdout);
      } catch {
        throw new Error(`not JSON (exit ${r.status}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
      }
    },
  };
}

export function tempDir(prefix = 'rag-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
