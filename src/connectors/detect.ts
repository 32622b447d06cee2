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
};

export const SUPPORTED_EXTENSIONS = Object.keys(BY_EXTENSION);

/** The connector a file name implies, or null when no connector reads that extension. */
export function kindForPath(path: string): ConnectorKind | null {
  return BY_EXTENSION[extensionOf(path)] ?? null;
}

function extensionOf(path: string): string {
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
