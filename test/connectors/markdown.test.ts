import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMarkdown } from '../../src/connectors/markdown.js';
import { InputError } from '../../src/engine/errors.js';
import { fixture, fixtureFiles, thrown } from './helpers.js';

const parse = (rel: string) => parseMarkdown(readFileSync(fixture(rel)), rel);

describe('parseMarkdown on the fixture corpus', () => {
  const docs = fixtureFiles('docs').map(([abs, rel]) => parseMarkdown(readFileSync(abs), rel));

  it('parses every doc with non-empty text and blocks that index the text exactly', () => {
    expect(docs.length).toBeGreaterThanOrEqual(12);
    for (const d of docs) {
      expect(d.connector).toBe('markdown');
      expect(d.text.length).toBeGreaterThan(200);
      let last = 0;
      for (const b of d.blocks) {
        expect(b.start).toBeGreaterThanOrEqual(last);
        expect(b.end).toBeGreaterThan(b.start);
        const slice = d.text.slice(b.start, b.end);
        expect(slice).toBe(slice.trim());
        last = b.end;
      }
    }
  });

  it('drops the front matter from the text', () => {
    for (const d of docs) {
      expect(d.text.startsWith('---')).toBe(false);
      expect(d.text).not.toMatch(/^acl:/m);
    }
  });

  it('reads acl and tenant from front matter, in list and single-string form', () => {
    const byId = new Map(docs.map((d) => [d.docId, d]));
    expect(byId.get('docs/internal/incident-response.md')?.acl).toEqual(['group:sre']);
    expect(byId.get('docs/internal/salary-bands.md')?.acl).toEqual(['group:hr']);
    expect(byId.get('docs/personal/alice-notes.md')?.acl).toEqual(['user:alice']);
    expect(byId.get('docs/billing-invoices.md')?.acl).toEqual(['public']);
    expect(byId.get('docs/api-keys.md')?.acl).toBeUndefined();
    expect(byId.get('docs/globex/welcome.md')?.tenant).toBe('globex');
    expect(byId.get('docs/globex/vpn-access.md')?.acl).toEqual(['group:globex-engineering']);
    expect(byId.get('docs/api-keys.md')?.tenant).toBeUndefined();
  });

  it('keeps other front matter keys as metadata, without the reserved ones', () => {
    const d = parse('docs/api-keys.md');
    expect(d.metadata).toMatchObject({ category: 'security', owner: 'platform-team' });
    expect(d.metadata).not.toHaveProperty('title');
    expect(parse('docs/sso-saml.md').metadata).toMatchObject({ plans: ['business', 'enterprise'] });
    expect(parse('docs/internal/incident-response.md').metadata).not.toHaveProperty('acl');
  });
});

describe('parseMarkdown structure', () => {
  it('uses the front matter title, else the first H1, else the file name', () => {
    expect(parse('docs/api-keys.md').title).toBe('Managing API keys');
    expect(parseMarkdown(Buffer.from('Intro\n\n# The Real Title\n\n## Sub\n'), 'x/notes.md').title).toBe('The Real Title');
    expect(parseMarkdown(Buffer.from('## Only a subheading\n\ntext\n'), 'x/plain-notes.md').title).toBe('plain-notes');
  });

  it('gives each block its heading path, outermost first', () => {
    const d = parse('docs/api-keys.md');
    const at = (needle: string) => {
      const i = d.text.indexOf(needle);
      const b = d.blocks.find((x) => x.start <= i && i < x.end);
      if (!b) throw new Error(`no block contains ${needle}`);
      return b;
    };
    expect(at('| `projects:read` |').headingPath).toEqual(['Managing API keys', 'Creating a key', 'Scopes']);
    expect(at('Revoking is immediate').headingPath).toEqual(['Managing API keys', 'Revoking a key']);
    // A sibling h2 after an h3 pops the h3.
    expect(at('Rotate a key when a team member').headingPath).toEqual(['Managing API keys', 'Rotating a key']);
    const heading = at('## Rotating a key');
    expect(heading.kind).toBe('heading');
    expect(heading.headingPath).toEqual(['Managing API keys', 'Rotating a key']);
  });

  it('marks code blocks and tables atomic and keeps their markdown source', () => {
    const d = parse('docs/rate-limits.md');
    const code = d.blocks.find((b) => b.kind === 'code')!;
    expect(code.atomic).toBe(true);
    const codeText = d.text.slice(code.start, code.end);
    expect(codeText.startsWith('```typescript')).toBe(true);
    expect(codeText.endsWith('```')).toBe(true);
    const table = d.blocks.find((b) => b.kind === 'table')!;
    expect(table.atomic).toBe(true);
    expect(d.text.slice(table.start, table.end)).toMatch(/^\| Plan \| Requests per minute/);
    expect(d.text).toContain('**429 Too Many Requests**'); // source, not rendered
  });

  it('offsets survive CRLF line ends and decomposed characters in the source', () => {
    const src = '---\r\ntitle: T\r\n---\r\n\r\n# Cafe\u0301 menu\r\n\r\nFirst paragraph.   \r\n\r\n- one\r\n- two\r\n';
    const d = parseMarkdown(Buffer.from(src, 'utf8'), 'm.md');
    expect(d.text).toBe('# Caf\u00e9 menu\n\nFirst paragraph.\n\n- one\n- two');
    expect(d.blocks.map((b) => d.text.slice(b.start, b.end))).toEqual(['# Café menu', 'First paragraph.', '- one', '- two']);
    expect(d.blocks[1].headingPath).toEqual(['Café menu']);
  });

  it('an empty document has empty text and no blocks', () => {
    const d = parseMarkdown(Buffer.from('---\ntitle: Empty\n---\n'), 'e.md');
    expect(d.text).toBe('');
    expect(d.blocks).toEqual([]);
    expect(d.title).toBe('Empty');
  });
});

describe('parseMarkdown errors', () => {
  it('names the file and the file line of a YAML syntax error', async () => {
    const err = await thrown(() => parse('broken/bad-frontmatter.md'));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^broken\/bad-frontmatter\.md:4: front matter is not valid YAML/);
    expect(err.fix).toBeTruthy();
  });

  it('rejects an acl that is not a principal or a list of principals, with its line', async () => {
    const err = await thrown(() => parse('broken/bad-acl.md'));
    expect(err.message).toMatch(/^broken\/bad-acl\.md:3: .*"acl"/);
    const list = await thrown(() => parseMarkdown(Buffer.from('---\ntitle: x\nacl:\n  - group:a\n  - 7\n---\nbody\n'), 'l.md'));
    expect(list.message).toMatch(/^l\.md:3:/);
  });

  it('rejects binary content', async () => {
    const err = await thrown(() => parse('broken/binary.md'));
    expect(err.message).toContain('broken/binary.md');
    expect(err.message).toMatch(/binary/);
  });
});
