import type { ParsedDocument } from '../engine/types.js';
import { baseTitle, decodeUtf8Strict, normaliseText, paragraphBlocks } from './normalise.js';

/** Plain text: paragraphs are the only structure; the title is the first line if short. */
export function parseText(bytes: Uint8Array, relPath: string): ParsedDocument {
  const text = normaliseText(decodeUtf8Strict(bytes, relPath));
  const firstLine = text.split('\n', 1)[0]?.trim() ?? '';
  return {
    docId: relPath,
    source: relPath,
    connector: 'text',
    title: firstLine && firstLine.length <= 120 ? firstLine : baseTitle(relPath),
    text,
    blocks: paragraphBlocks(text),
    metadata: {},
  };
}
