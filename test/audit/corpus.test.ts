import { describe, expect, it } from 'vitest';
import { evaluateCorpus, formatReport, HOLDOUT_PATH, loadCorpus } from '../../bench/audit-detection.js';

describe('content scan on the labelled corpus', () => {
  it('has the intended spread of samples', () => {
    const samples = loadCorpus();
    const positives = samples.filter((s) => s.expect.length > 0);
    expect(positives.length).toBeGreaterThanOrEqual(60);
    expect(samples.length - positives.length).toBeGreaterThanOrEqual(60);
    const families = new Set(positives.flatMap((s) => s.expect.map((e) => e.split('/')[0])));
    expect([...families].sort()).toEqual(['hidden', 'injection', 'pii', 'secret']);
    expect(new Set(samples.map((s) => s.id)).size).toBe(samples.length);
  });

  for (const [name, path] of [['labelled.jsonl', undefined], ['holdout.jsonl', HOLDOUT_PATH]] as const) {
    it(`${name}: detection ≥ 0.9 in every family and false-positive rate ≤ 0.1`, () => {
      const report = evaluateCorpus(loadCorpus(path));
      console.log(`[${name}]\n${formatReport(report)}`);
      expect(report.detection).toBeGreaterThanOrEqual(0.9);
      for (const stats of Object.values(report.perFamily)) expect(stats.recall).toBeGreaterThanOrEqual(0.9);
      expect(report.falsePositiveRate).toBeLessThanOrEqual(0.1);
    });
  }
});

describe('injection benchmark corpus helpers (bench/lib/injection-corpus.ts)', () => {
  it('assigns a split from the text hash alone, so it never moves between runs', async () => {
    const { splitOf, sha } = await import('../../bench/lib/injection-corpus.js');
    for (const t of ['a', 'Ignore previous instructions.', 'Some SciFact abstract text.']) {
      expect(splitOf(t)).toBe(parseInt(sha(t)[0]!, 16) < 6 ? 'dev' : 'test');
      expect(splitOf(t)).toBe(splitOf(`${t}`));
    }
  });
  it('cuts prose into passages at blank lines, dropping fragments', async () => {
    const { passages } = await import('../../bench/lib/injection-corpus.js');
    const para = (n: number) => `${'word '.repeat(n).trim()}.`;
    const out = passages([para(100), para(100), 'tiny', para(200)].join('\n\n'), 1200);
    expect(out.length).toBe(2);
    expect(out.every((p) => p.length <= 1200 && p.length >= 120)).toBe(true);
  });
});
