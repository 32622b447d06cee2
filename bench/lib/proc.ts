/** Runs a command as a child process and measures what a user would: wall time and peak RSS. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spread } from './stats.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/rag');
const GNU_TIME = '/usr/bin/time';

export interface Timed {
  code: number;
  wallMs: number;
  /** Peak resident set size of the child in MiB (from GNU time), or null when unavailable. */
  maxRssMiB: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Node 20 builds its whole TLS root store while it starts whenever NODE_EXTRA_CA_CERTS is set
 * (an empty value aside): ~25 ms for one extra certificate, ~50 ms for a distribution's bundle on
 * a 2-core VM, paid by every Node process before its first line runs. Sandboxes and corporate
 * machines often set it; most machines do not. Cold-process sections measure both, so a figure is
 * not read as rag's when it is this machine's.
 */
export const EXTRA_CA_SET = Boolean(process.env.NODE_EXTRA_CA_CERTS);

/**
 * The cold-process cases again, as on a machine without NODE_EXTRA_CA_CERTS: `node -e 0`
 * (`nodeStartup`) and each case `n` times, interleaved; a summary per case.
 */
export async function timedWithoutExtraCa(
  n: number,
  env: NodeJS.ProcessEnv,
  cases: Record<string, (i: number, env: NodeJS.ProcessEnv) => Promise<Timed>>,
): Promise<Record<string, ProcessSummary>> {
  const { NODE_EXTRA_CA_CERTS: _, ...bare } = env;
  const runs: Record<string, Timed[]> = { nodeStartup: [] };
  for (let i = 0; i < n; i++) {
    runs.nodeStartup!.push(await runTimed(process.execPath, ['-e', '0'], { env: bare }));
    for (const [name, run] of Object.entries(cases)) (runs[name] ??= []).push(await run(i, bare));
  }
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, processSummary(v)]));
}

export interface ProcessSummary {
  wallMs: ReturnType<typeof spread>;
  maxRssMiB: ReturnType<typeof spread>;
}

/** Wall time and peak RSS of repeated runs of one process. */
export function processSummary(runs: Timed[]): ProcessSummary {
  return { wallMs: spread(runs.map((r) => r.wallMs)), maxRssMiB: spread(runs.map((r) => r.maxRssMiB ?? 0)) };
}

export function benchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RAG_MODELS_DIR: process.env.RAG_MODELS_DIR ?? path.join(ROOT, '.models'),
    NO_COLOR: '1',
    LANCEDB_LOG: 'error',
    ...extra,
  };
}

export async function runTimed(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const useTime = existsSync(GNU_TIME);
  const tmp = useTime ? mkdtempSync(path.join(os.tmpdir(), 'rag-bench-time-')) : '';
  const timeFile = path.join(tmp, 'time.txt');
  const argv = useTime ? ['-v', '-o', timeFile, cmd, ...args] : args;
  const t0 = performance.now();
  const child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: opts.cwd ?? ROOT, env: opts.env ?? benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  const wallMs = performance.now() - t0;
  let maxRssMiB: number | null = null;
  if (useTime && existsSync(timeFile)) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
    if (m) maxRssMiB = Math.round((Number(m[1]) / 1024) * 10) / 10;
    rmSync(tmp, { recursive: true, force: true });
  }
  return { code, wallMs, maxRssMiB, stdout, stderr };
}

/** Runs `rag ARGS` (the built CLI, as users run it); throws with its stderr on a non-zero exit. */
export async function rag(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<Timed> {
  const r = await runTimed(process.execPath, [BIN, ...args], opts);
  if (r.code !== 0 && !opts.allowFail) throw new Error(`rag ${args.join(' ')} exited ${r.code}\n${r.stderr.slice(-2000)}`);
  return r;
}

export function parseJson<T>(r: Timed): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout, got:\n${r.stdout.slice(0, 500)}\n--- stderr:\n${r.stderr.slice(-1000)}`);
  }
}

/** Peak RSS of this process so far, MiB. */
export function selfMaxRssMiB(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
