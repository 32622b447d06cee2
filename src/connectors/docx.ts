import type { ParsedDocument } from '../engine/types.js';
import { InputError } from '../engine/errors.js';
import { parseHtml } from './html.js';
import { openPackage, packageMetadata } from './zip.js';

type Mammoth = typeof import('mammoth');
let mammothPromise: Promise<Mammoth> | undefined;
/** Loaded on first use: most ingests have no Word files, and `rag query` never needs it. */
function mammoth(): Promise<Mammoth> {
  mammothPromise ??= import('mammoth').then((m) => (m as unknown as { default?: Mammoth }).default ?? m);
  return mammothPromise;
}

/**
 * Word documents: mammoth turns the styles into HTML (Heading 1–6 → h1–h6, tables → table), and
 * the HTML connector does the rest, so headings become heading paths and tables stay atomic
 * exactly as for web pages.
 */
export async function parseDocx(bytes: Uint8Array, relPath: string): Promise<ParsedDocument> {
  const pkg = await openPackage(bytes, relPath, 'DOCX');
  if (!pkg.has('word/document.xml')) {
    throw new InputError(relPath, undefined, 'is a zip archive but not a Word document (no word/document.xml)', 'Rename it to its real type or exclude it.');
  }
  let html: string;
  try {
    const result = await (await mammoth()).convertToHtml({ buffer: Buffer.from(bytes) }, { externalFileAccess: false });
    html = result.value;
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InputError(relPath, undefined, `is not a readable DOCX file (${detail})`, 'Re-save it with Word or LibreOffice.');
  }
  const meta = await packageMetadata(pkg);
  // No <title> in mammoth's HTML: the core properties' title, else the first h1, else the file name.
  const doc = parseHtml(Buffer.from(`<html><body>${html}</body></html>`, 'utf8'), relPath);
  const metadata: Record<string, unknown> = {};
  if (meta.author) metadata.author = meta.author;
  return {
    ...doc,
    connector: 'docx',
    title: meta.title ?? doc.title,
    metadata,
  };
}
