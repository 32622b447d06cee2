import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileDocId, parseFile } from '../../src/connectors/index.js';
import { fixture, thrown } from './helpers.js';

describe('parseFile', () => {
  it('dispatches on the extension and uses the normalised relative path as docId', async () => {
    const md = await parseFile(fixture('docs/webhooks.md'), 'docs\\webhooks.md');
    expect(md.connector).toBe('markdown');
    expect(md.docId).toBe('docs/webhooks.md');
    expect(md.source).toBe('docs/webhooks.md');
    expect(md.mtime).toBeGreaterThan(0);
    expect((await parseFile(fixture('html/pricing.html'), './html/pricing.html')).connector).toBe('html');
    const pdf = await parseFile(fixture('pdf/sla.pdf'), 'pdf/sla.pdf');
    expect(pdf.connector).toBe('pdf');
    expect(pdf.blocks.every((b) => b.page !== undefined)).toBe(true);
  });

  it('parses plain text files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-file-'));
    writeFileSync(join(dir, 'readme.txt'), 'Hello\n\nWorld\n');
    const d = await parseFile(join(dir, 'readme.txt'), 'readme.txt');
    expect(d.connector).toBe('text');
    expect(d.blocks).toHaveLength(2);
  });

  it('refuses a text file pretending to be a PDF, naming it', async () => {
    const err = await thrown(() => parseFile(fixture('broken/not-really.pdf'), 'broken/not-really.pdf'));
    expect(err.message).toMatch(/^broken\/not-really\.pdf: has a \.pdf extension but is not a PDF/);
  });

  it('refuses JSONL and unsupported files with a pointer to the right entry point', async () => {
    const jsonl = await thrown(() => parseFile(fixture('tickets/tickets.jsonl'), 'tickets/tickets.jsonl'));
    expect(jsonl.message).toMatch(/parseJsonl/);
    const dir = mkdtempSync(join(tmpdir(), 'rag-file-'));
    writeFileSync(join(dir, 'x.png'), 'png');
    const png = await thrown(() => parseFile(join(dir, 'x.png'), 'x.png'));
    expect(png.message).toMatch(/no connector/);
  });

  it('normalises docIds', () => {
    expect(fileDocId('.\\a\\b.md')).toBe('a/b.md');
    expect(fileDocId('./a//b.md')).toBe('a/b.md');
  });
});
