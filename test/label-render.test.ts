/**
 * The terminal renderer of passages (src/render/terminal-markdown.ts, terminal-text.ts): pure
 * functions, checked on real Markdown and on the plain text HTML and PDF connectors store.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHtml } from '../src/connectors/html.js';
import { parseMarkdown } from '../src/connectors/markdown.js';
import { formatOf, renderPassage, type PassageOptions } from '../src/render/terminal-markdown.js';
import { charWidth, stripAnsi, textWidth, truncateRuns, wrapItems, wrapRuns } from '../src/render/terminal-text.js';
import { FIXTURES } from './helpers/cli.js';

const md = (text: string, o: Partial<PassageOptions> = {}) => renderPassage(text, { width: 80, color: false, format: 'markdown', ...o }).map((l) => l.text);
const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const verticals = (l: string) => [...l].flatMap((ch, i) => ('┌┬┐│├┼┤└┴┘'.includes(ch) ? [i] : []));

describe('terminal Markdown', () => {
  const rateLimits = parseMarkdown(readFileSync(path.join(FIXTURES, 'docs/rate-limits.md')), 'docs/rate-limits.md');

  it('draws a table as aligned columns in a box, header apart, GFM alignment kept', () => {
    const lines = md('| Plan | Price | Notes |\n|:--|--:|:-:|\n| Free | 0 | for trying it out |\n| Enterprise | 1,200 | x |\n');
    expect(lines).toEqual([
      '┌────────────┬───────┬───────────────────┐',
      '│ Plan       │ Price │       Notes       │',
      '├────────────┼───────┼───────────────────┤',
      '│ Free       │     0 │ for trying it out │',
      '│ Enterprise │ 1,200 │         x         │',
      '└────────────┴───────┴───────────────────┘',
    ]);
  });

  it('wraps table cells at words when the table is too wide, and falls back to records when even that cannot fit', () => {
    const table = '| Question | Answer |\n|---|---|\n| How do I rotate an API key without downtime? | Create the new key, deploy it, then revoke the old one after a day. |\n';
    for (const width of [40, 50, 60]) {
      const lines = md(table, { width });
      for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(width);
      const cols = lines.map(verticals);
      for (const c of cols) expect(c).toEqual(cols[0]);
      expect(words(lines.join(' ')).sort()).toEqual(words(table.replace(/---/g, '')).sort()); // every word whole, none lost
    }
    const wide = `| ${Array.from({ length: 12 }, (_, i) => `Column${i}`).join(' | ')} |\n|${'---|'.repeat(12)}\n| ${Array.from({ length: 12 }, (_, i) => `value${i}`).join(' | ')} |\n`;
    const records = md(wide, { width: 40 });
    expect(records).toContain('Column0: value0');
    expect(records).toContain('Column11: value11');
  });

  it('headings bold with colour, marked with # without; lists indented with hanging lines; code boxed; quotes barred', () => {
    const text = [
      '# Title', '', 'Intro with `code` and **strong** text.', '',
      '- first item that is long enough to wrap onto a second line at forty columns', '  - nested item', '- [x] done task', '',
      '3. third', '4. fourth', '',
      '> quoted words', '',
      '```sh', 'npm install rag', '  --save', '```', '',
    ].join('\n');
    const plain = md(text, { width: 40 });
    expect(plain[0]).toBe('# Title');
    expect(plain).toContain('Intro with `code` and strong text.');
    expect(plain).toContain('• first item that is long enough to wrap');
    expect(plain).toContain('  onto a second line at forty columns');
    expect(plain).toContain('  • nested item');
    expect(plain).toContain('• [x] done task');
    expect(plain).toContain('3. third');
    expect(plain).toContain('│ quoted words');
    const box = plain.slice(plain.findIndex((l) => l.startsWith('┌─ sh ')));
    expect(box.slice(0, 4)).toEqual(['┌─ sh ────────────┐', '│ npm install rag │', '│   --save        │', '└─────────────────┘']);
    const coloured = renderPassage(text, { width: 40, color: true, format: 'markdown' }).map((l) => l.text);
    expect(coloured[0]).toBe('\x1b[1;4mTitle\x1b[0m');
    expect(coloured.join('\n')).toContain('\x1b[1mstrong\x1b[0m');
    expect(stripAnsi(coloured.join('\n'))).not.toContain('**');
  });

  it('highlights query terms: yellow with colour, *term* without; inside tables too', () => {
    const plain = md(rateLimits.text, { terms: ['burst', 'plan'] }).join('\n');
    expect(plain).toMatch(/│ \*Plan\*\s+│/);
    expect(plain).toMatch(/│ \*Burst\* │/);
    const coloured = renderPassage(rateLimits.text, { width: 80, color: true, format: 'markdown', terms: ['burst'] }).map((l) => l.text).join('\n');
    expect(coloured).toContain('\x1b[1;33mBurst\x1b[0m');
  });

  it('never makes a line wider than asked and never cuts a word that fits on a line', () => {
    for (const width of [20, 33, 47, 80, 120]) {
      const lines = md(rateLimits.text, { width });
      for (const l of lines) expect(textWidth(l), l).toBeLessThanOrEqual(width);
      const prose = lines.filter((l) => !/[│┌└├]/.test(l)).join(' ');
      const source = new Set(words(rateLimits.text));
      // Only a token wider than the line (with its list indent) may be cut; every other word is whole.
      const tooWide = rateLimits.text.split(/\s+/).filter((tok) => textWidth(tok) > width - 4).map((tok) => tok.toLowerCase());
      for (const w of words(prose)) expect(source.has(w) || tooWide.some((tok) => tok.includes(w)), `"${w}" at width ${width}`).toBe(true);
    }
  });

  it('flags the lines of a source range (the judged chunk inside its document)', () => {
    const chunkStart = rateLimits.text.indexOf('## Rate limit headers');
    const chunkEnd = rateLimits.text.indexOf('## When you hit the limit') - 2;
    const lines = renderPassage(rateLimits.text, { width: 80, color: false, format: 'markdown', mark: [chunkStart, chunkEnd] });
    const marked = lines.filter((l) => l.marked).map((l) => l.text);
    expect(marked[0]).toBe('## Rate limit headers');
    expect(marked.at(-1)).toBe('• X-RateLimit-Reset: seconds until the window has room again.'.replace('X-RateLimit-Reset', '`X-RateLimit-Reset`'));
    const first = lines.findIndex((l) => l.marked);
    const last = lines.findLastIndex((l) => l.marked);
    expect(lines.slice(first, last + 1).every((l) => l.marked)).toBe(true); // one bar, blank lines included
    expect(lines.filter((l) => l.marked)).toHaveLength(last - first + 1);
    // A chunk rendered on its own with its offset flags the same source.
    const passage = renderPassage(rateLimits.text.slice(chunkStart, chunkEnd), { width: 80, color: false, format: 'markdown', offset: chunkStart, mark: [chunkStart, chunkEnd] });
    expect(passage.every((l) => l.marked || l.text === '')).toBe(true);
  });
});

describe('terminal plain text (HTML, PDF, text)', () => {
  it('formats by connector: only Markdown keeps markup in its stored text', () => {
    expect(formatOf('markdown')).toBe('markdown');
    for (const c of ['html', 'pdf', 'text', 'jsonl', 'beir']) expect(formatOf(c)).toBe('plain');
  });

  it('renders the " | " rows the HTML connector stores as a table, and heading-path paragraphs as headings', () => {
    const doc = parseHtml(readFileSync(path.join(FIXTURES, 'html/pricing.html')), 'html/pricing.html');
    const tableBlock = doc.blocks.find((b) => b.kind === 'table')!;
    const heading = doc.blocks.find((b) => b.kind === 'heading')!;
    const text = doc.text.slice(heading.start, tableBlock.end);
    const lines = renderPassage(text, { width: 80, color: false, format: 'plain', headings: tableBlock.headingPath }).map((l) => l.text);
    const table = lines.filter((l) => /^[┌│├└]/.test(l));
    expect(table.length).toBeGreaterThanOrEqual(4);
    for (const l of table) expect(verticals(l)).toEqual(verticals(table[0]!));
    expect(lines.join('\n')).not.toContain(' | ');
    expect(lines.some((l) => l.startsWith('# '))).toBe(true);
  });

  it('reflows wrapped PDF lines into paragraphs and keeps bullet lines apart', () => {
    const text = 'Release 3.3 (June 2024)\n\nWebhook deliveries are now signed\nwith HMAC-SHA256 using a per-endpoint\nsigning secret.\n\n- first point\n- second point that is long';
    const lines = renderPassage(text, { width: 30, color: false, format: 'plain' }).map((l) => l.text);
    expect(lines).toEqual([
      'Release 3.3 (June 2024)', '',
      'Webhook deliveries are now', 'signed with HMAC-SHA256 using', 'a per-endpoint signing secret.', '',
      '• first point', '• second point that is long',
    ]);
  });
});

describe('terminal text primitives', () => {
  it('measures wide and combining characters as a terminal draws them', () => {
    expect(charWidth('a'.codePointAt(0)!)).toBe(1);
    expect(charWidth('漢'.codePointAt(0)!)).toBe(2);
    expect(charWidth(0x0301)).toBe(0);
    expect(textWidth('e\u0301té 漢字')).toBe(8);
    expect(textWidth('\x1b[1mbold\x1b[0m')).toBe(4);
    const lines = wrapRuns([{ text: '漢字漢字 漢字漢字 漢字', style: 0 }], 10);
    for (const l of lines) expect(textWidth(l.map((r) => r.text).join(''))).toBeLessThanOrEqual(10);
  });

  it('cuts only a word wider than the whole line; truncates at a word with an ellipsis; wraps items whole', () => {
    const lines = wrapRuns([{ text: 'see https://example.com/a/very/long/path/that/cannot/fit here', style: 0 }], 20).map((l) => l.map((r) => r.text).join(''));
    expect(lines[0]).toBe('see');
    expect(lines.every((l) => textWidth(l) <= 20)).toBe(true);
    expect(lines.at(-1)).toMatch(/here$/);
    expect(truncateRuns([{ text: 'Feeding a sourdough starter twice a day', style: 0 }], 20).map((r) => r.text).join('')).toBe('Feeding a sourdough…');
    const items = wrapItems(['0-3 grade', 's skip', 'u undo', 'n note', 'q quit'].map((text) => [{ text, style: 0 }]), 24).map((l) => l.map((r) => r.text).join(''));
    expect(items).toEqual(['0-3 grade · s skip', 'u undo · n note · q quit']);
  });
});
