import { describe, expect, it } from 'vitest';
import { commandIn } from '../src/cli.js';
import { rag } from './helpers/cli.js';

describe('the CLI loads only the command it runs', () => {
  it('finds the command after global options, skipping their values', () => {
    expect(commandIn(['node', 'rag', 'query', 'how', 'to'])).toBe('query');
    expect(commandIn(['node', 'rag', '--db', 'query', '--json', 'index', '--model', 'none'])).toBe('index');
    expect(commandIn(['node', 'rag', '--config', 'eval', '-q', 'diff-eval', 'a', 'b'])).toBe('diff-eval');
    expect(commandIn(['node', 'rag', '--json', 'label', 'stats'])).toBe('label');
    expect(commandIn(['node', 'rag', '--color', 'never', 'status'])).toBe('status');
  });

  it('loads every command for help, an unknown command or none', () => {
    expect(commandIn(['node', 'rag'])).toBeUndefined();
    expect(commandIn(['node', 'rag', '--help'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'help', 'query'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'qeury'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'toString'])).toBeUndefined();
    expect(commandIn(['node', 'rag', 'completion', 'bash'])).toBeUndefined(); // it describes them all
  });

  it('still lists every command in help and suggests one for a typo', () => {
    const help = rag(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['init', 'ingest', 'index', 'query', 'models', 'eval', 'diff-eval', 'runs', 'audit', 'label', 'status', 'serve', 'mcp', 'keys', 'completion']) expect(help.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const typo = rag(['qeury', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Did you mean query\?/);
  });
});
