import { describe, expect, it } from 'vitest';
import { decodeUtf8Strict, normaliseText, paragraphBlocks } from '../../src/connectors/normalise.js';
import { detectKind } from '../../src/connectors/detect.js';
import { InputError } from '../../src/engine/errors.js';
import { thrown } from './helpers.js';

describe('normaliseText', () => {
  it('converts CRLF and CR to LF, strips trailing spaces, collapses long blank runs, trims', () => {
    const out = normaliseText('  \r\nLine one  \r\nLine two\t\rLine three\n\n\n\n\n\nEnd   \n\n');
    expect(out).toBe('Line one\nLine two\nLine three\n\n\nEnd');
  });

  it('keeps up to two blank lines and leading indentation inside the text', () => {
    expect(normaliseText('a\n\n\nb\n    indented')).toBe('a\n\n\nb\n    indented');
  });

  it('composes to NFC so visually equal text hashes equally', () => {
    const decomposed = 'Cafe\u0301';
    expect(normaliseText(decomposed)).toBe('Caf\u00e9');
    expect(normaliseText(decomposed)).toBe(normaliseText('Caf\u00e9'));
  });
});

describe('decodeUtf8Strict', () => {
  it('decodes valid UTF-8 and drops a BOM', () => {
    expect(decodeUtf8Strict(Buffer.from('\ufeffhéllo', 'utf8'), 'a.txt')).toBe('héllo');
  });

  it('rejects Latin-1 bytes, naming the file, the line and a fix', async () => {
    const err = await thrown(() => decodeUtf8Strict(Buffer.from('ok\nstill ok\ncaf\xe9\n', 'latin1'), 'menu.txt'));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('menu.txt:3');
    expect(err.message).toMatch(/not valid UTF-8/);
    expect(err.fix).toMatch(/UTF-8/);
  });

  it('rejects binary content (NUL bytes)', async () => {
    const err = await thrown(() => decodeUtf8Strict(Buffer.from([0x61, 0x00, 0x62]), 'blob.md'));
    expect(err.message).toContain('blob.md');
    expect(err.message).toMatch(/binary/);
  });

  it('rejects UTF-16 with a specific message', async () => {
    const err = await thrown(() => decodeUtf8Strict(Buffer.from('\ufeffhi', 'utf16le'), 'w.txt'));
    expect(err.message).toMatch(/UTF-16/);
  });
});

describe('paragraphBlocks', () => {
  it('splits on blank lines with exact offsets', () => {
    const text = 'First para\nline two\n\n  \nSecond\n\n\nThird';
    const blocks = paragraphBlocks(text);
    expect(blocks.map((b) => text.slice(b.start, b.end))).toEqual(['First para\nline two', 'Second', 'Third']);
  });
});

describe('detectKind', () => {
  const bytes = (s: string) => Buffer.from(s, 'latin1');
  it('maps extensions to connectors, case-insensitively', () => {
    expect(detectKind('a/b.md', bytes('# x'))).toBe('markdown');
    expect(detectKind('a/b.MDX', bytes('# x'))).toBe('markdown');
    expect(detectKind('x.markdown', bytes(''))).toBe('markdown');
    expect(detectKind('x.htm', bytes('<p>'))).toBe('html');
    expect(detectKind('x.HTML', bytes('<p>'))).toBe('html');
    expect(detectKind('x.txt', bytes('hi'))).toBe('text');
    expect(detectKind('x.text', bytes('hi'))).toBe('text');
    expect(detectKind('x.ndjson', bytes('{}'))).toBe('jsonl');
    expect(detectKind('x.jsonl', bytes('{}'))).toBe('jsonl');
    expect(detectKind('x.pdf', bytes('%PDF-1.7\n'))).toBe('pdf');
  });

  it('returns null for unsupported files', () => {
    expect(detectKind('image.png', bytes('\x89PNG'))).toBeNull();
    expect(detectKind('Makefile', bytes('all:'))).toBeNull();
    expect(detectKind('.md', bytes(''))).toBeNull(); // a dotfile named ".md" has no extension
  });

  it('rejects a .pdf without the %PDF- header', async () => {
    const err = await thrown(() => detectKind('fake.pdf', bytes('just text')));
    expect(err.message).toContain('fake.pdf');
    expect(err.message).toMatch(/not a PDF/);
  });

  it('rejects NUL bytes behind a text extension', async () => {
    const err = await thrown(() => detectKind('notes.txt', Buffer.from([0x68, 0, 0x69])));
    expect(err.message).toMatch(/binary file with a text extension/);
  });
});
