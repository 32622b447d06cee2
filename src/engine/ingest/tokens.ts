/**
 * A fast, deterministic estimate of how many WordPiece tokens a BERT-style embedder (bge,
 * MiniLM, e5) will see, without loading a tokenizer: the chunker needs it for every block and
 * must work with no model installed.
 *
 * Counting rule (additive over whitespace, so the estimate of a span is the sum of its words):
 * - a run of letters of length n: 1 + floor((n - 1) / 6) tokens (short common words are one
 *   piece; long and rare words split into several);
 * - a run of digits: 1 token per 3 digits (vocabularies hold few long numbers);
 * - each CJK / kana / Hangul character, CJK punctuation included: 1 token (BERT tokenises these per
 *   character);
 * - every other non-space character (punctuation, symbols): 1 token.
 * Measured against bge-base's tokenizer: +8% on SciFact abstracts, within ±5% on English
 * Markdown and TypeScript source. Erring slightly high is the safe side for a model window.
 */
// The rule above as a scanner over UTF-16 code units: the regex below states it, and the scanner
// must count exactly as it would (a property test checks both on mixed scripts), at several times
// its speed — the estimate runs over every block, segment and word of every document ingested.
// Script_Extensions, not Script: the prolonged sound mark ー, the iteration mark 々 and CJK
// punctuation (。、「」) belong to "Common" but are written, and tokenised, one character at a time.
export const TOKEN_RULE = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]|[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu;

// Properties of a code point, as bits: a character can be both CJK and a letter (漢) or a number (〇).
const CJK = 1;
const LETTER = 2; // \p{L} or \p{M}
const DIGIT = 4; // \p{N}
const SPACE = 8; // \s
const CJK_RE = /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]$/u;
const LETTER_RE = /^[\p{L}\p{M}]$/u;
const DIGIT_RE = /^\p{N}$/u;
const SPACE_RE = /^\s$/u;

function propsOf(cp: number): number {
  const ch = String.fromCodePoint(cp);
  return (CJK_RE.test(ch) ? CJK : 0) | (LETTER_RE.test(ch) ? LETTER : 0) | (DIGIT_RE.test(ch) ? DIGIT : 0) | (SPACE_RE.test(ch) ? SPACE : 0);
}
const ASCII = Uint8Array.from({ length: 128 }, (_, c) => propsOf(c));
const wide = new Map<number, number>();

function props(cp: number): number {
  if (cp < 128) return ASCII[cp]!;
  let k = wide.get(cp);
  if (k === undefined) wide.set(cp, (k = propsOf(cp)));
  return k;
}

export function estimateTokens(text: string): number {
  let total = 0;
  const end = text.length;
  let i = 0;
  while (i < end) {
    const cp = text.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    const k = props(cp);
    // The regex's alternatives, in its order: one CJK character; a run of letters/marks; a run of digits; one other symbol.
    const run = k & CJK ? 0 : k & LETTER ? LETTER : k & DIGIT ? DIGIT : 0;
    if (run) {
      let j = i + size;
      while (j < end) {
        const c2 = text.codePointAt(j)!;
        if (!(props(c2) & run)) break;
        j += c2 > 0xffff ? 2 : 1;
      }
      const n = j - i;
      total += n === 1 ? 1 : run === DIGIT ? Math.ceil(n / 3) : 1 + Math.floor((n - 1) / 6);
      i = j;
      continue;
    }
    if (!(k & SPACE) || k & CJK) total += 1;
    i += size;
  }
  return total;
}
