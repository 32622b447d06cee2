import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFile, parseSource } from '../../src/connectors/index.js';
import type { ParsedDocument } from '../../src/engine/types.js';
import { fixture, thrown } from './helpers.js';

const parse = async (rel: string, opts = {}) => parseSource(fixture(rel), rel, opts);
const only = async (rel: string): Promise<ParsedDocument> => {
  const b = await parse(rel);
  expect(b.failures).toEqual([]);
  expect(b.documents).toHaveLength(1);
  return b.documents[0]!;
};
/** The block whose text contains `needle`, with that text. */
const blockWith = (d: ParsedDocument, needle: string) => {
  const b = d.blocks.find((x) => d.text.slice(x.start, x.end).includes(needle));
  expect(b, `no block contains ${needle}`).toBeDefined();
  return { ...b!, text: d.text.slice(b!.start, b!.end) };
};

describe('office connectors', () => {
  it('DOCX: heading styles become heading paths, tables stay atomic, core title and author', async () => {
    const d = await only('office/master-services-agreement.docx');
    expect(d).toMatchObject({ connector: 'docx', title: 'Master Services Agreement', metadata: { author: 'Acme Legal' } });
    expect(blockWith(d, 'early termination fee').headingPath).toEqual(['Master Services Agreement', 'Termination']);
    expect(blockWith(d, 'thirty days to export').headingPath).toEqual(['Master Services Agreement', 'Termination', 'Return of data']);
    const table = blockWith(d, 'Platinum');
    expect(table).toMatchObject({ kind: 'table', atomic: true });
    expect(table.text.split('\n')[0]).toBe('Plan | First response | Channels');
  });

  it('PPTX: slides in presentation order (not file order), slide number as page, title as heading, table and notes', async () => {
    const d = await only('office/product-roadmap.pptx');
    expect(d).toMatchObject({ connector: 'pptx', title: 'Product roadmap 2025', metadata: { slides: 3 } });
    expect(blockWith(d, 'Project Heron ships offline sync')).toMatchObject({ page: 2, headingPath: ['Q3 priorities'] });
    expect(blockWith(d, 'not available on the Free plan').text).toMatch(/^Notes: /);
    expect(blockWith(d, 'Osprey audit exports')).toMatchObject({ page: 3, kind: 'table', atomic: true });
    expect(d.blocks.every((b) => b.page !== undefined)).toBe(true);
  });

  it('ODT and ODP: outline levels as heading paths, lists and tables; slides as pages', async () => {
    const odt = await only('office/office-handbook.odt');
    expect(odt).toMatchObject({ connector: 'odt', title: 'Office handbook' });
    expect(blockWith(odt, 'Wombat lounge').headingPath).toEqual(['Office handbook', 'Meeting rooms']);
    expect(blockWith(odt, 'two weeks ahead').kind).toBe('list');
    expect(blockWith(odt, 'Reception | 08:00 to 18:00').atomic).toBe(true);
    const odp = await only('office/kickoff.odp');
    expect(odp).toMatchObject({ connector: 'odp', title: 'Migration kickoff' });
    expect(blockWith(odp, 'second Sunday of June')).toMatchObject({ page: 2, headingPath: ['Kestrel cut-over plan'] });
  });

  it('XLSX and ODS: a block group per sheet, the header line repeated in every row group, sheet and rows in the heading path', async () => {
    const x = await only('office/product-catalog.xlsx');
    expect(x).toMatchObject({ connector: 'xlsx', title: 'Product catalog', metadata: { sheets: ['Products', 'Suppliers'] } });
    const lamp = blockWith(x, 'Quokka desk lamp');
    expect(lamp).toMatchObject({ kind: 'table', atomic: true, headingPath: ['Products', 'rows 2–5'] });
    expect(lamp.text.split('\n')[0]).toBe('SKU | Name | Price (USD) | Category | Launched');
    expect(lamp.text).toContain('P-1003 | Quokka desk lamp | 59.5 | Lighting | 2024-03-15');
    expect(blockWith(x, 'Numbat Metals').headingPath).toEqual(['Suppliers', 'rows 2–3']);
    // A sheet formatted down to row 1,048,576 gives its two data rows, not a million empty ones.
    const o = await only('office/warehouse-inventory.ods');
    expect(blockWith(o, 'Bilby storage crate')).toMatchObject({ headingPath: ['Warehouse', 'rows 2–3'] });
    expect(o.text.length).toBeLessThan(200);
  });

  it('CSV: groups of rows under the header; many rows make several groups, each starting with the header', async () => {
    const d = await only('office/office-locations.csv');
    expect(blockWith(d, 'Namba Parks')).toMatchObject({ headingPath: ['rows 2–4'] });
    const rows = ['id,text', ...Array.from({ length: 120 }, (_, i) => `${i},${'word '.repeat(12)}`)].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'rag-csv-'));
    writeFileSync(join(dir, 'big.csv'), rows);
    const big = await parseFile(join(dir, 'big.csv'), 'big.csv');
    expect(big.blocks.length).toBeGreaterThan(1);
    for (const b of big.blocks) expect(big.text.slice(b.start, b.end).startsWith('id | text\n')).toBe(true);
  });

  it('spreadsheet rows become documents under a tables rule, with id, title, ACL and metadata columns', async () => {
    const rule = { match: '**/spare-parts.csv', id: 'part_no', title: 'name', acl: 'visibility', metadata: ['category'] };
    const b = await parse('office/spare-parts.csv', { tables: [rule] });
    expect(b.failures).toEqual([]);
    expect(b.documents.map((d) => d.docId)).toEqual(['SP-01', 'SP-02', 'SP-03']);
    const lamp = b.documents[2]!;
    expect(lamp).toMatchObject({ title: 'Lamp diffuser', source: 'office/spare-parts.csv:4', acl: ['group:support', 'group:hr'], metadata: { category: 'lighting', row: 4 } });
    expect(lamp.text).toBe('part_no: SP-03\nname: Lamp diffuser\ndescription: Frosted diffuser for the Quokka desk lamp\ncategory: lighting');
    const wrong = await thrown(() => parse('office/spare-parts.csv', { tables: [{ ...rule, id: 'sku' }] }));
    expect(wrong.message).toMatch(/^office\/spare-parts\.csv: column "sku" .* is not in the header row/);
    // A ragged row fails alone in record mode; the other rows are documents.
    const ragged = await parse('broken/ragged.csv', { tables: [{ match: '**/ragged.csv', id: 'name' }] });
    expect(ragged.documents.map((d) => d.docId)).toEqual(['Alice', 'Carol']);
    expect(ragged.failures).toEqual([{ source: 'broken/ragged.csv:3', line: 3, error: 'row has 5 fields but the header has 3' }]);
  });

  it('spreadsheet rows never widen access: a blank or invalid ACL cell, or a blank tenant cell, is refused and withdraws the stored copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-rows-'));
    const file = join(dir, 'people.csv');
    writeFileSync(file, 'id,name,acl,tenant\nP1,Ann,group:hr,acme\nP2,Bob,,acme\nP3,Cy,gruop hr!,acme\nP4,Di,group:hr,\n');
    const b = await parseSource(file, 'people.csv', { tables: [{ match: '**/people.csv', id: 'id', title: 'name', acl: 'acl', tenant: 'tenant' }] });
    expect(b.documents.map((d) => [d.docId, d.acl, d.tenant])).toEqual([['P1', ['group:hr'], 'acme']]);
    expect(b.failures.map((f) => [f.source, f.withdraw])).toEqual([['people.csv:3', 'P2'], ['people.csv:4', 'P3'], ['people.csv:5', 'P4']]);
    expect(b.failures[0]!.error).toMatch(/acl column "acl" is empty: refused, an empty ACL never falls back to the default/);
    expect(b.failures[2]!.error).toMatch(/tenant column "tenant" is empty/);
  });

  it("an attachment's own front matter cannot choose its ACL or tenant: the mailbox's apply", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-att-'));
    const file = join(dir, 'note.eml');
    const md = Buffer.from('---\nacl: public\ntenant: globex\n---\n# Plan\n\nThe secret plan.\n').toString('base64');
    writeFileSync(
      file,
      [
        'From: Eve <eve@example.net>', 'To: legal@acme.example', 'Subject: plan', 'Date: Tue, 14 May 2024 08:12:00 +0000', 'Message-ID: <p1@example.net>',
        'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'See attached.', '--b1',
        'Content-Type: text/markdown; name="plan.md"', 'Content-Disposition: attachment; filename="plan.md"', 'Content-Transfer-Encoding: base64', '', md, '--b1--', '',
      ].join('\r\n'),
    );
    const b = await parseSource(file, 'legal/note.eml', {});
    expect(b.failures).toEqual([]);
    const att = b.documents.find((d) => d.docId === 'legal/note.eml/plan.md');
    expect(att, JSON.stringify(b.documents.map((d) => d.docId))).toBeDefined();
    expect(att!.text).toContain('The secret plan');
    expect(att!.acl).toBeUndefined();
    expect(att!.tenant).toBeUndefined();
  });

  it('EML: one document for the message with from/to/date/thread metadata, one per attachment, linked both ways', async () => {
    const b = await parse('mail/invoice-dispute.eml');
    expect(b.failures).toEqual([]);
    const [msg, pdf, txt] = b.documents;
    expect(msg).toMatchObject({
      docId: 'mail/invoice-dispute.eml',
      connector: 'eml',
      title: 'Disputed invoice INV-2024-0412',
      metadata: { from: 'Maria Lopez <maria.lopez@globex.example>', to: ['Billing Team <billing@acme.example>'], date: '2024-05-14T08:12:00.000Z', thread_id: 'dispute-0412@globex.example' },
    });
    expect(msg!.text).toContain('credit note CN-7781');
    expect(msg!.metadata.attachments).toEqual(['mail/invoice-dispute.eml/freight-quote.pdf', 'mail/invoice-dispute.eml/po-numbers.txt']);
    expect(pdf).toMatchObject({ docId: 'mail/invoice-dispute.eml/freight-quote.pdf', connector: 'pdf', source: 'mail/invoice-dispute.eml', metadata: { attached_to: 'mail/invoice-dispute.eml' } });
    expect(pdf!.text).toContain('Dugong Freight');
    expect(txt!.connector).toBe('text');
  });

  it('MBOX: one document per message, the thread root as thread id, >From unquoted, sources at the separator line', async () => {
    const b = await parse('mail/release-team.mbox');
    expect(b.failures).toEqual([]);
    expect(b.documents.map((d) => [d.docId, d.source, d.metadata.thread_id])).toEqual([
      ['mail/release-team.mbox#train-1@acme.example', 'mail/release-team.mbox:1', 'train-1@acme.example'],
      ['mail/release-team.mbox#train-2@acme.example', 'mail/release-team.mbox:12', 'train-1@acme.example'],
      ['mail/release-team.mbox#train-3@acme.example', 'mail/release-team.mbox:26', 'train-1@acme.example'],
      ['mail/release-team.mbox#garage@acme.example', 'mail/release-team.mbox:39', 'garage@acme.example'],
    ]);
    expect(b.documents[2]!.text).toContain('\nFrom the change policy');
  });

  it('reports broken files with their path and the reason', async () => {
    expect((await thrown(() => parse('broken/truncated.docx'))).message).toMatch(/^broken\/truncated\.docx: is not a readable DOCX file: the zip archive is truncated or corrupt/);
    expect((await thrown(() => parse('broken/encrypted.docx'))).message).toMatch(/^broken\/encrypted\.docx: is a password-protected \(encrypted\) DOCX file/);
    expect((await thrown(() => parse('broken/ragged.csv'))).message).toMatch(/^broken\/ragged\.csv:3: row has 5 fields but the header has 3/);
    expect((await thrown(() => parse('broken/bad-encoding.eml'))).message).toMatch(/^broken\/bad-encoding\.eml: has text that is not valid in its declared charset \(utf-8\)/);
  });
});

describe('OCR of scanned PDF pages', () => {
  it('reads a page that is only an image with tesseract, marks its blocks as OCR and keeps its page number', async () => {
    const d = await only('scanned/vault-procedures.pdf');
    expect(d.metadata.ocr_pages).toEqual([2]);
    const b = blockWith(d, 'Axolotl');
    expect(b).toMatchObject({ page: 2, ocr: true });
    expect(b.text).toMatch(/rotates every 45 days/);
    expect(blockWith(d, 'scanned annex follows').ocr).toBeUndefined();
  }, 180_000);
});
