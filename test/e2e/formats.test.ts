import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_CONFIG, FIXTURES, rag, tempDir } from '../helpers/cli.js';

interface Result {
  doc_id: string;
  source: string;
  heading_path: string[];
  page: number | null;
  text: string;
}

/** Top hit of a BM25 query through the CLI. */
function top(db: string, query: string, extra: string[] = [], config = FIXTURE_CONFIG): Result | undefined {
  const r = rag(['--db', db, '--config', config, '--json', 'query', query, '--mode', 'bm25', '-k', '3', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.json().results[0];
}

describe('rag ingest: office files, spreadsheets, mail and scanned PDFs through the CLI', () => {
  const db = path.join(tempDir(), 'db');
  it('ingests every format, reports each broken file with its reason, exits 2', () => {
    const ingestOut = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'ingest', 'fixtures/office', 'fixtures/mail', 'fixtures/scanned', 'fixtures/broken']);
    expect(ingestOut.code, ingestOut.stderr).toBe(2);
    const s = ingestOut.json();
    const reason = (name: string) => s.failures.find((f: { source: string }) => f.source.includes(name))?.error;
    expect(reason('truncated.docx')).toMatch(/zip archive is truncated or corrupt/);
    expect(reason('encrypted.docx')).toMatch(/password-protected/);
    expect(reason('ragged.csv')).toMatch(/row has 5 fields but the header has 3/);
    expect(reason('bad-encoding.eml')).toMatch(/not valid in its declared charset/);
    expect(s.failed).toBeGreaterThanOrEqual(4);
    // 8 office files (spare-parts.csv is one document here: no tables rule), 1 + 2 mail attachments,
    // 4 mbox messages, 1 scanned PDF, and the good records of the older broken fixtures.
    expect(s.added).toBeGreaterThanOrEqual(17);
    const idx = rag(['--db', db, '--config', FIXTURE_CONFIG, 'index', '--model', 'none']);
    expect(idx.code, idx.stderr).toBe(0);
  }, 300_000);

  it('finds a fact only in each file, citing its heading path, slide, sheet or page', () => {
    expect(top(db, 'early termination fee Marmot schedule')).toMatchObject({ doc_id: 'fixtures/office/master-services-agreement.docx', heading_path: ['Master Services Agreement', 'Termination'] });
    expect(top(db, 'Heron offline sync desktop')).toMatchObject({ doc_id: 'fixtures/office/product-roadmap.pptx', page: 2, heading_path: ['Q3 priorities'] });
    expect(top(db, 'Wombat lounge video wall')).toMatchObject({ doc_id: 'fixtures/office/office-handbook.odt', heading_path: ['Office handbook', 'Meeting rooms'] });
    expect(top(db, 'Kestrel database cut-over')).toMatchObject({ doc_id: 'fixtures/office/kickoff.odp', page: 2 });
    const lamp = top(db, 'Quokka desk lamp price')!;
    expect(lamp).toMatchObject({ doc_id: 'fixtures/office/product-catalog.xlsx', heading_path: ['Products', 'rows 2–5'] });
    expect(lamp.text.startsWith('SKU | Name | Price (USD)')).toBe(true);
    expect(top(db, 'Numbat Metals lead time')).toMatchObject({ doc_id: 'fixtures/office/product-catalog.xlsx', heading_path: ['Suppliers', 'rows 2–3'] });
    expect(top(db, 'Bilby storage crate')).toMatchObject({ doc_id: 'fixtures/office/warehouse-inventory.ods', heading_path: ['Warehouse', 'rows 2–3'] });
    expect(top(db, 'Namba Parks Tower')).toMatchObject({ doc_id: 'fixtures/office/office-locations.csv' });
    expect(top(db, 'credit note CN-7781')).toMatchObject({ doc_id: 'fixtures/mail/invoice-dispute.eml' });
    expect(top(db, 'Dugong Freight pallet')).toMatchObject({ doc_id: 'fixtures/mail/invoice-dispute.eml/freight-quote.pdf', source: 'fixtures/mail/invoice-dispute.eml', page: 1 });
    expect(top(db, 'cut branches Wednesday noon')).toMatchObject({ doc_id: 'fixtures/mail/release-team.mbox#train-1@acme.example', source: 'fixtures/mail/release-team.mbox:1' });
    // OCR text of the scanned page, with its page number; filterable as OCR output.
    expect(top(db, 'Axolotl vault access code')).toMatchObject({ doc_id: 'fixtures/scanned/vault-procedures.pdf', page: 2 });
    expect(top(db, 'Axolotl vault access code', ['--filter', 'ocr=true'])).toMatchObject({ page: 2 });
    expect(top(db, 'vault procedures scanned annex', ['--filter', 'ocr=true'])?.page).not.toBe(1);
    // Thread ids are metadata: a filter finds every message of the thread.
    const thread = rag(['--db', db, '--config', FIXTURE_CONFIG, '--json', 'query', 'release train', '--mode', 'bm25', '--filter', 'thread_id=train-1@acme.example']);
    expect(new Set(thread.json().results.map((r: Result) => r.doc_id)).size).toBe(3);
  }, 120_000);

  it('maps spreadsheet rows to documents with a tables rule: per-row ACL enforced at query time', () => {
    const dir = tempDir();
    const config = path.join(dir, 'rag.config.json');
    writeFileSync(config, JSON.stringify({ tenant: { default: 'acme' }, tables: [{ match: '**/spare-parts.csv', id: 'part_no', title: 'name', acl: 'visibility', metadata: ['category'] }] }));
    const rowsDb = path.join(dir, 'db');
    expect(rag(['--db', rowsDb, '--config', config, 'ingest', 'fixtures/office/spare-parts.csv']).code).toBe(0);
    expect(rag(['--db', rowsDb, '--config', config, 'index', '--model', 'none']).code).toBe(0);
    expect(top(rowsDb, 'gas spring ergonomic chair', [], config)).toBeUndefined();
    expect(top(rowsDb, 'gas spring ergonomic chair', ['--as', 'group:support'], config)).toMatchObject({ doc_id: 'SP-02', source: 'fixtures/office/spare-parts.csv:3' });
    expect(top(rowsDb, 'hinge kit standing desk', ['--filter', 'category=desk'], config)).toMatchObject({ doc_id: 'SP-01' });
  }, 120_000);

  it('without tesseract: one notice, the scanned page reported (not silently empty), the text page kept', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'scans'));
    copyFileSync(path.join(FIXTURES, 'scanned/vault-procedures.pdf'), path.join(dir, 'scans/vault.pdf'));
    copyFileSync(path.join(FIXTURES, 'broken/no-text.pdf'), path.join(dir, 'scans/blank.pdf'));
    const r = rag(['--db', path.join(dir, 'db'), 'ingest', 'scans'], { cwd: dir, env: { PATH: path.join(dir, 'empty-path') } });
    expect(r.code).toBe(2);
    expect(r.stderr.match(/^note: tesseract is not installed/gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/failed: scans\/vault\.pdf: page 2 has no text layer \(a scanned image\?\) and was not OCRed: tesseract is not installed/);
    expect(r.stderr).toMatch(/failed: scans\/blank\.pdf: contains no text layer .* tesseract is not installed/);
    expect(r.stdout).toMatch(/ingested: 1 added/);
  }, 120_000);
});
