import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Block, ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { baseTitle, normaliseText, paragraphBlocks } from './normalise.js';

// pdfjs wants a directory path (with trailing slash) to load the 14 standard fonts' metrics from;
// in Node it reads it with fs, so a plain path works where a URL would not.
const require = createRequire(import.meta.url);
const STANDARD_FONTS = join(dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjsPromise: Promise<PdfJs> | undefined;
/** Loaded lazily: pdfjs is large and most ingests have no PDFs. */
function pdfjs(): Promise<PdfJs> {
  pdfjsPromise ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsPromise;
}

interface TextItemLike {
  str: string;
  hasEOL: boolean;
  height: number;
  transform: number[];
}

/**
 * A PDF, one paragraph block per blank-line-separated paragraph, each carrying its 1-based page.
 * Pages are joined with a blank line in `text`; the chunker never lets a chunk cross a page.
 */
export async function parsePdf(bytes: Uint8Array, relPath: string): Promise<ParsedDocument> {
  const { getDocument } = await pdfjs();
  // pdfjs takes ownership of (and may detach) the buffer it is given, so hand it a copy.
  const task = getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: STANDARD_FONTS,
    useSystemFonts: false,
    isEvalSupported: false,
    disableFontFace: true,
    verbosity: 0,
  });
  let pdf;
  try {
    pdf = await task.promise;
  } catch (err) {
    await task.destroy().catch(() => {});
    const name = (err as { name?: string })?.name;
    if (name === 'PasswordException') {
      throw new InputError(relPath, undefined, 'is an encrypted (password-protected) PDF; its text cannot be read', 'Remove the password (e.g. `qpdf --decrypt in.pdf out.pdf`) or exclude the file.');
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new InputError(relPath, undefined, `is not a readable PDF (${detail})`, 'Re-export or re-download the PDF; the file is corrupt or truncated.');
  }

  try {
    let text = '';
    const blocks: Block[] = [];
    for (let p = 1; p <= pdf.numPages; p++) {
      let pageText: string;
      try {
        const page = await pdf.getPage(p);
        const content = await page.getTextContent();
        pageText = normaliseText(joinItems(content.items as unknown as TextItemLike[]));
        page.cleanup();
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new InputError(relPath, undefined, `page ${p} could not be read (${detail})`, 'Re-export the PDF; the file is corrupt.');
      }
      if (!pageText) continue;
      if (text) text += '\n\n';
      blocks.push(...paragraphBlocks(pageText, text.length, p));
      text += pageText;
    }
    if (!text) {
      throw new InputError(relPath, undefined, 'contains no extractable text (it is probably a scanned image)', 'Run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) or exclude the file.');
    }
    const info = ((await pdf.getMetadata().catch(() => undefined))?.info ?? {}) as Record<string, unknown>;
    const metaTitle = typeof info.Title === 'string' ? info.Title.trim() : '';
    const firstLine = text.split('\n', 1)[0].trim();
    const metadata: Record<string, unknown> = { pages: pdf.numPages };
    if (typeof info.Author === 'string' && info.Author.trim()) metadata.author = info.Author.trim();
    return {
      docId: relPath,
      source: relPath,
      connector: 'pdf',
      title: metaTitle || (firstLine.length <= 200 ? firstLine : '') || baseTitle(relPath),
      text,
      blocks,
      metadata,
    };
  } finally {
    await pdf.destroy().catch(() => {});
  }
}

/**
 * Rebuilds a page's lines from positioned text items. pdfjs marks line ends (`hasEOL`, often on
 * an empty item); a vertical jump of more than ~1.5 lines means a paragraph break, which we keep
 * as a blank line so paragraphs become blocks.
 */
function joinItems(items: TextItemLike[]): string {
  let out = '';
  let lineY: number | undefined;
  let lineH = 0;
  let eol = false;
  for (const item of items) {
    if (typeof item.str !== 'string') continue; // marked-content items
    if (item.str === '') {
      if (item.hasEOL) eol = true;
      continue;
    }
    const y = item.transform[5];
    const h = item.height || Math.abs(item.transform[3]) || 10;
    if (out && lineY !== undefined) {
      const dy = Math.abs(lineY - y);
      const newLine = eol || dy > 0.5 * Math.min(h, lineH || h);
      if (newLine) out += dy > 1.5 * Math.max(h, lineH) ? '\n\n' : '\n';
    }
    out += item.str;
    lineY = y;
    lineH = h;
    eol = item.hasEOL;
  }
  return out;
}
