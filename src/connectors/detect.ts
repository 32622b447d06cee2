import type { ConnectorKind } from '../engine/types.js';
import { InputError } from '../engine/errors.js';

const BY_EXTENSION: Record<string, ConnectorKind> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.mdx': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.txt': 'text',
  '.text': 'text',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.docx': 'docx',
  '.pptx': 'pptx',
  '.xlsx': 'xlsx',
  '.odt': 'odt',
  '.odp': 'odp',
  '.ods': 'ods',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.eml': 'eml',
  '.mbox': 'mbox',
};

/** Formats stored as zip packages (Office Open XML, OpenDocument). */
const ZIPPED = new Set<ConnectorKind>(['docx', 'pptx', 'xlsx', 'odt', 'odp', 'ods']);

export const SUPPORTED_EXTENSIONS = Object.keys(BY_EXTENSION);

/** The connector a file name implies, or null when no connector reads that extension. */
export function kindForPath(path: string): ConnectorKind | null {
  return BY_EXTENSION[extensionOf(path)] ?? null;
}

export function extensionOf(path: string): string {
  const name = path.split(/[\\/]/).pop() ?? path;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/**
 * Picks the connector for a file from its extension, then checks the first bytes agree:
 * an extension that lies about the content is an input error, not something to guess around.
 * Returns null for extensions no connector handles (the walker skips those).
 */
export function detectKind(path: string, firstBytes: Uint8Array): ConnectorKind | null {
  const kind = BY_EXTENSION[extensionOf(path)];
  if (!kind) return null;
  if (kind === 'pdf') {
    if (!startsWithPdfMagic(firstBytes)) {
      throw new InputError(
        path,
        undefined,
        'has a .pdf extension but is not a PDF (it does not start with "%PDF-")',
        'Rename it to its real type or remove it from the sources.',
      );
    }
    return kind;
  }
  if (ZIPPED.has(kind)) {
    // Encrypted Office files are OLE containers, not zips: their connector explains that case.
    const zip = firstBytes[0] === 0x50 && firstBytes[1] === 0x4b;
    const ole = firstBytes[0] === 0xd0 && firstBytes[1] === 0xcf && firstBytes[2] === 0x11 && firstBytes[3] === 0xe0;
    if (!zip && !ole) {
      throw new InputError(
        path,
        undefined,
        `has a ${extensionOf(path)} extension but is not a ${kind.toUpperCase()} file (it is not a zip package)`,
        'Rename it to its real type or remove it from the sources.',
      );
    }
    return kind;
  }
  // Mail may carry 8-bit bytes of any charset; the mail connector decodes per part.
  if (kind === 'eml' || kind === 'mbox') return kind;
  if (firstBytes.indexOf(0) !== -1) {
    throw new InputError(
      path,
      undefined,
      `is a binary file with a text extension (${extensionOf(path)}): it contains NUL bytes`,
      'Remove it from the sources or exclude it with an ignore pattern.',
    );
  }
  return kind;
}

function startsWithPdfMagic(bytes: Uint8Array): boolean {
  // The spec allows junk before the header; readers accept it within the first 1024 bytes.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  return head.includes('%PDF-');
}
