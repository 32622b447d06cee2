import type { RagConfig } from '../config.js';
import { stableHash } from '../hash.js';

/** Hash of the chunker settings: part of each document's record hash, so a new config re-chunks. */
export function chunkerHash(config: RagConfig): string {
  return stableHash({ chunker: config.chunking, v: 1 });
}

/** The `file` part of a record source (`file:line`), the folder/file a document came from. */
export function sourceOrigin(source: string): string {
  return source.replace(/:\d+$/, '');
}
