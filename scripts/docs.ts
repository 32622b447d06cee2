/**
 * Executed documentation: every ```console block of README.md and goldens/README.md runs against
 * the bundled fixtures, so a shown command or output cannot go stale unnoticed.
 *
 *   npx tsx scripts/docs.ts            verify (exit 1 on any difference)   = npm run docs:check
 *   npx tsx scripts/docs.ts --update   rewrite the shown outputs from what the tool prints now
 *
 * A block runs in a sandbox: a temp folder holding copies of fixtures/, goldens/ and bench/ laid
 * out like the repo, with `rag` on PATH (the built CLI) and the repo's models. The blocks of one
 * file share the sandbox and run in order, like a reader following the page.
 *
 * Block syntax:
 *   $ command            run by bash in the sandbox (stdout and stderr together, as a terminal shows)
 *   output lines         compared after masking timings, dates and temp paths; a line `…` stands
 *                        for any number of lines, `…` inside a line for any text on that line
 *   (exit N)             last output line: the command must exit N (default 0)
 * A command with no output lines must just succeed. `<!-- illustrative -->` on the line before
 * the fence marks a block that cannot run as is (a service, a dataset not bundled); it is listed,
 * not run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const DOC_FILES = ['README.md', 'goldens/README.md'];

export interface Step {
  command: string;
  expected: string[];
  exit: number;
  /** 0-based line index in the markdown file of the `$` line. */
  line: number;
}

export interface Block {
  file: string;
  /** 0-based line of the opening fence. */
  start: number;
  end: number;
  illustrative: boolean;
  steps: Step[];
}

export function parseBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```console') continue;
    const start = i;
    const illustrative = /<!--\s*illustrative\b/.test(lines[i - 1] ?? '') || /<!--\s*illustrative\b/.test(lines[i - 2] ?? '');
    const steps: Step[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) {
      const l = lines[i]!;
      if (l.startsWith('$ ')) steps.push({ command: l.slice(2), expected: [], exit: 0, line: i });
      else if (steps.length) steps[steps.length - 1]!.expected.push(l);
      else throw new Error(`${file}:${i + 1}: a console block must start with a "$ " command line`);
    }
    for (const s of steps) {
      const last = s.expected[s.expected.length - 1];
      const m = last !== undefined ? /^\(exit (\d+)\)$/.exec(last.trim()) : null;
      if (m) {
        s.exit = Number(m[1]);
        s.expected.pop();
      }
    }
    blocks.push({ file, start, end: i, illustrative, steps });
  }
  return blocks;
}

/** What varies between runs and machines, replaced the same way on both sides. */
export function mask(text: string, sandbox?: string): string {
  let t = text.replace(/\x1b\[[0-9;]*m/g, '');
  if (sandbox) t = t.split(sandbox).join('<sandbox>');
  return t
    .replace(/\/tmp\/[\w./-]+/g, '<tmp>')
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b/g, '<time>')
    .replace(/\b\d{8}-\d{6}\b/g, '<stamp>')
    .replace(/\b\d+(\.\d+)?\s?(ms|s)\b/g, '<t>')
    .replace(/\(\d+(\.\d+)?s\)/g, '(<t>)')
    .replace(/\b\d+(\.\d+)? (chunks|passages|docs|queries)\/s\b/g, '<rate>')
    .replace(/[ \t]+$/gm, '');
}

/** Does the actual output match the shown one (with `…` elisions)? */
export function matches(expected: string[], actual: string): boolean {
  const exp = expected.map((l) => mask(l)).join('\n').replace(/\n+$/, '');
  const act = actual.replace(/\n+$/, '');
  if (!exp.includes('…')) return exp === act;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = exp
    .split('\n')
    .map((l) => (l.trim() === '…' ? '(?:[^\\n]*(?:\\n|$))*?' : `${l.split('…').map(esc).join('[^\\n]*')}(?:\\n|$)`))
    .join('');
  return new RegExp(`^${pattern}$`).test(`${act}\n`) || new RegExp(`^${pattern}$`).test(act);
}

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
}

export function makeSandbox(): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rag-docs-'));
  for (const d of ['fixtures', 'goldens', 'bench']) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true, filter: (src) => !src.includes(`${path.sep}.cache`) && !src.includes(`${path.sep}results`) });
  const bin = path.join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'rag'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin/rag')}" "$@"\n`, { mode: 0o755 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    RAG_MODELS_DIR: process.env.RAG_MODELS_DIR ?? path.join(ROOT, '.models'),
    LANCEDB_LOG: 'error',
    NO_COLOR: '1',
    COLUMNS: '120',
    USER: 'docs',
    HOME: dir,
  };
  delete env.RAG_DB;
  return { dir, env };
}

export interface StepResult {
  step: Step;
  ok: boolean;
  exit: number;
  output: string;
}

export function runStep(sb: Sandbox, step: Step): StepResult {
  // `export NAME=value` lines set the environment for the following commands, as in a shell.
  const exp = /^export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(step.command.replace(/\s+#.*$/, ''));
  if (exp) {
    sb.env[exp[1]!] = spawnSync('bash', ['-c', `printf %s ${exp[2]}`], { cwd: sb.dir, env: sb.env, encoding: 'utf8' }).stdout;
    return { step, ok: true, exit: 0, output: '' };
  }
  // `exec 2>&1` first: a trailing `# comment` on the command must not swallow the redirection.
  const r = spawnSync('bash', ['-c', `exec 2>&1\n${step.command}`], { cwd: sb.dir, env: sb.env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  const exit = r.status ?? -1;
  const output = mask(r.stdout ?? '', sb.dir);
  const ok = exit === step.exit && (step.expected.length === 0 || matches(step.expected, output));
  return { step, ok, exit, output };
}

export interface FileReport {
  file: string;
  results: StepResult[];
  illustrative: Block[];
}

export function runFile(file: string): FileReport {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const blocks = parseBlocks(file, text);
  const sb = makeSandbox();
  const results: StepResult[] = [];
  try {
    for (const b of blocks) {
      if (b.illustrative) continue;
      for (const s of b.steps) results.push(runStep(sb, s));
    }
  } finally {
    rmSync(sb.dir, { recursive: true, force: true });
  }
  return { file, results, illustrative: blocks.filter((b) => b.illustrative) };
}

/** Rewrites the shown outputs of failing steps with what the tool printed (keeping a trailing `…`). */
export function updateFile(report: FileReport): number {
  const abs = path.join(ROOT, report.file);
  const lines = readFileSync(abs, 'utf8').split('\n');
  let changed = 0;
  for (const r of [...report.results].reverse()) {
    if (r.ok) continue;
    const s = r.step;
    const shownCount = s.expected.length + (s.exit !== 0 ? 1 : 0);
    let out = r.output.replace(/\n+$/, '').split('\n');
    if (out.length === 1 && out[0] === '') out = [];
    const elided = s.expected[s.expected.length - 1]?.trim() === '…';
    if (elided && out.length > s.expected.length - 1) out = [...out.slice(0, Math.max(1, s.expected.length - 1)), '…'];
    if (r.exit !== 0) out.push(`(exit ${r.exit})`);
    lines.splice(s.line + 1, shownCount, ...out);
    changed++;
  }
  writeFileSync(abs, lines.join('\n'));
  return changed;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const update = process.argv.includes('--update');
  let failed = 0;
  for (const file of DOC_FILES) {
    const report = runFile(file);
    for (const r of report.results) {
      if (r.ok) continue;
      failed++;
      console.log(`${file}:${r.step.line + 1}: $ ${r.step.command}\n  exit ${r.exit} (want ${r.step.exit})\n${r.output.split('\n').map((l) => `  | ${l}`).join('\n')}`);
    }
    console.log(`${file}: ${report.results.length} commands run, ${report.results.filter((r) => !r.ok).length} differ, ${report.illustrative.length} illustrative blocks`);
    if (update) console.log(`${file}: ${updateFile(report)} outputs rewritten`);
  }
  process.exitCode = failed && !update ? 1 : 0;
}
