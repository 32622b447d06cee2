import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/engine/models/tokenizer.js';
import { UnigramSegmenter } from '../../src/engine/models/unigram.js';
import { MODELS_DIR, requireModel, STATIC_MODEL } from '../helpers/cli.js';

describe('fast Unigram segmentation', () => {
  it('finds the best-scoring segmentation, with an unknown node where no single character matches', () => {
    const seg = new UnigramSegmenter(
      [['<unk>', 0], ['a', -1], ['b', -1], ['ab', -1.5], ['abc', -4], ['c', -2]],
      0,
    );
    expect(seg.encode('ab')).toEqual([3]); // -1.5 beats a+b = -2
    expect(seg.encode('abc')).toEqual([3, 5]); // ab+c = -3.5 beats abc = -4
    expect(seg.encode('axb')).toEqual([1, 0, 2]); // x is unknown
    expect(seg.encode('xy')).toEqual([0]); // consecutive unknowns fuse
    expect(seg.encode('')).toEqual([]);
  });

  it('matches the Hugging Face `tokenizers` library (Rust) on the Model2Vec tokenizer', async () => {
    requireModel(STATIC_MODEL);
    const tok = await loadTokenizer(path.join(MODELS_DIR, STATIC_MODEL));
    // Expected ids computed once with Python `tokenizers` 0.23.3:
    //   Tokenizer.from_file('<model>/tokenizer.json').encode(text, add_special_tokens=False).ids
    // transformers.js's own Unigram gives different ids on the first three (ties and unknowns).
    const cases: [string, number[]][] = [
      ['The sacroiliac joint in the pelvis', [999, 16268, 2219, 17624, 5307, 3103, 1002, 999, 20879, 27532]],
      ['in about ∼10% of licensed drivers', [1002, 1058, 1, 9792, 6, 1000, 6002, 5855]],
      ['Claustrophobic anxiety subscale', [18120, 12183, 19202, 9091, 3944, 10022, 8455]],
      ['Staphylococcus aureus phils support lung colonization', [1360, 8333, 28600, 23165, 26633, 7742, 22448, 5889, 11148, 1492, 10194, 17964]],
      ['naïve T cells — 😀 emoji', [14745, 59, 3444, 520, 1, 44, 4304, 3480]],
    ];
    for (const [text, ids] of cases) expect(tok.idsWithoutSpecials(text), text).toEqual(ids);
  });
});
