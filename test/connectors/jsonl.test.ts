import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { getPath, parseJsonl, type JsonlMapping } from '../../src/connectors/jsonl.js';
import { fixture } from './helpers.js';

const TICKETS: JsonlMapping = { id: 'id', title: 'subject', body: ['subject', 'body'], acl: 'visibility', tenant: 'tenant' };

describe('parseJsonl on the ticket fixtures', () => {
  it('yields one document per line with id, title, acl, tenant and the file as source', async () => {
    const { documents, failures } = await parseJsonl(fixture('tickets/tickets.jsonl'), TICKETS, { rel: 'tickets/tickets.jsonl' });
    expect(failures).toEqual([]);
    expect(documents).toHaveLength(20);
    const first = documents[0];
    expect(first.docId).toBe('TCK-1001');
    expect(first.source).toBe('tickets/tickets.jsonl'); // a record is its id, not its line
    expect(first.connector).toBe('jsonl');
    expect(first.title).toBe('Cannot rotate API key from CLI');
    expect(first.text.startsWith('Cannot rotate API key from CLI\n\nRunning `acme keys rotate')).toBe(true);
    expect(first.acl).toEqual(['group:support']);
    expect(first.tenant).toBe('acme');
    expect(documents[19].source).toBe('tickets/tickets.jsonl');
    expect(new Set(documents.map((d) => d.tenant))).toEqual(new Set(['acme', 'globex']));
    const bob = documents.find((d) => d.docId === 'TCK-1008')!;
    expect(bob.acl).toEqual(['group:support', 'user:bob']);
  });

  it('keeps unmapped fields as metadata by default, mapped ones out', async () => {
    const { documents } = await parseJsonl(fixture('tickets/tickets.jsonl'), TICKETS);
    const m = documents[0].metadata;
    expect(m).toEqual({ customer: { name: 'Initech', tier: 'business' }, status: 'solved', tags: ['api-keys', 'cli'] });
  });

  it('supports dotted paths and an explicit metadata list', async () => {
    const mapping: JsonlMapping = { id: 'id', title: 'customer.name', body: ['body'], metadata: ['customer.tier', 'status'] };
    const { documents } = await parseJsonl(fixture('tickets/tickets.jsonl'), mapping);
    expect(documents[0].title).toBe('Initech');
    expect(documents[0].metadata).toEqual({ 'customer.tier': 'business', status: 'solved' });
    expect(documents[0].acl).toBeUndefined();
  });

  it('blocks index the text exactly', async () => {
    const { documents } = await parseJsonl(fixture('tickets/tickets.jsonl'), TICKETS);
    for (const d of documents) {
      expect(d.blocks.length).toBeGreaterThanOrEqual(2);
      for (const b of d.blocks) expect(d.text.slice(b.start, b.end).trim()).toBe(d.text.slice(b.start, b.end));
    }
  });
});

describe('parseJsonl failures', () => {
  it('reports bad lines per record and keeps the good ones', async () => {
    const { documents, failures } = await parseJsonl(fixture('broken/tickets-bad.jsonl'), TICKETS, { rel: 'broken/tickets-bad.jsonl' });
    expect(documents.map((d) => d.docId)).toEqual(['BAD-1', 'BAD-4']);
    expect(documents[1].source).toBe('broken/tickets-bad.jsonl');
    expect(failures.map((f) => f.line)).toEqual([2, 4, 6, 7]);
    expect(failures[0]).toMatchObject({ source: 'broken/tickets-bad.jsonl:2' });
    expect(failures[0].error).toMatch(/not valid JSON/);
    expect(failures[1].error).toMatch(/missing id field "id"/);
    expect(failures[2].error).toMatch(/acl field "visibility"/);
    expect(failures[3].error).toMatch(/duplicate id "BAD-1".*line 1/);
  });

  it('fails a record with none of its body fields, and one whose line is not UTF-8', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-jsonl-'));
    const file = join(dir, 'x.jsonl');
    writeFileSync(file, Buffer.concat([
      Buffer.from('{"id": 1, "other": "x"}\n{"id": 2, "body": "caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}\r\n{"id": 3, "body": "fine"}'), // CRLF and no final newline
    ]));
    const { documents, failures } = await parseJsonl(file, { id: 'id', body: ['body'] });
    expect(documents.map((d) => d.docId)).toEqual(['3']);
    expect(documents[0].text).toBe('fine');
    expect(failures.map((f) => [f.line, f.error])).toEqual([
      [1, 'missing body field "body"'],
      [2, 'line is not valid UTF-8'],
    ]);
  });

  it('reads gzipped JSONL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rag-jsonl-'));
    const file = join(dir, 'x.jsonl.gz');
    writeFileSync(file, gzipSync('{"id":"a","body":"alpha"}\n{"id":"b","body":"beta"}\n'));
    const { documents } = await parseJsonl(file, { id: 'id', body: ['body'] });
    expect(documents.map((d) => d.text)).toEqual(['alpha', 'beta']);
  });
});

describe('getPath', () => {
  it('walks dotted paths, preferring an exact dotted key', () => {
    expect(getPath({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1);
    expect(getPath({ 'a.b': 2, a: { b: 3 } }, 'a.b')).toBe(2);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(getPath(null, 'a')).toBeUndefined();
  });
});
