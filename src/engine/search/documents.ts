import { aclWhere, isVisible } from '../acl.js';
import { AclViolationError } from '../errors.js';
import { sqlString } from '../sql.js';
import { CHUNKS, DOCUMENTS, type Store } from '../store/store.js';
import type { Caller, ChunkRow, DocumentRow } from '../types.js';

/** A whole document as a permitted caller may read it (full-document views, `GET /v1/documents/{id}`). */
export interface DocumentView {
  doc_id: string;
  title: string;
  source: string;
  connector: string;
  text: string;
  metadata: Record<string, unknown>;
  acl: string[];
  tenant: string;
  ingested_at: string;
  content_hash: string;
}

const COLUMNS = ['doc_id', 'title', 'source', 'connector', 'text', 'metadata', 'acl', 'tenant', 'ingested_at', 'content_hash', 'deleted'];

/**
 * One document by id, through the same permission clause as every search: a document the caller
 * may not see is indistinguishable from one that does not exist (both are null).
 */
export async function getDocument(store: Store, docId: string, caller: Caller): Promise<DocumentView | null> {
  const where = `doc_id = ${sqlString(docId)} AND deleted = false AND ${aclWhere(caller)}`;
  const rows = await store.readAll<DocumentRow>(DOCUMENTS, COLUMNS, where);
  const row = rows[0];
  if (!row) return null;
  if (!isVisible(row, caller)) throw new AclViolationError(row.doc_id, 'was read as a document');
  return {
    doc_id: row.doc_id,
    title: row.title,
    source: row.source,
    connector: row.connector,
    text: row.text,
    metadata: JSON.parse(row.metadata || '{}') as Record<string, unknown>,
    acl: row.acl,
    tenant: row.tenant,
    ingested_at: row.ingested_at,
    content_hash: row.content_hash,
  };
}

const CHUNK_COLUMNS = ['chunk_id', 'doc_id', 'ordinal', 'text', 'title', 'source', 'connector', 'heading_path', 'page', 'char_start', 'char_end', 'acl', 'tenant'];

export type ChunkView = Pick<ChunkRow, 'chunk_id' | 'doc_id' | 'ordinal' | 'text' | 'title' | 'source' | 'connector' | 'heading_path' | 'page' | 'char_start' | 'char_end'>;

/** One chunk by id (a label revisited from the journal), through the same permission clause; null alike when invisible or gone. */
export async function getChunk(store: Store, chunkId: string, caller: Caller): Promise<ChunkView | null> {
  const where = `chunk_id = ${sqlString(chunkId)} AND ${aclWhere(caller)}`;
  const row = (await store.readAll<ChunkRow>(CHUNKS, CHUNK_COLUMNS, where))[0];
  if (!row) return null;
  if (!isVisible(row, caller)) throw new AclViolationError(row.doc_id, 'was read as a chunk');
  return {
    chunk_id: row.chunk_id, doc_id: row.doc_id, ordinal: row.ordinal, text: row.text, title: row.title, source: row.source,
    connector: row.connector, heading_path: [...row.heading_path], page: row.page ?? 0, char_start: row.char_start, char_end: row.char_end,
  };
}
