import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/errors.js';
import { scanText } from '../../src/engine/audit/content-scan.js';
import { applySuppressions, loadSuppressions, parseSuppressions } from '../../src/engine/audit/suppressions.js';

const text = 'Contact maria.lopez@northwind-logistics.com; key AKIAIOSFODNN7EXAMPLE; gw 81.2.69.142';
const findings = scanText(text);
const byRule = (id: string) => findings.find((f) => f.rule_id === id)!;

function expectInputError(fn: () => unknown, line: number | undefined, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toBe(line);
    expect((err as InputError).message).toMatch(message);
    expect((err as InputError).exitCode).toBe(2);
    return;
  }
  throw new Error('expected an InputError');
}

describe('parseSuppressions', () => {
  it('reads YAML with reasons and reviewers, recording the line of each entry', () => {
    const yaml = [
      '# reviewed 2024-06',
      'suppressions:',
      `  - hash: ${byRule('email').hash}`,
      '    rule: email',
      '    reason: vendor contact published on their site',
      '    reviewer: alice',
      `  - hash: ${byRule('aws-access-key').hash.slice(0, 16).toUpperCase()}`,
      '    reason: AWS documentation example key',
      '    expires: 2030-01-31',
    ].join('\n');
    const s = parseSuppressions(yaml, 'audit-suppressions.yaml');
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ rule: 'email', reviewer: 'alice', source: { file: 'audit-suppressions.yaml', line: 3 } });
    expect(s[1]).toMatchObject({ hash: byRule('aws-access-key').hash.slice(0, 16), expires: '2030-01-31', source: { line: 7 } });
  });

  it('reads JSON and a bare list', () => {
    const json = JSON.stringify({ suppressions: [{ hash: byRule('email').hash, reason: 'ok' }] }, null, 2);
    expect(parseSuppressions(json, 's.json')).toHaveLength(1);
    expect(parseSuppressions(`- hash: ${byRule('email').hash}\n`, 's.yaml')).toHaveLength(1);
    expect(parseSuppressions('', 'empty.yaml')).toEqual([]);
  });

  it('names file and line for bad content', () => {
    expectInputError(() => parseSuppressions('suppressions:\n  - hash: abc\n', 'f.yaml'), 2, /^f\.yaml:2: .*not 12–64 hex/);
    expectInputError(() => parseSuppressions(`suppressions:\n  - hash: ${'a'.repeat(64)}\n    colour: red\n`, 'f.yaml'), 3, /unknown key "colour"/);
    expectInputError(() => parseSuppressions(`suppressions:\n  - hash: ${'a'.repeat(64)}\n    rule: emial\n`, 'f.yaml'), 2, /unknown rule "emial"/);
    expectInputError(() => parseSuppressions(`suppressions:\n  - hash: ${'a'.repeat(64)}\n    expires: next week\n`, 'f.yaml'), 2, /expires/);
    expectInputError(() => parseSuppressions(`suppressions:\n  - hash: ${'a'.repeat(64)}\n  - hash: ${'a'.repeat(64)}\n`, 'f.yaml'), 3, /duplicate .*first at line 2/);
    expectInputError(() => parseSuppressions('suppressions: [\n  {hash: 1\n', 'f.json'), 3, /not valid YAML\/JSON/);
    expectInputError(() => parseSuppressions('ignore:\n  - x\n', 'f.yaml'), 1, /unknown top-level key "ignore"/);
  });

  it('loadSuppressions reads a file and reports a missing one as an input error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-supp-'));
    const path = join(dir, 'suppressions.yaml');
    writeFileSync(path, `suppressions:\n  - hash: ${byRule('email').hash}\n`);
    expect(loadSuppressions(path)[0].source).toEqual({ file: path, line: 2 });
    expectInputError(() => loadSuppressions(join(dir, 'missing.yaml')), undefined, /cannot read suppressions file/);
  });
});

describe('applySuppressions', () => {
  it('splits findings into kept and suppressed by hash (or prefix) and reports unused entries', () => {
    const supp = parseSuppressions(
      [
        'suppressions:',
        `  - hash: ${byRule('email').hash}`,
        `  - hash: ${byRule('aws-access-key').hash.slice(0, 12)}`,
        `  - hash: ${'f'.repeat(64)}`,
      ].join('\n'),
      's.yaml',
    );
    const r = applySuppressions(findings, supp);
    expect(r.kept.map((f) => f.rule_id)).toEqual(['ipv4']);
    expect(r.suppressed.map((x) => x.finding.rule_id).sort()).toEqual(['aws-access-key', 'email']);
    expect(r.unused.map((s) => s.hash)).toEqual(['f'.repeat(64)]);
  });

  it('ignores an entry whose rule does not match, and expired entries', () => {
    const supp = parseSuppressions(
      [
        'suppressions:',
        `  - hash: ${byRule('email').hash}`,
        '    rule: phone',
        `  - hash: ${byRule('ipv4').hash}`,
        '    expires: 2024-01-31',
      ].join('\n'),
      's.yaml',
    );
    const before = applySuppressions(findings, supp, { now: new Date('2024-01-31T23:00:00Z') });
    expect(before.suppressed.map((x) => x.finding.rule_id)).toEqual(['ipv4']);
    const after = applySuppressions(findings, supp, { now: new Date('2024-02-01T00:00:00Z') });
    expect(after.suppressed).toEqual([]);
    expect(after.kept).toHaveLength(findings.length);
  });
});
