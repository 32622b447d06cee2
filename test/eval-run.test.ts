import { describe, expect, it } from 'vitest';
import { strictlyDecreasing } from '../src/engine/evaluation/eval.js';
import { rankTopic } from '../src/engine/evaluation/metrics.js';
import { formatRun, parseTrecRun } from '../src/engine/evaluation/trec.js';

describe('run.trec scores', () => {
  it('keep scores that already decrease, and lower ties and rises just below the previous one', () => {
    const out = strictlyDecreasing([0.0325, 0.0325, 0.0325, 0.031, 0.05, 0.01, -2, -2]);
    for (let i = 1; i < out.length; i++) expect(out[i]).toBeLessThan(out[i - 1]!);
    expect(out[0]).toBe(0.0325);
    expect(out[3]).toBe(0.031);
    expect(out[4]).toBeCloseTo(0.031, 8); // a deeper pass's higher score stays below its predecessor
    expect(out[5]).toBe(0.01);
    expect(out[6]).toBe(-2);
    expect(out[7]).toBeCloseTo(-2, 8);
  });

  it('survive formatting: the file reads back in rank order, as trec_eval sorts it', () => {
    // RRF-style exact ties, reciprocal ranks of two lists: the case trec_eval used to reorder by docno.
    const raw = [1 / 61 + 1 / 62, 1 / 63, 1 / 63, 1 / 64, 1 / 64, 1 / 64, 1 / 70];
    const docs = ['d7', 'd1', 'd9', 'd2', 'd8', 'd3', 'd5'];
    const scores = strictlyDecreasing(raw);
    const run = new Map([['q1', docs.map((docId, i) => ({ docId, score: scores[i]! }))]]);
    const back = parseTrecRun(formatRun(run, 'rag-hybrid')).get('q1')!;
    expect(back.map((e) => e.docId)).toEqual(docs);
    for (let i = 1; i < back.length; i++) expect(back[i]!.score).toBeLessThan(back[i - 1]!.score);
    expect(rankTopic(back).map((e) => e.docId)).toEqual(docs);
  });
});
