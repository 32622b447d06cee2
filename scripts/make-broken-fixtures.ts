/**
 * Writes deliberately broken inputs into fixtures/broken/, for the connectors' error tests.
 * Binary ones are generated here so the repo never needs a hand-edited binary.
 * Run: npx tsx scripts/make-broken-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPdf } from './make-fixture-pdfs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'broken');
mkdirSync(root, { recursive: true });
const write = (name: string, data: string | Buffer) => {
  writeFileSync(join(root, name), data);
  console.log(`wrote fixtures/broken/${name}`);
};

// A PDF header followed by a truncated body and bytes from a deterministic generator.
const valid = buildPdf({ file: 'x.pdf', pages: ['# Truncated\n\nThis document was cut off in transit.'] });
const garbage = Buffer.alloc(512);
let seed = 42;
for (let i = 0; i < garbage.length; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  garbage[i] = seed >>> 24;
}
write('broken.pdf', Buffer.concat([valid.subarray(0, 180), garbage]));

write('not-really.pdf', 'This is a plain text note that someone saved with a .pdf extension.\n');

// A valid PDF whose pages draw nothing: what a scan without OCR looks like to a text extractor.
write('no-text.pdf', buildPdf({ file: 'no-text.pdf', pages: ['', ''] }));

// A PDF whose trailer declares standard encryption with a user password we do not know.
const plain = buildPdf({ file: 'encrypted.pdf', pages: ['# Secret\n\nEncrypted content.'] }).toString('latin1');
const hex32 = (b: number) => Array.from({ length: 32 }, (_, i) => ((i * 37 + b) & 0xff).toString(16).padStart(2, '0')).join('');
const encryptObj = `<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${hex32(7)}> /U <${hex32(11)}> /P -44 >>`;
const xrefAt = plain.lastIndexOf('xref\n');
const objCount = Number(/\/Size (\d+)/.exec(plain)![1]);
const withEncrypt = `${plain.slice(0, xrefAt)}${objCount} 0 obj\n${encryptObj}\nendobj\n`;
const offsets = [...withEncrypt.matchAll(/(\d+) 0 obj\n/g)].map((m) => m.index!);
let xref = `xref\n0 ${objCount + 1}\n0000000000 65535 f \n`;
for (const off of offsets) xref += `${String(off).padStart(10, '0')} 00000 n \n`;
const trailer =
  `trailer\n<< /Size ${objCount + 1} /Root 1 0 R /Encrypt ${objCount} 0 R /ID [<${hex32(3).slice(0, 32)}> <${hex32(3).slice(0, 32)}>] >>\n` +
  `startxref\n${Buffer.byteLength(withEncrypt, 'latin1')}\n%%EOF\n`;
write('encrypted.pdf', Buffer.from(withEncrypt + xref + trailer, 'latin1'));

// "Café crème" etc. in Latin-1: 0xE9 and 0xE8 are not valid UTF-8 on their own (line 3).
write('latin1.txt', Buffer.concat([
  Buffer.from('Menu of the staff canteen\n\n', 'latin1'),
  Buffer.from('Caf\xe9 cr\xe8me, 2 euros\n', 'latin1'),
]));

write('binary.md', Buffer.concat([Buffer.from('# Looks like Markdown\n\nBut then:'), Buffer.from([0, 1, 2, 0, 0xff, 0xfe, 0]), Buffer.from('\n')]));

// YAML error on file line 4 ("summary: a: b" — nested mapping in a compact mapping).
write('bad-frontmatter.md', '---\ntitle: Broken front matter\ncategory: guides\nsummary: a: b\n---\n\n# Broken front matter\n\nThe body is fine.\n');

// acl must be a principal or a list of principals (file line 3).
write('bad-acl.md', '---\ntitle: Bad ACL\nacl: 42\n---\n\n# Bad ACL\n\nBody text.\n');

write('tickets-bad.jsonl', [
  JSON.stringify({ id: 'BAD-1', subject: 'Good record', body: 'This one parses.', visibility: ['group:support'], tenant: 'acme' }),
  '{"id": "BAD-2", "subject": "truncated record", "body": "no closing brace"',
  '',
  JSON.stringify({ subject: 'No id here', body: 'Missing the id field.' }),
  JSON.stringify({ id: 'BAD-4', subject: 'Good again', body: 'Second good record.', tenant: 'acme' }),
  JSON.stringify({ id: 'BAD-5', subject: 'Bad acl', body: 'acl is a number.', visibility: 7 }),
  JSON.stringify({ id: 'BAD-1', subject: 'Duplicate id', body: 'Same id as line 1.' }),
].join('\n') + '\n');
