import { aclWhere, isVisible } from '../acl.js';
import { AclViolationError } from '../errors.js';
import { sqlString } from '../sql.js';
import { DOCUMENTS, type Store } from '../store/store.js';
import type { Caller, DocumentRow } from '../types.js';

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
