/**
 * Hidden-content detectors: text a human reader does not see but a model does — zero-width
 * characters splitting words, Unicode tag characters, HTML comments, CSS-hidden elements, and
 * base64 blobs that decode to instructions. Hidden text is scored by what it says (the injection
 * scorer), so a hidden navigation menu stays low while a hidden instruction is high.
 */
import type { RawMatch } from './raw-match.js';
import { decodeTags } from './redact.js';
import { instructionLike, maxInjectionScore, modelDirectedOrder } from './injection.js';

const LATIN = /[A-Za-z0-9\u00C0-\u024F]/;

export interface StrippedText {
  text: string;
  /** map[i] = index in the original text of stripped character i; map[text.length] = original length. */
  map: number[];
}

/** The characters stripInvisible removes (tag characters are the surrogate pairs DB40 DC00–DC7F). */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]|\uDB40[\uDC00-\uDC7F]/;

/** Remove zero-width, soft-hyphen and tag characters, keeping a map back to original offsets. */
export function stripInvisible(original: string): StrippedText {
  // Almost every passage has none: the same text back, without building it char by char.
  if (!INVISIBLE.test(original)) return { text: original, map: Array.from({ length: original.length + 1 }, (_, i) => i) };
  const chars: string[] = [];
  const map: number[] = [];
  for (let i = 0; i < original.length; ) {
    const cp = original.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const invisible = (cp >= 0x200b && cp <= 0x200d) || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad || (cp >= 0xe0000 && cp <= 0xe007f);
    if (!invisible) {
      for (let k = 0; k < width; k++) {
        chars.push(original[i + k]);
        map.push(i + k);
      }
    }
    i += width;
  }
  map.push(original.length);
  return { text: chars.join(''), map };
}

// Cyrillic and Greek letters drawn like Latin ones, and fullwidth forms, mapped one to one onto
// the Latin letter, so "іgnоrе" (Cyrillic і, о, е) still reads "ignore" to the injection rules.
const CYRILLIC_LOOKALIKE = 'аaвbеeёeіiїiјjкkоoрpсcѕsуyхxһhԁdԛqԝwӏlАAВBЕEКKМMНHОOРPСCТTХXУYІIЈJЅSԚQԜW';
const GREEK_LOOKALIKE = 'οoΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXνvιiρpυuχxκkαa';
const LATIN_VARIANT = 'ıiɡgɑaʟLǃ!';
const LOOKALIKE = new Map<string, string>();
for (const table of [CYRILLIC_LOOKALIKE, GREEK_LOOKALIKE, LATIN_VARIANT]) for (let i = 0; i < table.length; i += 2) LOOKALIKE.set(table[i]!, table[i + 1]!);
/** Letters that only a spoofed word mixes with Latin ones (lower-case Greek is common in science: NF-κB, TNF-α). */
const SPOOF_LETTER = new RegExp(`[${CYRILLIC_LOOKALIKE.replace(/(.)./g, '$1')}οΑΒΕΖΗΙΚΜΝΟΡΤΥΧ]`);

const LOOKALIKE_CHAR = new RegExp(`[\\uFF01-\\uFF5E${[...LOOKALIKE.keys()].join('')}]`);

/** The text with look-alike letters replaced by the Latin letter they imitate (same length). */
export function skeleton(text: string): string {
  if (!LOOKALIKE_CHAR.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = ch.charCodeAt(0);
    if (code >= 0xff01 && code <= 0xff5e) out += String.fromCharCode(code - 0xfee0);
    else out += LOOKALIKE.get(ch) ?? ch;
  }
  return out;
}

function detectHomoglyphs(text: string, injectionSpans: Array<[number, number]>): RawMatch[] {
  const out: RawMatch[] = [];
  if (!SPOOF_LETTER.test(text)) return out;
  for (const m of text.matchAll(/[\p{L}\p{M}]+/gu)) {
    const word = m[0];
    if (!/[A-Za-z]/.test(word) || !SPOOF_LETTER.test(word)) continue;
    const start = m.index!;
    const end = start + word.length;
    const last = out[out.length - 1];
    if (last && start - last.end < 60) {
      last.end = end;
      continue;
    }
    out.push({ ruleId: 'homoglyph', start, end, score: 0.55 });
  }
  for (const m of out) {
    if (injectionSpans.some(([s, e]) => s < m.end && e > m.start)) {
      m.score = 0.9;
      m.severity = 'high';
    }
  }
  return out;
}

const ROT13_COMMON = new Set(
  'the and to of a in is you your that it for this with be are on not or as all any what was were print say just ignore previous following instructions above text following instead now from have'.split(' '),
);
const rot13 = (s: string) => s.replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= 'Z' ? 65 : 97)));
const commonShare = (s: string) => {
  const words = s.toLowerCase().match(/[a-z]+/g) ?? [];
  return words.length ? words.filter((w) => ROT13_COMMON.has(w)).length / words.length : 0;
};

// English letter frequencies (per cent), for telling rotated English from English.
const EN_FREQ: Record<string, number> = { a: 8.2, b: 1.5, c: 2.8, d: 4.3, e: 12.7, f: 2.2, g: 2.0, h: 6.1, i: 7.0, j: 0.15, k: 0.8, l: 4.0, m: 2.4, n: 6.7, o: 7.5, p: 1.9, q: 0.1, r: 6.0, s: 6.3, t: 9.1, u: 2.8, v: 1.0, w: 2.4, x: 0.15, y: 2.0, z: 0.07 };
/** Mean log-probability of the letters under English frequencies (higher: more English-like). */
function letterFit(s: string): number {
  const letters = s.toLowerCase().match(/[a-z]/g) ?? [];
  if (letters.length < 20) return -Infinity;
  return letters.reduce((sum, c) => sum + Math.log(EN_FREQ[c]! / 100), 0) / letters.length;
}

/** Lines of ROT13: gibberish to a reader, plain English once rotated, and an order when read. */
function detectRot13(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  // Per sentence as well as per line: "What does this mean? <rot13>" mixes plain and rotated text.
  for (const m of text.matchAll(/[^\n?!]+[?!]?/g)) {
    const line = m[0];
    if ((line.match(/[A-Za-z]+/g)?.length ?? 0) < 3) continue;
    // Cheap tests on the line as it stands first: most lines are plain English already.
    const share = commonShare(line);
    if (share > 0.08) continue;
    const decoded = rot13(line);
    const words = commonShare(decoded) >= 0.2;
    // Short lines may have no common word: then the letters must read as English once rotated.
    if (!words && !(letterFit(decoded) - letterFit(line) >= 0.5 && letterFit(decoded) >= -3.1)) continue;
    const inj = maxInjectionScore(decoded, { dampen: false });
    if (inj < 0.5 && !instructionLike(decoded)) continue;
    out.push({
      ruleId: 'rot13-instruction',
      start: m.index!,
      end: m.index! + line.length,
      score: inj >= 0.5 ? Math.max(0.75, inj) : 0.6,
      severity: inj >= 0.85 ? 'critical' : inj >= 0.5 ? 'high' : 'medium',
      display: `rot13→"${decoded.length > 80 ? decoded.slice(0, 79) + '…' : decoded}"`,
    });
  }
  return out;
}

function detectZeroWidth(text: string, injectionSpans: Array<[number, number]>): RawMatch[] {
  const hits: number[] = [];
  const edges: number[] = [];
  for (const run of text.matchAll(/[\u200B-\u200D\u2060\uFEFF]+/g)) {
    const i = run.index!;
    const j = i + run[0].length - 1;
    // Between letters of one word: joiners between emoji or in Persian/Indic scripts are legitimate.
    const before = LATIN.test(text[i - 1] ?? '');
    const after = LATIN.test(text[j + 1] ?? '');
    if (before && after) hits.push(i);
    // At a word's edge it is only a finding when it sits inside an instruction (it splits tokens).
    else if ((before || after) && injectionSpans.some(([s, e]) => s <= i && i < e)) edges.push(i);
  }
  const out: RawMatch[] = [];
  for (const pos of [...hits, ...edges].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && pos - last.end < 60) {
      last.end = pos + 1;
      continue;
    }
    out.push({ ruleId: 'zero-width', start: pos, end: pos + 1, score: 0.6 });
  }
  for (const m of out) {
    // Widen to whole words for a readable excerpt.
    while (m.start > 0 && /[\w\u200B-\u200D\u2060\uFEFF]/.test(text[m.start - 1])) m.start--;
    while (m.end < text.length && /[\w\u200B-\u200D\u2060\uFEFF]/.test(text[m.end])) m.end++;
    const hidesInstruction = injectionSpans.some(([s, e]) => s < m.end && e > m.start);
    if (hidesInstruction) {
      m.score = 0.9;
      m.severity = 'high';
    }
  }
  return out;
}

function detectTags(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const m of text.matchAll(/[\u{E0000}-\u{E007F}]+/gu)) {
    const start = m.index!;
    const run = m[0];
    // Subdivision flags (🏴 + tag letters + cancel tag) are the one legitimate use.
    const isFlag = text.codePointAt(start - 2) === 0x1f3f4 && run.endsWith('\u{E007F}') && [...run].length <= 8;
    if (isFlag) continue;
    const decoded = decodeTags(run);
    if (decoded.replace(/\s/g, '').length < 2) continue;
    const inj = maxInjectionScore(decoded, { dampen: false });
    out.push({
      ruleId: 'unicode-tags',
      start,
      end: start + run.length,
      score: inj >= 0.5 ? 0.95 : 0.8,
      severity: inj >= 0.5 ? 'critical' : 'high',
      display: `⟦tags:"${decoded}"⟧`,
    });
  }
  return out;
}

function hiddenScore(inner: string): { score: number; severity: RawMatch['severity'] } | undefined {
  const visible = inner.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (!visible) return undefined;
  const inj = maxInjectionScore(visible);
  if (inj >= 0.5) return { score: Math.min(1, Math.max(0.75, inj + 0.1)), severity: inj + 0.1 >= 0.85 ? 'critical' : 'high' };
  // Hiding it is itself a signal: a hidden order addressed to a model needs no override phrase.
  if (modelDirectedOrder(visible)) return { score: 0.7, severity: 'high' };
  return { score: 0.35, severity: 'low' };
}

function detectHtmlComments(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const m of text.matchAll(/<!--([\s\S]{0,20000}?)-->/g)) {
    const verdict = hiddenScore(m[1]);
    // An ordinary comment (TODO, lint pragma) is not a finding at all.
    if (!verdict || verdict.severity === 'low') continue;
    out.push({ ruleId: 'html-comment', start: m.index!, end: m.index! + m[0].length, ...verdict });
  }
  return out;
}

const HIDING_STYLE =
  /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|(?:^|;)\s*color\s*:\s*(?:white|#fff(?:fff)?|rgb\(\s*255\s*,\s*255\s*,\s*255\s*\))\s*(?:;|$|!)/i;
const DARK_BACKGROUND = /background(?:-color)?\s*:\s*(?!white|#fff(?:fff)?\b|rgb\(\s*255)[^;]+/i;

function isHiddenElement(attrs: string): boolean {
  if (/\shidden(?:\s|=|$)/i.test(` ${attrs}`)) return true;
  if (/\bcolor\s*=\s*["']?(?:white|#fff(?:fff)?)\b/i.test(attrs)) return true;
  const style = /\bstyle\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs);
  if (!style) return false;
  const css = style[1] ?? style[2] ?? '';
  if (!HIDING_STYLE.test(css)) return false;
  // White text is only invisible on a white (or unspecified, i.e. default white) background.
  const onlyWhite = !/display|visibility|font-size|opacity/i.test(css.replace(/background[^;]*/gi, ''));
  return !(onlyWhite && DARK_BACKGROUND.test(css));
}

function detectHiddenCss(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const m of text.matchAll(/<(span|div|p|font|a|td|section|small|label|li|ul|article|aside)\b([^>]*)>([\s\S]{0,4000}?)<\/\1\s*>/gi)) {
    if (!isHiddenElement(m[2])) continue;
    const verdict = hiddenScore(m[3]);
    if (!verdict) continue;
    out.push({ ruleId: 'hidden-css', start: m.index!, end: m.index! + m[0].length, ...verdict });
  }
  return out;
}

function decodeBase64Text(blob: string): string | undefined {
  const normalized = blob.replace(/-/g, '+').replace(/_/g, '/');
  let decoded: string;
  try {
    decoded = Buffer.from(normalized, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  if (decoded.length < 12) return undefined;
  const printable = decoded.match(/[\x20-\x7E\n\r\t\u00A0-\u024F]/g)?.length ?? 0;
  if (printable / decoded.length < 0.95) return undefined;
  // Prose, not a serialized id (or code that reaches for the prompt: "console.log(systemPrompt)").
  if ((decoded.match(/ /g)?.length ?? 0) < 2 && !/system\s*prompt|instructions/i.test(decoded)) return undefined;
  return decoded;
}

function detectBase64(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const m of text.matchAll(/(?<![A-Za-z0-9+/=_.-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g)) {
    const decoded = decodeBase64Text(m[0]);
    if (!decoded) continue;
    const inj = maxInjectionScore(decoded, { dampen: false });
    // Prose hidden in base64 that gives an order is worth a look even without an override phrase.
    if (inj < 0.5 && !instructionLike(decoded)) continue;
    out.push({
      ruleId: 'base64-instruction',
      start: m.index!,
      end: m.index! + m[0].length,
      score: inj >= 0.5 ? Math.min(1, Math.max(0.75, inj)) : 0.6,
      severity: inj >= 0.85 ? 'critical' : inj >= 0.5 ? 'high' : 'medium',
      display: `base64→"${decoded.length > 80 ? decoded.slice(0, 79) + '…' : decoded}"`,
    });
  }
  return out;
}

/** All hidden-content matches; `injectionSpans` are injection findings already located in `text`. */
export function detectHidden(text: string, injectionSpans: Array<[number, number]>): RawMatch[] {
  return [
    ...detectZeroWidth(text, injectionSpans),
    ...detectTags(text),
    ...detectHtmlComments(text),
    ...detectHiddenCss(text),
    ...detectBase64(text),
    ...detectRot13(text),
    ...detectHomoglyphs(text, injectionSpans),
  ];
}
