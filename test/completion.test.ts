import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, rag, tempDir } from './helpers/cli.js';

/** Runs a shell snippet after loading `rag completion SHELL` into it, with `rag` on PATH. */
function inShell(shell: 'bash' | 'zsh' | 'fish', script: string, cwd?: string): string[] {
  const dir = tempDir('rag-compl-');
  const file = path.join(dir, `rag.${shell}`);
  const gen = rag(['completion', shell]);
  expect(gen.code).toBe(0);
  writeFileSync(file, gen.stdout);
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'rag'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const args = shell === 'zsh' ? ['-f', '-c', `source ${file}; setopt ksharrays; ${script}`] : ['-c', `source ${file}; ${script}`];
  const r = spawnSync(shell, args, { encoding: 'utf8', cwd: cwd ?? dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  if (r.error) throw new Error(`${shell} is needed for this test (.ci/run installs it): ${r.error.message}`);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

const bash = (line: string[], cwd?: string) =>
  inShell('bash', `COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _rag_complete; printf '%s\\n' "\${COMPREPLY[@]}"`, cwd);

describe('rag completion', () => {
  it('bash: commands, subcommands, per-command options, globals, choices and paths', () => {
    expect(bash(['rag', 'qu'])).toEqual(['query']);
    expect(bash(['rag', 'models', 'l'])).toEqual(['list']);
    expect(bash(['rag', 'query', '--mode', ''])).toEqual(['hybrid', 'bm25', 'vector']);
    expect(bash(['rag', 'ingest', '--format', 'b'])).toEqual(['beir']);
    const auditOpts = bash(['rag', 'audit', 'content', '--']);
    expect(auditOpts).toContain('--gate');
    expect(auditOpts).toContain('--suppressions');
    expect(auditOpts).toContain('--db'); // a global option, offered on every subcommand
    expect(auditOpts).not.toContain('--golden'); // eval's, not audit's
    const dir = tempDir('rag-compl-files-');
    mkdirSync(path.join(dir, 'goldens'));
    writeFileSync(path.join(dir, 'goldens', 'support.jsonl'), '');
    expect(bash(['rag', 'eval', '--golden', 'goldens/s'], dir)).toEqual(['goldens/support.jsonl']);
    expect(bash(['rag', 'query', '-k', ''], dir)).toEqual([]); // a number: no file names offered
  });

  it('zsh: the same function through bashcompinit', () => {
    const out = inShell('zsh', `COMP_WORDS=(rag query --mode ''); COMP_CWORD=3; _rag_complete; print -l -- "\${COMPREPLY[@]}"`);
    expect(out).toEqual(['hybrid', 'bm25', 'vector']);
    const subs = inShell('zsh', `COMP_WORDS=(rag label ''); COMP_CWORD=2; _rag_complete; print -l -- "\${COMPREPLY[@]}"`);
    expect(subs).toContain('stats');
  });

  it('fish: complete -C answers like the shell would', () => {
    const out = inShell('fish', `complete -C'rag qu'; complete -C'rag query --mode '; complete -C'rag audit l'`);
    const words = out.map((l) => l.split('\t')[0]);
    expect(words).toEqual(['query', 'bm25', 'hybrid', 'vector', 'lineage']);
  });

  it('refuses an unknown shell with exit 2', () => {
    const r = rag(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});
