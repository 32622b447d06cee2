import type { Block, BlockKind } from '../engine/types.js';
import { normaliseText } from './normalise.js';

/** A structural piece of a document before offsets exist: what the XML-based connectors collect. */
export interface Piece {
  text: string;
  kind: BlockKind;
  headingPath: string[];
  page?: number;
  atomic?: boolean;
}

/**
 * Joins pieces with blank lines into one normalised text and blocks whose offsets index it
 * exactly (the same layout the HTML connector produces). Empty pieces are dropped.
 */
export function assemble(pieces: Piece[]): { text: string; blocks: Block[] } {
  let text = '';
  const blocks: Block[] = [];
  for (const p of pieces) {
    const t = normaliseText(p.text);
    if (!t) continue;
    if (text) text += '\n\n';
    const b: Block = { start: text.length, end: text.length + t.length, kind: p.kind, headingPath: p.headingPath };
    if (p.page !== undefined) b.page = p.page;
    if (p.atomic) b.atomic = true;
    text += t;
    blocks.push(b);
  }
  return { text, blocks };
}

/** Collapses runs of spaces and tabs inside a line (XML text keeps the author's spacing). */
export function tidyLine(s: string): string {
  return s.replace(/[ \t\u00a0]+/g, ' ').trim();
}
