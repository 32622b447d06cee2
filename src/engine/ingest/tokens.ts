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
// Script_Extensions, not Script: the prolonged sound mark ー, the iteration mark 々 and CJK
// punctuation (。、「」) belong to "Common" but are written, and tokenised, one character at a time.
const TOKEN_RE = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]|[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu;
const DIGIT_START = /^\p{N}/u;

export function estimateTokens(text: string): number {
  let total = 0;
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m; m = TOKEN_RE.exec(text)) {
    const n = m[0].length;
    if (n === 1) total += 1;
    else if (DIGIT_START.test(m[0])) total += Math.ceil(n / 3);
    else total += 1 + Math.floor((n - 1) / 6);
  }
  return total;
}
