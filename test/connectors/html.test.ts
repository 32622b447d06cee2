import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHtml } from '../../src/connectors/html.js';
import { fixture, fixtureFiles } from './helpers.js';

const parse = (rel: string) => parseHtml(readFileSync(fixture(rel)), rel);
const NOISE = ['NAVNOISE', 'SCRIPTNOISE', 'STYLENOISE', 'FOOTERNOISE', 'ASIDENOISE', 'HIDDENNOISE', 'ARIANOISE', 'NOSCRIPTNOISE', 'FORMNOISE', 'SVGNOISE', 'TEMPLATENOISE'];

describe('parseHtml', () => {
  const pages = fixtureFiles('html').map(([abs, rel]) => parseHtml(readFileSync(abs), rel));

  it('indexes visible text only: no nav, script, style, footer, hidden or template content', () => {
    expect(pages).toHaveLength(3);
    for (const p of pages) {
      for (const n of NOISE) expect(p.text, `${p.docId} contains ${n}`).not.toContain(n);
      expect(p.text).not.toMatch(/<\/?[a-z]+[ >]/); // no markup left
    }
  });

  it('blocks index the text exactly and are joined by blank lines', () => {
    for (const p of pages) {
      expect(p.blocks.length).toBeGreaterThan(5);
      expect(p.blocks.map((b) => p.text.slice(b.start, b.end)).join('\n\n')).toBe(p.text);
    }
  });

  it('takes the title from <title>, else the first h1', () => {
    expect(parse('html/status-faq.html').title).toBe('Acme Cloud Status Page FAQ');
    expect(parse('html/blog-functions.html').title).toBe('Introducing Acme Cloud Functions');
    expect(parseHtml(Buffer.from('<p>no headings</p>'), 'dir/bare-page.html').title).toBe('bare-page');
  });

  it('gives heading paths from h1–h6', () => {
    const d = parse('html/status-faq.html');
    const block = d.blocks.find((b) => d.text.slice(b.start, b.end).startsWith('Scheduled maintenance happens'))!;
    expect(block.headingPath).toEqual(['Status page FAQ', 'Incidents and maintenance', 'When is scheduled maintenance?']);
    const later = d.blocks.find((b) => d.text.slice(b.start, b.end).startsWith('The page keeps 90 days'))!;
    expect(later.headingPath).toEqual(['Status page FAQ', 'Uptime history']);
  });

  it('keeps tables and pre as atomic blocks, tables as one row per line', () => {
    const faq = parse('html/status-faq.html');
    const table = faq.blocks.find((b) => b.kind === 'table')!;
    expect(table.atomic).toBe(true);
    expect(faq.text.slice(table.start, table.end).split('\n')).toEqual([
      'Colour | Meaning',
      'Green | Operational',
      'Yellow | Degraded performance: slower responses, no errors',
      'Orange | Partial outage: some requests fail',
      'Red | Major outage: the component is unavailable',
    ]);
    const blog = parse('html/blog-functions.html');
    const pre = blog.blocks.find((b) => b.kind === 'code')!;
    expect(pre.atomic).toBe(true);
    expect(blog.text.slice(pre.start, pre.end)).toBe('acme functions deploy resize-image.ts --trigger http\nacme functions logs resize-image --follow');
  });

  it('decodes entities, collapses whitespace and separates list items', () => {
    const d = parseHtml(Buffer.from('<ul><li>One &amp; two</li><li>  three\n   four </li></ul><p>a<br>b</p>'), 'x.html');
    expect(d.text).toBe('One & two\n\nthree four\n\na\nb');
    expect(d.blocks.map((b) => b.kind)).toEqual(['list', 'list', 'paragraph']);
  });

  it('keeps direct text of a div separate from its child paragraphs', () => {
    const d = parseHtml(Buffer.from('<div>Lead text <p>Inner para</p> tail text</div>'), 'x.html');
    expect(d.blocks.map((b) => d.text.slice(b.start, b.end))).toEqual(['Lead text', 'Inner para', 'tail text']);
  });
});
