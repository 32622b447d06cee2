/**
 * The benchmark harness: `npm run bench` (full) or `npm run bench -- --quick` (the reduced CI mode).
 *
 *   npm run bench [-- --quick] [--only ingest,embedding,peers,warm,cold,ann,incremental,serve,audit,watch,freshness] [--name NAME]
 *
 * Each section runs in its own child process, so the peak RSS it reports is its own. Results go to
 * bench/results/<name>.json (name: "quick" or "full" unless given) and bench/results/README.md,
 * which tabulates every results file present, with the machine each ran on.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundle } from '../scripts/build.js';
import { machineInfo } from './lib/machine.js';
import { benchEnv, ROOT, tempDir } from './lib/proc.js';
import { evaluateGoals, renderReadme, type BenchResult } from './lib/report.js';

const SECTION_NAMES = ['ingest', 'embedding', 'peers', 'warm', 'cold', 'ann', 'incremental', 'serve', 'audit', 'watch', 'freshness'] as const;
type Name = (typeof SECTION_NAMES)[number];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function runOneSection(name: Name, out: string): Promise<void> {
  const { SECTIONS } = await import('./lib/sections.js');
  const started = performance.now();
  const result = await SECTIONS[name]({ quick, log: (m) => log(m) });
  const rss = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  writeFileSync(out, JSON.stringify({ result, seconds: (performance.now() - started) / 1000, processMaxRssMiB: rss }));
}

function spawnSection(name: Name): Promise<{ result?: unknown; error?: string; seconds: number; processMaxRssMiB?: number }> {
  const dir = tempDir('rag-bench-section-');
  const out = path.join(dir, 'out.json');
  const args = ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), '--section', name, '--out', out, ...(quick ? ['--quick'] : [])];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: benchEnv(), stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      process.stderr.write(d);
    });
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0 && existsSync(out)) {
        const v = JSON.parse(readFileSync(out, 'utf8')) as { result: unknown; processMaxRssMiB: number };
        resolve({ result: v.result, processMaxRssMiB: v.processMaxRssMiB, seconds });
      } else {
        resolve({ error: `exit ${code}: ${stderr.trim().split('\n').slice(-6).join('\n')}`, seconds });
      }
      rmSync(dir, { recursive: true, force: true });
    });
  });
}

/** The processes a bench times run dist/: rebuilt from src/ first (a second or two), never stale. */
async function ensureBuilt(): Promise<void> {
  log('building dist/ (scripts/build.ts)');
  await bundle();
}

async function main(): Promise<void> {
  const section = arg('--section') as Name | undefined;
  if (section) return runOneSection(section, arg('--out')!);

  await ensureBuilt();
  const only = arg('--only')?.split(',') as Name[] | undefined;
  const names = SECTION_NAMES.filter((n) => !only || only.includes(n));
  const name = arg('--name') ?? (quick ? 'quick' : 'full');
  const started = new Date();
  const t0 = performance.now();
  const sections: BenchResult['sections'] = {};
  for (const n of names) {
    log(`── ${n}`);
    sections[n] = await spawnSection(n);
    if (sections[n]!.error) log(`${n} FAILED: ${sections[n]!.error}`);
  }
  const dir = path.join(ROOT, 'bench/results');
  let mergedFrom = '';
  // --only with --name NAME re-runs those sections into an existing NAME.json, keeping the rest.
  const target = path.join(dir, `${only && !arg('--name') ? `${name}-partial` : name}.json`);
  if (only && arg('--name') && existsSync(target)) {
    const prev = JSON.parse(readFileSync(target, 'utf8')) as BenchResult;
    for (const [k, v] of Object.entries(prev.sections)) if (!(k in sections)) sections[k] = v;
    mergedFrom = `${prev.command} (${prev.startedAt.slice(0, 16)}), then `;
  }
  const result: BenchResult = {
    name,
    mode: quick ? 'quick' : 'full',
    command: `${mergedFrom}npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    machine: machineInfo(ROOT),
    sections,
    goals: [],
  };
  result.goals = evaluateGoals(result);
  mkdirSync(dir, { recursive: true });
  // A partial run (--only) without --name must not overwrite a complete one.
  const file = target;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(dir, 'README.md'), renderReadme(dir));
  log(`wrote ${path.relative(ROOT, file)} and bench/results/README.md in ${result.seconds}s`);
  for (const g of result.goals) log(`${g.met === null ? 'n/a ' : g.met ? 'MET ' : 'MISS'} ${g.goal}: ${g.value ?? '—'} (target ${g.target})`);
  const failed = Object.entries(sections).filter(([, s]) => s?.error);
  if (failed.length) {
    log(`failed sections: ${failed.map(([k]) => k).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
