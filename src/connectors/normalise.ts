import type { Block } from '../engine/types.js';
import { InputError } from '../engine/errors.js';

/**
 * The one normal form every connector emits, so offsets and content hashes do not depend on
 * the editor that saved the file: NFC, \n line ends, no trailing spaces, at most two blank
 * lines in a row, no leading/trailing blank space.
 */
export function normaliseText(s: string): string {
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+$/gm, '')
    .replace(/\n{4,}/g, '\n\n\n')
    .trim();
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** 1-based line of `index` in `text`. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Decodes a file's bytes as UTF-8 and refuses anything else, because silently decoding
 * Latin-1 or binary data would index mojibake that no query can ever match.
 */
export function decodeUtf8Strict(buf: Uint8Array, file: string): string {
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    throw new InputError(file, undefined, 'is UTF-16 encoded, not UTF-8', 'Re-save the file as UTF-8.');
  }
  const nul = buf.indexOf(0);
  if (nul !== -1) {
    throw new InputError(
      file,
      lineAt(lenientDecoder.decode(buf.subarray(0, nul)), Number.MAX_SAFE_INTEGER),
      `looks like a binary file: it contains a NUL byte at byte offset ${nul}`,
      'Remove it from the sources or exclude it with an ignore pattern; only text files can be indexed.',
    );
  }
  let text: string;
  try {
    text = fatalDecoder.decode(buf);
  } catch {
    // Re-decode leniently only to point at the first bad byte's line.
    const lenient = lenientDecoder.decode(buf);
    const bad = lenient.indexOf('\ufffd');
    throw new InputError(
      file,
      bad === -1 ? undefined : lineAt(lenient, bad),
      'is not valid UTF-8 (it is probably Latin-1 / Windows-1252 encoded)',
      `Convert it to UTF-8, e.g. \`iconv -f latin1 -t utf-8 '${file}' > fixed && mv fixed '${file}'\`.`,
    );
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** File name without directories and extension: the title of last resort. */
export function baseTitle(file: string): string {
  const name = file.split(/[\\/]/).pop() ?? file;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/**
 * Paragraph blocks of already-normalised text: spans separated by blank lines. Used by the
 * plain-text, JSONL, BEIR and PDF connectors, which have no richer structure.
 */
export function paragraphBlocks(text: string, base = 0, page?: number): Block[] {
  const blocks: Block[] = [];
  const re = /\n[ \t]*\n/g;
  let start = 0;
  const push = (s: number, e: number) => {
    while (s < e && /\s/.test(text[s])) s++;
    while (e > s && /\s/.test(text[e - 1])) e--;
    if (e > s) {
      const b: Block = { start: base + s, end: base + e, kind: 'paragraph', headingPath: [] };
      if (page !== undefined) b.page = page;
      blocks.push(b);
    }
  };
  for (let m = re.exec(text); m; m = re.exec(text)) {
    push(start, m.index);
    start = m.index + m[0].length;
  }
  push(start, text.length);
  return blocks;
}
