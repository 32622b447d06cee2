/**
 * Shared data model of the pipeline (DESIGN.md: sources → Document → Chunk → indexed Chunk → Hit).
 * Connectors produce ParsedDocument; the chunker turns it into ChunkDraft; the store persists
 * DocumentRow / ChunkRow; the retriever returns Hit.
 */

export type ConnectorKind =
  | 'markdown'
  | 'html'
  | 'pdf'
  | 'text'
  | 'jsonl'
  | 'beir'
  | 'docx'
  | 'pptx'
  | 'xlsx'
  | 'odt'
  | 'odp'
  | 'ods'
  | 'csv'
  | 'eml'
  | 'mbox';

export type BlockKind =
  | 'heading'
  | 'paragraph'
  | 'code'
  | 'table'
  | 'list'
  | 'quote'
  | 'page'
  | 'other';

/**
 * A structural segment of a document's normalised text. Blocks are in document order, do not
 * overlap, and their [start, end) offsets index into ParsedDocument.text.
 */
export interface Block {
  start: number;
  end: number;
  kind: BlockKind;
  /** Headings above (and including, for a heading block) this block, outermost first. */
  headingPath: string[];
  /** 1-based page number for paginated sources (PDF page, slide of a deck). */
  page?: number;
  /** The text was recognised from an image by OCR (a scanned PDF page), not read from a text layer. */
  ocr?: boolean;
  /** Never cut in half (code blocks, tables) unless it alone exceeds the hard maximum. */
  atomic?: boolean;
}

/** What a connector yields for one source document. */
export interface ParsedDocument {
  /** Stable id: connector-independent for files (normalised relative path), record id for JSONL/BEIR. */
  docId: string;
  /** Where it came from: a file path, or `file:line` / `file#id` for records. */
  source: string;
  connector: ConnectorKind;
  title: string;
  /** Normalised text (NFC, \n line ends, trimmed trailing spaces); every offset points into it. */
  text: string;
  blocks: Block[];
  metadata: Record<string, unknown>;
  /** ACL given by the source itself (front matter, record field); undefined → config decides. */
  acl?: string[];
  tenant?: string;
  /** Source modification time, ms since epoch (files), if known. */
  mtime?: number;
  /** Files: size, mtime and settings; an equal fingerprint lets the next ingest skip parsing. */
  fingerprint?: string;
}

/** A chunk before it is stored: the chunker's output. */
export interface ChunkDraft {
  ordinal: number;
  text: string;
  headingPath: string[];
  page?: number;
  /** Set when the chunk's text is OCR output (its blocks were). */
  ocr?: boolean;
  charStart: number;
  charEnd: number;
  tokens: number;
}

export interface ChunkerConfig {
  /** Target chunk size in estimated tokens. */
  maxTokens: number;
  /** Overlap between consecutive chunks cut inside one long block, in estimated tokens. */
  overlapTokens: number;
  /** Atomic blocks (code, tables) larger than this are split after all. */
  hardMaxTokens: number;
}

/** A caller: who is asking. A chunk is visible when acl ∩ principals ≠ ∅ and tenant matches. */
export interface Caller {
  principals: string[];
  tenant: string;
}

/** Row of the `documents` table. */
export interface DocumentRow {
  doc_id: string;
  source: string;
  connector: string;
  title: string;
  content_hash: string;
  /** Hash of everything that affects chunks and visibility: content, acl, tenant, title, metadata, chunker. */
  record_hash: string;
  mtime: number;
  ingested_at: string;
  acl: string[];
  tenant: string;
  metadata: string; // JSON
  deleted: boolean;
  text: string;
  /** See ParsedDocument.fingerprint; empty for records. */
  fingerprint: string;
}

/** Row of the `chunks` table, and (plus `vector`) of each index table. */
export interface ChunkRow {
  chunk_id: string;
  doc_id: string;
  ordinal: number;
  text: string;
  title: string;
  source: string;
  connector: string;
  heading_path: string[];
  page: number; // 0 when not paginated
  char_start: number;
  char_end: number;
  tokens: number;
  acl: string[];
  tenant: string;
  metadata: string; // JSON
  /** Flattened scalar metadata as `key=value` strings, for injection-safe filters. */
  meta_kv: string[];
  /** sha256 of the chunk text: the embedding cache key. */
  content_hash: string;
  /** sha256 of the whole row except vector: detects ACL / metadata changes. */
  row_hash: string;
}

export type RetrievalMode = 'bm25' | 'vector' | 'hybrid';

/** One retrieved chunk. */
export interface Hit {
  rank: number;
  score: number;
  chunk: Omit<ChunkRow, 'row_hash' | 'meta_kv'>;
  scores: { bm25?: number; bm25_rank?: number; vector?: number; vector_rank?: number; fused?: number; rerank?: number };
}
