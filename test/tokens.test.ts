/**
 * The token estimate is a hand-written scanner for speed; the rule it implements is the regex
 * `TOKEN_RULE`. Any difference would move chunk boundaries (and so chunk ids) silently, so the two
 * are compared on random text mixing every case the rule distinguishes, and on SciFact.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateTokens, TOKEN_RULE } from '../src/engine/ingest/tokens.js';
import { SHARED } from './helpers/cli.js';

/** The rule, counted by the regex itself. */
function byRegex(text: string): number {
  let total = 0;
  const re = new RegExp(TOKEN_RULE.source, TOKEN_RULE.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = m[0].length;
    if (n === 1) total += 1;
    else if (/^\p{N}/u.test(m[0])) total += Math.ceil(n / 3);
    else total += 1 + Math.floor((n - 1) / 6);
  }
  return total;
}

// ASCII, Latin with accents and combining marks, CJK ideographs (BMP and astral), kana, Hangul, the
// CJK marks that are "Common" (ー 々 。 、), numbers that are CJK (〇) or not ASCII (٣ Ⅻ), spaces
// of every kind (no-break, ideographic), emoji, symbols, and lone surrogates.
const PIECES = [
  'a', 'Z', 'q', 'é', 'ß', 'e\u0301', '\u0301', '7', '0', '42', '٣', 'Ⅻ', '〇', ' ', '\t', '\n', '\u00a0', '\u3000', '\u2009',
  '漢', '字', '𠀀', 'カ', 'ー', '々', 'の', '。', '、', '「', '한', '국', '😀', '-', '.', ',', '$', '_', '\ud800', '\udc00', 'Ω', 'ж', 'ا',
];

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('estimateTokens', () => {
  it('counts exactly as the regex rule on 5,000 random mixed-script strings', () => {
    const rnd = seeded(7);
    for (let t = 0; t < 5000; t++) {
      const len = Math.floor(rnd() * 40);
      let text = '';
      for (let i = 0; i < len; i++) text += PIECES[Math.floor(rnd() * PIECES.length)];
      expect(estimateTokens(text), JSON.stringify(text)).toBe(byRegex(text));
    }
  });

  it('counts exactly as the regex rule on SciFact abstracts', () => {
    const lines = gunzipSync(readFileSync(path.join(SHARED, 'datasets/scifact/corpus.jsonl.gz'))).toString('utf8').split('\n').filter(Boolean).slice(0, 1500);
    for (const l of lines) {
      const { title, text } = JSON.parse(l) as { title: string; text: string };
      expect(estimateTokens(`${title}\n\n${text}`)).toBe(byRegex(`${title}\n\n${text}`));
    }
  });
});
