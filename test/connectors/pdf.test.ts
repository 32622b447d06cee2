import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePdf } from '../../src/connectors/pdf.js';
import { InputError } from '../../src/engine/errors.js';
import { fixture, thrown } from './helpers.js';

const parse = (rel: string) => parsePdf(readFileSync(fixture(rel)), rel);

describe('parsePdf', () => {
  it('reads the title from the PDF metadata', async () => {
    const d = await parse('pdf/security-whitepaper.pdf');
    expect(d.title).toBe('Acme Cloud Security Whitepaper');
    expect(d.connector).toBe('pdf');
    expect(d.metadata).toMatchObject({ pages: 3, author: 'Acme Cloud Security Team' });
  });

  it('falls back to the first line when the PDF has no Title', async () => {
    expect((await parse('pdf/sla.pdf')).title).toBe('Acme Cloud Service Level Agreement');
  });

  it('sets the 1-based page of every block, and the page content is on that page', async () => {
    const d = await parse('pdf/security-whitepaper.pdf');
    const pageOf = (needle: string) => {
      const i = d.text.indexOf(needle);
      expect(i, needle).toBeGreaterThanOrEqual(0);
      return d.blocks.find((b) => b.start <= i && i < b.end)?.page;
    };
    expect(pageOf('AES-256-GCM')).toBe(1);
    expect(pageOf('break-glass session')).toBe(2);
    expect(pageOf('Golden Quokka')).toBe(3);
    expect(new Set(d.blocks.map((b) => b.page))).toEqual(new Set([1, 2, 3]));
    for (const b of d.blocks) expect(b.page).toBeDefined();
  });

  it('splits pages into paragraph blocks with exact offsets', async () => {
    const d = await parse('pdf/sla.pdf');
    const texts = d.blocks.map((b) => d.text.slice(b.start, b.end));
    expect(texts[0]).toBe('Acme Cloud Service Level Agreement');
    expect(texts).toContain('Uptime commitment');
    const para = texts.find((t) => t.startsWith('Acme Cloud commits to a Monthly Uptime Percentage'))!;
    expect(para).toContain('99.99 percent on the Enterprise plan');
    expect(para).not.toContain('Uptime is measured'); // next paragraph is its own block
    for (const t of texts) expect(t).toBe(t.trim());
    // blocks are in order and pages never decrease
    for (let i = 1; i < d.blocks.length; i++) {
      expect(d.blocks[i].start).toBeGreaterThanOrEqual(d.blocks[i - 1].end);
      expect(d.blocks[i].page!).toBeGreaterThanOrEqual(d.blocks[i - 1].page!);
    }
  });

  it('rejects a corrupt PDF naming the file', async () => {
    const err = await thrown(() => parse('broken/broken.pdf'));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^broken\/broken\.pdf: .*not a readable PDF/);
  });

  it('says so when a PDF is encrypted', async () => {
    const err = await thrown(() => parse('broken/encrypted.pdf'));
    expect(err.message).toMatch(/^broken\/encrypted\.pdf: .*encrypted/);
  });

  it('says so when a PDF has no extractable text', async () => {
    const err = await thrown(() => parse('broken/no-text.pdf'));
    expect(err.message).toMatch(/^broken\/no-text\.pdf: .*no extractable text/);
    expect(err.fix).toMatch(/OCR/);
  });

  it('does not detach the caller\'s buffer', async () => {
    const bytes = readFileSync(fixture('pdf/release-notes-2024.pdf'));
    const len = bytes.length;
    const d = await parsePdf(bytes, 'pdf/release-notes-2024.pdf');
    expect(bytes.length).toBe(len);
    expect(d.text).toContain('Point-in-time restore is generally available');
  });
});
