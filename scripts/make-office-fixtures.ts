/**
 * Writes the Office, spreadsheet, mail, scanned-PDF and CJK fixtures (fixtures/office, mail,
 * scanned, cjk) and their broken counterparts (fixtures/broken), all from text in this file:
 * minimal but well-formed OOXML/ODF packages built with jszip, an XLSX written by exceljs, RFC 5322
 * mail, and an image-only PDF page rendered from one of our own text PDFs with pdfjs.
 * Every fact a test queries for appears in one file only.
 * Run: npx tsx scripts/make-office-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import JSZip from 'jszip';
import ExcelJS from 'exceljs';
import { buildPdf } from './make-fixture-pdfs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const write = (rel: string, data: string | Buffer | Uint8Array) => {
  mkdirSync(dirname(join(ROOT, rel)), { recursive: true });
  writeFileSync(join(ROOT, rel), data);
  console.log(`wrote fixtures/${rel}`);
};
/** Fixed timestamps make the zips byte-identical from run to run. */
const DATE = new Date('2024-05-01T09:00:00Z');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function zip(files: [string, string | Buffer][], opts: { storeFirst?: boolean } = {}): Promise<Buffer> {
  const z = new JSZip();
  files.forEach(([name, data], i) => z.file(name, data, { date: DATE, compression: opts.storeFirst && i === 0 ? 'STORE' : 'DEFLATE' }));
  return z.generateAsync({ type: 'nodebuffer', platform: 'UNIX' });
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const coreProps = (title: string, creator: string) =>
  `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${esc(title)}</dc:title><dc:creator>${esc(creator)}</dc:creator></cp:coreProperties>`;

// ---------------------------------------------------------------------------------------------
// DOCX: WordprocessingML with real heading styles, so mammoth maps them to h1/h2.

type DocxBlock = { h: 1 | 2 | 3; text: string } | { p: string } | { table: string[][] };

async function docx(title: string, blocks: DocxBlock[]): Promise<Buffer> {
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  const para = (text: string, style?: string) =>
    `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${esc(text)}</w:t></w:r></w:p>`;
  const body = blocks
    .map((b) => {
      if ('h' in b) return para(b.text, `Heading${b.h}`);
      if ('p' in b) return para(b.p);
      return `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>${b.table.map((row) => `<w:tr>${row.map((c) => `<w:tc>${para(c)}</w:tc>`).join('')}</w:tr>`).join('')}</w:tbl>`;
    })
    .join('');
  const style = (id: string, name: string) => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`;
  return zip([
    ['[Content_Types].xml', `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`],
    ['_rels/.rels', `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`],
    ['word/_rels/document.xml.rels', `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`],
    ['word/document.xml', `${XML}<w:document ${W}><w:body>${body}</w:body></w:document>`],
    ['word/styles.xml', `${XML}<w:styles ${W}>${style('Heading1', 'heading 1')}${style('Heading2', 'heading 2')}${style('Heading3', 'heading 3')}</w:styles>`],
    ['docProps/core.xml', coreProps(title, 'Acme Legal')],
  ]);
}

// ---------------------------------------------------------------------------------------------
// PPTX: PresentationML slides in presentation order, title placeholders, a table, speaker notes.

interface Slide {
  title: string;
  bullets?: string[];
  table?: string[][];
  notes?: string;
}

async function pptx(title: string, slides: Slide[]): Promise<Buffer> {
  const NS = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"';
  const paras = (lines: string[]) => lines.map((l) => `<a:p><a:r><a:rPr lang="en-US"/><a:t>${esc(l)}</a:t></a:r></a:p>`).join('');
  const shape = (id: number, ph: string | null, lines: string[]) =>
    `<p:sp><p:nvSpPr><p:cNvPr id="${id}" name="Shape ${id}"/><p:cNvSpPr/><p:nvPr>${ph ? `<p:ph type="${ph}"/>` : ''}</p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>${paras(lines)}</p:txBody></p:sp>`;
  const table = (rows: string[][]) =>
    `<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="9" name="Table"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl>${rows.map((r) => `<a:tr h="0">${r.map((c) => `<a:tc><a:txBody><a:bodyPr/>${paras([c])}</a:txBody></a:tc>`).join('')}</a:tr>`).join('')}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>`;
  const files: [string, string][] = [];
  const rel = (id: string, type: string, target: string) => `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`;
  const rels = (items: string[]) => `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${items.join('')}</Relationships>`;
  // Slide files are numbered in reverse so the order must come from presentation.xml, as in real decks.
  const fileNo = (i: number) => slides.length - i;
  slides.forEach((s, i) => {
    const n = fileNo(i);
    const tree = [shape(2, 'title', [s.title]), s.bullets ? shape(3, 'body', s.bullets) : '', s.table ? table(s.table) : ''].join('');
    files.push([`ppt/slides/slide${n}.xml`, `${XML}<p:sld ${NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${tree}</p:spTree></p:cSld></p:sld>`]);
    if (s.notes) {
      files.push([`ppt/slides/_rels/slide${n}.xml.rels`, rels([rel('rId1', 'notesSlide', `../notesSlides/notesSlide${n}.xml`)])]);
      files.push([`ppt/notesSlides/notesSlide${n}.xml`, `${XML}<p:notes ${NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${shape(2, 'sldImg', [])}${shape(3, 'body', [s.notes])}</p:spTree></p:cSld></p:notes>`]);
    }
  });
  const ids = slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 1}"/>`).join('');
  return zip([
    ['[Content_Types].xml', `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>${slides.map((_, i) => `<Override PartName="/ppt/slides/slide${fileNo(i)}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`).join('')}</Types>`],
    ['_rels/.rels', rels([rel('rId1', 'officeDocument', 'ppt/presentation.xml'), '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'])],
    ['ppt/presentation.xml', `${XML}<p:presentation ${NS}><p:sldIdLst>${ids}</p:sldIdLst></p:presentation>`],
    ['ppt/_rels/presentation.xml.rels', rels(slides.map((_, i) => rel(`rId${i + 1}`, 'slide', `slides/slide${fileNo(i)}.xml`)))],
    ...files,
    ['docProps/core.xml', coreProps(title, 'Acme Product')],
  ]);
}

// ---------------------------------------------------------------------------------------------
// OpenDocument: mimetype first and stored, manifest, content.xml, meta.xml.

const ODF_NS =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"';

async function odf(mimetype: string, body: string, title: string): Promise<Buffer> {
  return zip(
    [
      ['mimetype', mimetype],
      ['META-INF/manifest.xml', `${XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="${mimetype}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>`],
      ['content.xml', `${XML}<office:document-content ${ODF_NS}><office:body>${body}</office:body></office:document-content>`],
      ['meta.xml', `${XML}<office:document-meta ${ODF_NS}><office:meta><dc:title>${esc(title)}</dc:title><meta:initial-creator>Acme Operations</meta:initial-creator></office:meta></office:document-meta>`],
    ],
    { storeFirst: true },
  );
}

const odfCells = (cells: string[]) => cells.map((c) => `<table:table-cell office:value-type="string"><text:p>${esc(c)}</text:p></table:table-cell>`).join('');

// ---------------------------------------------------------------------------------------------
// An image-only PDF page: our own text PDF rendered by pdfjs (with its bundled standard fonts),
// then embedded as a grey-scale image in a new PDF, so the page has pixels and no text layer.

async function renderGray(pdfBytes: Buffer, dpi: number): Promise<{ width: number; height: number; gray: Buffer }> {
  const require = createRequire(import.meta.url);
  const fonts = join(dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const pdf = await getDocument({ data: new Uint8Array(pdfBytes), standardFontDataUrl: fonts, useSystemFonts: false, isEvalSupported: false, disableFontFace: true, verbosity: 0 }).promise;
  const page = await pdf.getPage(1);
  const viewport = page.getViewport({ scale: dpi / 72 });
  const factory = (pdf as unknown as { canvasFactory: { create(w: number, h: number): { canvas: any; context: any } } }).canvasFactory;
  const { canvas, context } = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({ canvasContext: context, viewport, canvas }).promise;
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height) as { data: Uint8ClampedArray; width: number; height: number };
  const gray = Buffer.alloc(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!);
  await pdf.destroy();
  return { width, height, gray };
}

/** A PDF whose pages are either text (Helvetica, a text layer) or an image (no text layer). */
function mixedPdf(pages: ({ text: string[] } | { image: { width: number; height: number; gray: Buffer } })[]): Buffer {
  const objects: Buffer[] = [];
  const add = (b: string | Buffer) => objects.push(Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1'));
  add('<< /Type /Catalog /Pages 2 0 R >>');
  const kids: number[] = [];
  const pageObjs: (string | Buffer)[][] = [];
  let next = 4; // 1 catalog, 2 pages, 3 font
  for (const p of pages) {
    const pageNo = next;
    kids.push(pageNo);
    if ('text' in p) {
      const ops = ['BT', '/F1 12 Tf'];
      p.text.forEach((line, i) => ops.push(`1 0 0 1 72 ${720 - i * 18} Tm`, `(${line.replace(/[\\()]/g, (c) => `\\${c}`)}) Tj`));
      ops.push('ET');
      const stream = ops.join('\n');
      pageObjs.push([
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageNo + 1} 0 R >>`,
        `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
      ]);
      next += 2;
    } else {
      const { width, height, gray } = p.image;
      const data = deflateSync(gray, { level: 9 });
      const stream = 'q 612 0 0 792 0 0 cm /Im1 Do Q';
      pageObjs.push([
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 ${pageNo + 2} 0 R >> >> /Contents ${pageNo + 1} 0 R >>`,
        `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
        Buffer.concat([
          Buffer.from(`<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`, 'latin1'),
          data,
          Buffer.from('\nendstream', 'latin1'),
        ]),
      ]);
      next += 3;
    }
  }
  add(`<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  for (const objs of pageObjs) for (const o of objs) add(o);
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let size = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(size);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(chunk);
    size += chunk.length;
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) tail += `${String(off).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${size}\n%%EOF\n`;
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Mail

const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');
const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n');

// ---------------------------------------------------------------------------------------------
// A password-protected Office file: an OLE compound file (CFB) holding EncryptionInfo and
// EncryptedPackage streams, the layout Office writes; the payload is pseudo-random bytes.

function encryptedOffice(): Buffer {
  const SECTOR = 512;
  const streamSize = 4096; // at the mini-stream cutoff, so both streams live in regular sectors
  const perStream = streamSize / SECTOR;
  const bytes = (seed: number) => {
    const b = Buffer.alloc(streamSize);
    let x = seed;
    for (let i = 0; i < b.length; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return b;
  };
  const info = bytes(5);
  info.writeUInt16LE(4, 0); // agile encryption, version 4.4
  info.writeUInt16LE(4, 2);
  Buffer.from('<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>').copy(info, 8);
  const pkg = bytes(9);
  const header = Buffer.alloc(SECTOR);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header, 0);
  header.writeUInt16LE(0x3e, 24);
  header.writeUInt16LE(3, 26);
  header.writeUInt16LE(0xfffe, 28);
  header.writeUInt16LE(9, 30);
  header.writeUInt16LE(6, 32);
  header.writeUInt32LE(1, 44); // one FAT sector
  header.writeUInt32LE(1, 48); // directory starts at sector 1
  header.writeUInt32LE(4096, 56);
  header.writeUInt32LE(0xfffffffe, 60);
  header.writeUInt32LE(0xfffffffe, 68);
  header.writeUInt32LE(0, 76); // DIFAT[0] = FAT at sector 0
  for (let i = 1; i < 109; i++) header.writeUInt32LE(0xffffffff, 76 + i * 4);
  const fat = Buffer.alloc(SECTOR, 0xff);
  fat.writeUInt32LE(0xfffffffd, 0); // sector 0: FAT
  fat.writeUInt32LE(0xfffffffe, 4); // sector 1: directory
  const chain = (first: number) => {
    for (let s = first; s < first + perStream; s++) fat.writeUInt32LE(s === first + perStream - 1 ? 0xfffffffe : s + 1, s * 4);
  };
  chain(2);
  chain(2 + perStream);
  const entry = (name: string, type: number, start: number, size: number, child = 0xffffffff, right = 0xffffffff) => {
    const e = Buffer.alloc(128);
    Buffer.from(`${name}\0`, 'utf16le').copy(e, 0);
    e.writeUInt16LE((name.length + 1) * 2, 64);
    e.writeUInt8(type, 66);
    e.writeUInt8(1, 67);
    e.writeUInt32LE(0xffffffff, 68);
    e.writeUInt32LE(right, 72);
    e.writeUInt32LE(child, 76);
    e.writeUInt32LE(start, 116);
    e.writeUInt32LE(size, 120);
    return e;
  };
  const dir = Buffer.concat([
    entry('Root Entry', 5, 0xfffffffe, 0, 1),
    entry('EncryptionInfo', 2, 2, streamSize, 0xffffffff, 2),
    entry('EncryptedPackage', 2, 2 + perStream, streamSize),
    Buffer.alloc(128),
  ]);
  return Buffer.concat([header, fat, dir, info, pkg]);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  write(
    'office/master-services-agreement.docx',
    await docx('Master Services Agreement', [
      { h: 1, text: 'Master Services Agreement' },
      { p: 'This agreement is between Acme Cloud Inc. and the customer named in the order form. It covers the hosted workspace service and the support plans listed below.' },
      { h: 2, text: 'Support plans' },
      { table: [['Plan', 'First response', 'Channels'], ['Standard', '1 business day', 'Email'], ['Premium', '4 hours', 'Email, phone'], ['Platinum', '30 minutes', 'Email, phone, dedicated Slack channel']] },
      { h: 2, text: 'Termination' },
      { p: 'Either party may terminate this agreement for convenience with ninety days written notice. A customer who terminates during the first year pays an early termination fee equal to three monthly fees, as set out in the Marmot schedule.' },
      { h: 3, text: 'Return of data' },
      { p: 'After termination the customer has thirty days to export its data; afterwards the workspace is deleted.' },
    ]),
  );

  write(
    'office/product-roadmap.pptx',
    await pptx('Product roadmap 2025', [
      { title: 'Product roadmap 2025', bullets: ['Where Acme Cloud is heading next year', 'Product management, internal'] },
      { title: 'Q3 priorities', bullets: ['Project Heron ships offline sync for the desktop app in September', 'Workspace templates move to general availability'], notes: 'Remind the sales team that Heron is not available on the Free plan.' },
      { title: 'Launch calendar', table: [['Launch', 'Month'], ['Heron offline sync', 'September'], ['Osprey audit exports', 'November']] },
    ]),
  );

  write(
    'office/office-handbook.odt',
    await odf(
      'application/vnd.oasis.opendocument.text',
      `<office:text><text:h text:outline-level="1">Office handbook</text:h><text:p>Practical information for everyone working at the Acme Cloud head office.</text:p><text:h text:outline-level="2">Meeting rooms</text:h><text:p>The Wombat lounge on the fourth floor seats twelve people and has the only video wall in the building.</text:p><text:list><text:list-item><text:p>Book rooms in the calendar, at most two weeks ahead.</text:p></text:list-item><text:list-item><text:p>Leave the room as you found it.</text:p></text:list-item></text:list><text:h text:outline-level="2">Deliveries</text:h><text:p>Parcels are kept at reception for five working days.</text:p><table:table table:name="Hours"><table:table-row>${odfCells(['Desk', 'Hours'])}</table:table-row><table:table-row>${odfCells(['Reception', '08:00 to 18:00'])}</table:table-row></table:table></office:text>`,
      'Office handbook',
    ),
  );

  write(
    'office/kickoff.odp',
    await odf(
      'application/vnd.oasis.opendocument.presentation',
      `<office:presentation><draw:page draw:name="page1"><draw:frame presentation:class="title"><draw:text-box><text:p>Migration kickoff</text:p></draw:text-box></draw:frame><draw:frame presentation:class="subtitle"><draw:text-box><text:p>Infrastructure team, May 2024</text:p></draw:text-box></draw:frame></draw:page><draw:page draw:name="page2"><draw:frame presentation:class="title"><draw:text-box><text:p>Kestrel cut-over plan</text:p></draw:text-box></draw:frame><draw:frame presentation:class="outline"><draw:text-box><text:p>The Kestrel database cut-over happens on the second Sunday of June at 02:00 UTC.</text:p><text:p>Rollback is possible for six hours.</text:p></draw:text-box></draw:frame><presentation:notes><draw:frame presentation:class="notes"><draw:text-box><text:p>Ask the on-call engineer to confirm the backup first.</text:p></draw:text-box></draw:frame></presentation:notes></draw:page></office:presentation>`,
      'Migration kickoff',
    ),
  );

  const wb = new ExcelJS.Workbook();
  wb.creator = 'Acme Sales';
  wb.title = 'Product catalog';
  wb.created = DATE;
  wb.modified = DATE;
  const products = wb.addWorksheet('Products');
  products.addRow(['SKU', 'Name', 'Price (USD)', 'Category', 'Launched']);
  const catalog: [string, string, number, string, Date][] = [
    ['P-1001', 'Standing desk', 480, 'Furniture', new Date('2023-02-01T00:00:00Z')],
    ['P-1002', 'Ergonomic chair', 320, 'Furniture', new Date('2023-02-01T00:00:00Z')],
    ['P-1003', 'Quokka desk lamp', 59.5, 'Lighting', new Date('2024-03-15T00:00:00Z')],
    ['P-1004', 'Monitor arm', 89, 'Accessories', new Date('2023-09-10T00:00:00Z')],
  ];
  for (const row of catalog) products.addRow(row);
  const suppliers = wb.addWorksheet('Suppliers');
  suppliers.addRow(['Supplier', 'Country', 'Lead time (days)']);
  suppliers.addRow(['Numbat Metals', 'Australia', 21]);
  suppliers.addRow(['Fjord Textiles', 'Norway', 14]);
  write('office/product-catalog.xlsx', Buffer.from(await wb.xlsx.writeBuffer()));

  write(
    'office/warehouse-inventory.ods',
    await odf(
      'application/vnd.oasis.opendocument.spreadsheet',
      `<office:spreadsheet><table:table table:name="Warehouse"><table:table-row>${odfCells(['Item', 'Location', 'Quantity'])}</table:table-row><table:table-row>${odfCells(['Bilby storage crate', 'Aisle 12', '40'])}</table:table-row><table:table-row>${odfCells(['Cable ties', 'Aisle 3', '900'])}</table:table-row><table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="3"/></table:table-row></table:table></office:spreadsheet>`,
      'Warehouse inventory',
    ),
  );

  write('office/office-locations.csv', 'City,Address,Opened,Capacity\nBerlin,Torstrasse 90,2019,120\nLisbon,Rua Augusta 24,2021,60\nOsaka,Namba Parks Tower 9F,2023,45\n');
  // Rows mapped to documents by a `tables` rule (see fixtures/README.md): id, title, ACL, metadata.
  write(
    'office/spare-parts.csv',
    'part_no,name,description,category,visibility\n' +
      'SP-01,Hinge kit,Replacement hinges for the standing desk frame,desk,public\n' +
      'SP-02,Gas spring,Gas spring for the ergonomic chair; rated for 120 kg,chair,group:support\n' +
      'SP-03,Lamp diffuser,Frosted diffuser for the Quokka desk lamp,lighting,"group:support, group:hr"\n',
  );

  // Mail: a message with a PDF and a text attachment, and an mbox holding a thread.
  const attachmentPdf = buildPdf({ file: 'freight-quote.pdf', title: 'Freight quote', pages: ['# Freight quote\n\nDugong Freight quotes 1,850 euros for the pallet shipment from Rotterdam to Lisbon.'] });
  write(
    'mail/invoice-dispute.eml',
    CRLF(`From: Maria Lopez <maria.lopez@globex.example>
To: Billing Team <billing@acme.example>
Cc: Account Manager <am@acme.example>
Subject: Disputed invoice INV-2024-0412
Date: Tue, 14 May 2024 10:12:00 +0200
Message-ID: <dispute-0412@globex.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello billing team,

we were charged twice for May. Please issue credit note CN-7781 for the duplicate charge
and confirm by Friday. The freight quote for the replacement desks is attached.

Regards, María

--b1
Content-Type: application/pdf; name="freight-quote.pdf"
Content-Disposition: attachment; filename="freight-quote.pdf"
Content-Transfer-Encoding: base64

${b64(attachmentPdf)}
--b1
Content-Type: text/plain; charset=utf-8; name="po-numbers.txt"
Content-Disposition: attachment; filename="po-numbers.txt"

Purchase orders affected: PO-5531 and PO-5532.
--b1--
`),
  );

  const msg = (from: string, subject: string, date: string, id: string, body: string, extra = '') =>
    `From ${from.replace(/^.*<|>$/g, '')} ${date}\nFrom: ${from}\nTo: release-team@acme.example\nSubject: ${subject}\nDate: ${date}\nMessage-ID: <${id}>\n${extra}Content-Type: text/plain; charset=utf-8\n\n${body}\n\n`;
  write(
    'mail/release-team.mbox',
    msg('Tom Becker <tom@acme.example>', 'Release train schedule', 'Mon, 3 Jun 2024 09:00:00 +0000', 'train-1@acme.example', 'The Pangolin release train leaves every Thursday at 15:00 UTC.\nCut your branches by Wednesday noon.') +
      msg('Ana Silva <ana@acme.example>', 'Re: Release train schedule', 'Mon, 3 Jun 2024 09:30:00 +0000', 'train-2@acme.example', 'Thanks Tom. Does the Thursday train also carry hotfixes?\n\n> The Pangolin release train leaves every Thursday at 15:00 UTC.', 'In-Reply-To: <train-1@acme.example>\nReferences: <train-1@acme.example>\n') +
      msg('Tom Becker <tom@acme.example>', 'Re: Release train schedule', 'Mon, 3 Jun 2024 10:05:00 +0000', 'train-3@acme.example', 'Hotfixes go out on demand with the emergency change process; they never wait for the train.\n>From the change policy: two approvers are required.', 'In-Reply-To: <train-2@acme.example>\nReferences: <train-1@acme.example> <train-2@acme.example>\n') +
      msg('Facilities <facilities@acme.example>', 'Parking garage closed', 'Tue, 4 Jun 2024 08:00:00 +0000', 'garage@acme.example', 'The parking garage is closed on Saturday for resurfacing.'),
  );

  // Scanned PDF: page 1 has a text layer, page 2 is only an image of text.
  const scanSource = buildPdf({
    file: 'scan-source.pdf',
    pages: ['# Vault procedures\n\nThe Axolotl vault access code rotates every 45 days.\n\nTwo custodians must be present to open the vault, and every opening is logged in the vault register.'],
  });
  const image = await renderGray(scanSource, 150);
  write('scanned/vault-procedures.pdf', mixedPdf([{ text: ['Vault procedures (scanned annex follows)', 'Page 2 of this file is a scan of the signed procedure.'] }, { image }]));

  // CJK: Chinese and Japanese documents whose facts appear in one file each.
  write('cjk/zh/panda-base.md', '# 熊猫基地参观指南\n\n成都大熊猫繁育研究基地每天上午七点半开放，下午六点闭园。建议游客上午九点以前入园，因为熊猫在早上最活跃。\n\n## 门票\n\n成人门票五十五元，身高一米二以下的儿童免费。\n');
  write('cjk/zh/tea-garden.md', '# 龙井茶园\n\n西湖龙井茶的采摘季从三月下旬开始。明前茶在清明节之前采摘，价格最高。\n\n茶园每周一休息，其他日子上午八点到下午五点对外开放。\n');
  write('cjk/ja/fuji-post-office.md', '# 富士山頂郵便局\n\n富士山の山頂にある郵便局は、七月十日から八月下旬までの夏の間だけ営業しています。登山者はここから記念の手紙やはがきを送ることができます。\n\n## 営業時間\n\n営業時間は午前六時から午後二時までです。天候が悪い日は閉まることがあります。\n');
  write('cjk/ja/kyoto-temples.md', '# 京都の寺院めぐり\n\n清水寺の舞台は釘を一本も使わずに建てられています。春は桜、秋は紅葉の名所として知られています。\n\n拝観料は大人四百円です。朝六時から参拝できます。\n');

  // Broken inputs (fixtures/broken): each must be reported with its path and reason.
  const good = await docx('Truncated', [{ h: 1, text: 'Truncated' }, { p: 'This file was cut off in transit.' }]);
  write('broken/truncated.docx', good.subarray(0, Math.floor(good.length * 0.6)));
  write('broken/encrypted.docx', encryptedOffice());
  write('broken/ragged.csv', 'name,team,room\nAlice,Platform,2.14\nBob,Billing,3.01,extra,cells\nCarol,Support,1.07\n');
  write(
    'broken/bad-encoding.eml',
    Buffer.concat([
      Buffer.from(CRLF('From: Legacy System <noreply@legacy.example>\nTo: ops@acme.example\nSubject: Nightly report\nDate: Wed, 5 Jun 2024 02:00:00 +0000\nMessage-ID: <nightly@legacy.example>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nNightly report: caf'), 'latin1'),
      Buffer.from([0xe9, 0x20, 0x6f, 0x6b]), // Latin-1 "é ok" in a body declared UTF-8
      Buffer.from('\r\n'),
    ]),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
