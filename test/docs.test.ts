import { describe, expect, it } from 'vitest';
import { DOC_FILES, mask, matches, parseBlocks, runFile } from '../scripts/docs.js';

describe('executed documentation (npm run docs:check)', () => {
  it('parses steps, outputs, expected exit codes and illustrative blocks', () => {
    const md = ['text', '```console', '$ rag a', 'out 1', '$ rag b', '(exit 2)', '```', '<!-- illustrative -->', '```console', '$ rag serve', '```'].join('\n');
    const [a, b] = parseBlocks('x.md', md);
    expect(a!.steps.map((s) => [s.command, s.expected, s.exit])).toEqual([['rag a', ['out 1'], 0], ['rag b', [], 2]]);
    expect(a!.illustrative).toBe(false);
    expect(b!.illustrative).toBe(true);
  });

  it('masks timings and paths on both sides, and reads … as an elision', () => {
    expect(mask('done (0.6s) · 24 ms · /tmp/rag-docs-x/store')).toBe('done (<t>) · <t> · <tmp>');
    expect(matches(['ingested: 3 added (0.6s)'], mask('ingested: 3 added (1.2s)'))).toBe(true);
    expect(matches(['ingested: 3 added (0.6s)'], mask('ingested: 4 added (1.2s)'))).toBe(false);
    expect(matches(['a', '…', 'z'], 'a\nb\nc\nz')).toBe(true);
    expect(matches(['a', '…'], 'a\nb\nc')).toBe(true);
    expect(matches(['score 0.03… title'], 'score 0.0325 title')).toBe(true);
    expect(matches(['a', '…', 'z'], 'a\nb\nc\ny')).toBe(false);
  });

  for (const file of DOC_FILES) {
    it(`every console block of ${file} runs and prints what it shows`, () => {
      const report = runFile(file);
      const failures = report.results
        .filter((r) => !r.ok)
        .map((r) => `${file}:${r.step.line + 1}: $ ${r.step.command} → exit ${r.exit} (want ${r.step.exit})\n${r.output}`);
      expect(failures).toEqual([]);
      expect(report.results.length + report.illustrative.length).toBeGreaterThan(0);
    }, 900_000);
  }
});
