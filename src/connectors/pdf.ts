import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Block, ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { baseTitle, normaliseText, paragraphBlocks } from './normalise.js';
import { DEFAULT_OCR, recognise, tesseractAvailable, TESSERACT_FIX, type OcrOptions } from './ocr.js';

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

/** A PDF's document plus what could not be read of it: pages without text that OCR could not fill. */
export interface PdfResult {
  doc: ParsedDocument;
  failures: { page: number; error: string }[];
  notices: string[];
}

/** The document of a PDF; pages OCR could not read are left out (parsePdfDetailed reports them). */
export async function parsePdf(bytes: Uint8Array, relPath: string, ocr: OcrOptions = DEFAULT_OCR): Promise<ParsedDocument> {
  return (await parsePdfDetailed(bytes, relPath, ocr)).doc;
}

/**
 * A PDF, one paragraph block per blank-line-separated paragraph, each carrying its 1-based page.
 * Pages are joined with a blank line in `text`; the chunker never lets a chunk cross a page.
 * A page without a text layer (a scan) is rendered and read by tesseract; its blocks are marked
 * `ocr`. Without tesseract such pages are reported page by page, never silently dropped.
 */
export async function parsePdfDetailed(bytes: Uint8Array, relPath: string, ocr: OcrOptions = DEFAULT_OCR): Promise<PdfResult> {
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
    const failures: PdfResult['failures'] = [];
    const notices: string[] = [];
    const ocrPages: number[] = [];
    let textless = 0;
    for (let p = 1; p <= pdf.numPages; p++) {
      let pageText: string;
      let fromOcr = false;
      try {
        const page = await pdf.getPage(p);
        const content = await page.getTextContent();
        pageText = normaliseText(joinItems(content.items as unknown as TextItemLike[]));
        if (!pageText) {
          textless++;
          const r = await ocrPage(pdf, page, ocr);
          if ('text' in r) {
            pageText = normaliseText(r.text);
            fromOcr = pageText !== '';
          } else {
            failures.push({ page: p, error: r.error });
            if (r.notice && !notices.includes(r.notice)) notices.push(r.notice);
          }
        }
        page.cleanup();
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new InputError(relPath, undefined, `page ${p} could not be read (${detail})`, 'Re-export the PDF; the file is corrupt.');
      }
      if (!pageText) continue;
      if (text) text += '\n\n';
      const pageBlocks = paragraphBlocks(pageText, text.length, p);
      if (fromOcr) {
        for (const b of pageBlocks) b.ocr = true;
        ocrPages.push(p);
      }
      blocks.push(...pageBlocks);
      text += pageText;
    }
    if (!text) {
      if (failures.length === textless && failures.length > 0) {
        throw new InputError(relPath, undefined, `contains no text layer (it is probably a scanned image) and could not be OCRed: ${failures[0]!.error}`, failures[0]!.error.includes('not installed') ? TESSERACT_FIX : 'Re-export the PDF, or OCR it first (e.g. `ocrmypdf in.pdf out.pdf`).');
      }
      throw new InputError(relPath, undefined, 'contains no extractable text, not even by OCR (its pages are blank or unreadable images)', 'Check the file: if its pages do show text, OCR it with another tool (e.g. `ocrmypdf in.pdf out.pdf`); otherwise exclude it.');
    }
    const info = ((await pdf.getMetadata().catch(() => undefined))?.info ?? {}) as Record<string, unknown>;
    const metaTitle = typeof info.Title === 'string' ? info.Title.trim() : '';
    const firstLine = text.split('\n', 1)[0].trim();
    const metadata: Record<string, unknown> = { pages: pdf.numPages };
    if (typeof info.Author === 'string' && info.Author.trim()) metadata.author = info.Author.trim();
    if (ocrPages.length) metadata.ocr_pages = ocrPages;
    const doc: ParsedDocument = {
      docId: relPath,
      source: relPath,
      connector: 'pdf',
      title: metaTitle || (firstLine.length <= 200 ? firstLine : '') || baseTitle(relPath),
      text,
      blocks,
      metadata,
    };
    return { doc, failures, notices };
  } finally {
    await pdf.destroy().catch(() => {});
  }
}

type PdfDoc = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;
type PdfPage = Awaited<ReturnType<PdfDoc['getPage']>>;
interface CanvasAndContext {
  canvas: { toBuffer(mime: 'image/png'): Buffer };
  context: unknown;
}

/** Renders a page at the OCR resolution and reads it with tesseract, or says why it could not. */
async function ocrPage(pdf: PdfDoc, page: PdfPage, ocr: OcrOptions): Promise<{ text: string } | { error: string; notice?: string }> {
  if (!(await tesseractAvailable())) {
    return {
      error: 'has no text layer (a scanned image?) and was not OCRed: tesseract is not installed',
      notice: `tesseract is not installed, so scanned PDF pages are reported instead of OCRed; ${TESSERACT_FIX}`,
    };
  }
  let png: Buffer;
  try {
    const viewport = page.getViewport({ scale: ocr.dpi / 72 });
    // pdfjs's Node canvas factory draws with @napi-rs/canvas (a prebuilt binary in its npm package).
    const factory = (pdf as unknown as { canvasFactory: { create(w: number, h: number): CanvasAndContext; destroy(c: CanvasAndContext): void } }).canvasFactory;
    const cc = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
    await page.render({ canvasContext: cc.context as never, viewport, canvas: cc.canvas as never }).promise;
    png = cc.canvas.toBuffer('image/png');
    factory.destroy(cc);
  } catch (err) {
    return { error: `has no text layer and could not be rendered for OCR (${err instanceof Error ? err.message : String(err)})` };
  }
  try {
    return { text: await recognise(png, ocr) };
  } catch (err) {
    return { error: `has no text layer and OCR failed (${err instanceof Error ? err.message : String(err)})` };
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
