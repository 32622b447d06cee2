import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkDocument, DEFAULT_CHUNKER } from '../src/engine/ingest/chunker.js';
import { estimateTokens } from '../src/engine/ingest/tokens.js';
import type { Block, ChunkDraft, ChunkerConfig, ParsedDocument } from '../src/engine/types.js';
import { parseFile, parseJsonl } from '../src/connectors/index.js';
import { parseMarkdown } from '../src/connectors/markdown.js';
import { fixtureFiles } from './connectors/helpers.js';

const CFG: ChunkerConfig = { maxTokens: 256, overlapTokens: 32, hardMaxTokens: 512 };

function doc(text: string, blocks: Block[], extra: Partial<ParsedDocument> = {}): ParsedDocument {
  return { docId: 'd', source: 'd', connector: 'text', title: 't', text, blocks, metadata: {}, ...extra };
}

/** Invariants every chunking must satisfy, whatever the document. */
function checkInvariants(d: ParsedDocument, chunks: ChunkDraft[], cfg: ChunkerConfig) {
  chunks.forEach((c, i) => {
    expect(c.ordinal).toBe(i);
    expect(c.text).toBe(d.text.slice(c.charStart, c.charEnd));
    expect(c.text).toBe(c.text.trim());
    expect(c.text.length).toBeGreaterThan(0);
    expect(c.tokens).toBe(estimateTokens(c.text));
    if (i > 0) expect(c.charStart).toBeGreaterThanOrEqual(chunks[i - 1].charStart);
  });
  // A chunk never straddles two pages.
  for (const c of chunks) {
    const pages = new Set(d.blocks.filter((b) => b.start < c.charEnd && b.end > c.charStart && b.page !== undefined).map((b) => b.page));
    expect(pages.size).toBeLessThanOrEqual(1);
    if (pages.size === 1) expect(c.page).toBe([...pages][0]);
  }
  // Every block's text is covered by some chunk.
  for (const b of d.blocks) {
    const covered = chunks.some((c) => c.charStart <= b.start && b.start < c.charEnd);
    expect(covered, `block at ${b.start} not covered`).toBe(true);
  }
  // Only atomic blocks may exceed maxTokens, and nothing exceeds hardMax (plus a heading).
  for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(cfg.hardMaxTokens + 16);
}

async function allFixtureDocs(): Promise<ParsedDocument[]> {
  const docs: ParsedDocument[] = [];
  for (const sub of ['docs', 'html', 'pdf']) {
    for (const [abs, rel] of fixtureFiles(sub)) docs.push(await parseFile(abs, rel));
  }
  const t = await parseJsonl(fixtureFiles('tickets')[0][0], { id: 'id', body: ['subject', 'body'] });
  return [...docs, ...t.documents];
}

describe('chunkDocument on the fixture corpus', () => {
  it('every chunk is exactly its slice of the document, for every fixture and several sizes', async () => {
    const docs = await allFixtureDocs();
    expect(docs.length).toBeGreaterThan(35);
    for (const cfg of [CFG, { maxTokens: 64, overlapTokens: 16, hardMaxTokens: 128 }, { maxTokens: 24, overlapTokens: 8, hardMaxTokens: 40 }]) {
      for (const d of docs) {
        const chunks = chunkDocument(d, cfg);
        expect(chunks.length, d.docId).toBeGreaterThan(0);
        checkInvariants(d, chunks, cfg);
      }
    }
  });

  it('keeps code blocks and tables whole when they fit the hard maximum', async () => {
    for (const [abs, rel] of fixtureFiles('docs')) {
      const d = parseMarkdown(readFileSync(abs), rel);
      const chunks = chunkDocument(d, CFG);
      for (const b of d.blocks.filter((x) => x.atomic)) {
        const holder = chunks.filter((c) => c.charStart <= b.start && b.end <= c.charEnd);
        expect(holder.length, `${rel}: atomic block at ${b.start} split`).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('starts a new chunk at each heading section and uses the first block\'s heading path', async () => {
    const d = parseMarkdown(readFileSync(fixtureFiles('docs').find(([, r]) => r === 'docs/api-keys.md')![0]), 'docs/api-keys.md');
    const chunks = chunkDocument(d, CFG);
    const revoke = chunks.find((c) => c.text.includes('Revoking is immediate'))!;
    expect(revoke.text.startsWith('## Revoking a key')).toBe(true);
    expect(revoke.headingPath).toEqual(['Managing API keys', 'Revoking a key']);
    expect(revoke.text).not.toContain('grace period');
    for (const c of chunks) {
      const first = d.blocks.find((b) => b.start === c.charStart || (b.start <= c.charStart && c.charStart < b.end))!;
      expect(c.headingPath).toEqual(first.headingPath);
    }
  });

  it('is deterministic', async () => {
    const docs = await allFixtureDocs();
    for (const d of docs.slice(0, 10)) expect(chunkDocument(d, CFG)).toEqual(chunkDocument(structuredClone(d), CFG));
  });

  it('never lets a PDF chunk span two pages even when pages are tiny', async () => {
    const [abs, rel] = fixtureFiles('pdf')[0];
    const d = await parseFile(abs, rel);
    const chunks = chunkDocument(d, { maxTokens: 10_000, overlapTokens: 0, hardMaxTokens: 10_000 });
    expect(chunks.map((c) => c.page)).toEqual([1, 2, 3]);
  });
});

describe('chunkDocument splitting', () => {
  const sentence = (i: number) => `Sentence number ${i} explains one more detail about rotating keys safely.`;
  const longPara = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');

  it('splits a long paragraph at sentence boundaries with overlap', () => {
    const text = `# Long\n\n${longPara}`;
    const d = doc(text, [
      { start: 0, end: 6, kind: 'heading', headingPath: ['Long'] },
      { start: 8, end: text.length, kind: 'paragraph', headingPath: ['Long'] },
    ]);
    const cfg = { maxTokens: 100, overlapTokens: 30, hardMaxTokens: 200 };
    const chunks = chunkDocument(d, cfg);
    checkInvariants(d, chunks, cfg);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks[0].text.startsWith('# Long\n\nSentence number 0')).toBe(true);
    for (const c of chunks) {
      expect(c.tokens).toBeLessThanOrEqual(cfg.maxTokens);
      expect(c.headingPath).toEqual(['Long']);
    }
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1];
      const cur = chunks[i];
      // overlap: the next chunk starts inside the previous one
      expect(cur.charStart).toBeLessThan(prev.charEnd);
      expect(cur.charStart).toBeGreaterThan(prev.charStart);
      const overlap = estimateTokens(text.slice(cur.charStart, prev.charEnd));
      expect(overlap).toBeGreaterThanOrEqual(cfg.overlapTokens / 2);
      expect(overlap).toBeLessThanOrEqual(cfg.overlapTokens);
      // sentence-aligned: every piece starts at a sentence start and ends at a sentence end
      expect(cur.text).toMatch(/^Sentence number \d+/);
      expect(prev.text.endsWith('.')).toBe(true);
    }
    // Every sentence appears in some chunk.
    for (let i = 0; i < 60; i++) expect(chunks.some((c) => c.text.includes(sentence(i)))).toBe(true);
  });

  it('falls back to whitespace when one sentence is too long, then to characters', () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const blob = 'x'.repeat(5000);
    const text = `${words}\n\n${blob}`;
    const d = doc(text, [
      { start: 0, end: words.length, kind: 'paragraph', headingPath: [] },
      { start: words.length + 2, end: text.length, kind: 'paragraph', headingPath: [] },
    ]);
    const cfg = { maxTokens: 50, overlapTokens: 10, hardMaxTokens: 100 };
    const chunks = chunkDocument(d, cfg);
    checkInvariants(d, chunks, cfg);
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(50);
    const wordChunks = chunks.filter((c) => c.charEnd <= words.length);
    for (const c of wordChunks) expect(c.text).toMatch(/^word\d+( word\d+)*$/); // never cut inside a word
    expect(chunks.filter((c) => c.charStart >= words.length).map((c) => c.text).join('')).toContain('xxxx');
  });

  it('keeps an atomic block whole up to hardMaxTokens, cuts it at lines beyond', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `const value${i} = compute(${i});`);
    const code = '```ts\n' + lines.join('\n') + '\n```';
    const small = '```ts\n' + lines.slice(0, 12).join('\n') + '\n```';
    const text = `${small}\n\n${code}`;
    const d = doc(text, [
      { start: 0, end: small.length, kind: 'code', headingPath: [], atomic: true },
      { start: small.length + 2, end: text.length, kind: 'code', headingPath: [], atomic: true },
    ]);
    const smallTokens = estimateTokens(small);
    const cfg = { maxTokens: Math.floor(smallTokens / 2), overlapTokens: 0, hardMaxTokens: smallTokens + 5 };
    const chunks = chunkDocument(d, cfg);
    expect(chunks[0].text).toBe(small); // whole though > maxTokens
    const rest = chunks.slice(1);
    expect(rest.length).toBeGreaterThan(1);
    for (const c of rest) {
      expect(c.tokens).toBeLessThanOrEqual(cfg.maxTokens);
      for (const line of c.text.split('\n')) expect(line === '```ts' || line === '```' || lines.includes(line)).toBe(true);
    }
  });

  it('does not emit a heading alone: it joins the following section', () => {
    const text = '# Billing\n\n## Invoices\n\nInvoices are issued monthly.\n\n## Refunds\n\nRefunds take five days.';
    const d = parseMarkdown(Buffer.from(text), 'b.md');
    const chunks = chunkDocument(d, CFG);
    expect(chunks.map((c) => c.text)).toEqual([
      '# Billing\n\n## Invoices\n\nInvoices are issued monthly.',
      '## Refunds\n\nRefunds take five days.',
    ]);
    expect(chunks[0].headingPath).toEqual(['Billing']);
    expect(chunks[1].headingPath).toEqual(['Billing', 'Refunds']);
  });

  it('packs blocks of one section up to maxTokens, then starts a new chunk', () => {
    const paras = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} has a handful of ordinary words in it.`);
    const text = paras.join('\n\n');
    let pos = 0;
    const blocks: Block[] = paras.map((p) => {
      const b: Block = { start: pos, end: pos + p.length, kind: 'paragraph', headingPath: ['S'] };
      pos += p.length + 2;
      return b;
    });
    const per = estimateTokens(paras[0]);
    const chunks = chunkDocument(doc(text, blocks), { maxTokens: per * 2, overlapTokens: 4, hardMaxTokens: per * 4 });
    expect(chunks.map((c) => c.text)).toEqual([0, 2, 4].map((i) => `${paras[i]}\n\n${paras[i + 1]}`));
  });

  it('handles empty documents and documents without blocks', () => {
    expect(chunkDocument(doc('', []), CFG)).toEqual([]);
    expect(chunkDocument(doc('   \n  ', []), CFG)).toEqual([]);
    const chunks = chunkDocument(doc('  Just some text.  ', []), CFG);
    expect(chunks).toEqual([{ ordinal: 0, text: 'Just some text.', headingPath: [], charStart: 2, charEnd: 17, tokens: 4 }]);
  });

  it('has defaults sized for small embedding models', () => {
    expect(DEFAULT_CHUNKER.maxTokens).toBeLessThanOrEqual(256);
    expect(DEFAULT_CHUNKER.hardMaxTokens).toBeLessThanOrEqual(512);
    expect(DEFAULT_CHUNKER.overlapTokens).toBeLessThan(DEFAULT_CHUNKER.maxTokens / 2);
  });
});

describe('estimateTokens', () => {
  it('counts words, long words, numbers, punctuation and CJK deterministically', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('the cat sat')).toBe(3);
    expect(estimateTokens('internationalisation')).toBe(1 + Math.floor(19 / 6));
    expect(estimateTokens('2024')).toBe(2);
    expect(estimateTokens('Hello, world!')).toBe(4);
    expect(estimateTokens('東京都')).toBe(3);
  });

  it('is additive over whitespace', () => {
    const a = 'Rotate the API key, then redeploy.';
    const b = 'Grace period: 24 hours.';
    expect(estimateTokens(`${a} ${b}`)).toBe(estimateTokens(a) + estimateTokens(b));
  });
});
