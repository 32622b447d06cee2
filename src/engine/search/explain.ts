import { aclWhere } from '../acl.js';
import { sqlString } from '../sql.js';
import { CHUNKS, DOCUMENTS, type Store } from '../store/store.js';
import type { Caller } from '../types.js';

/**
 * Why a search found nothing, when the store can say: a tenant with no documents, metadata keys
 * the filter names but no document has, or a tenant whose documents are all closed to the caller.
 * Null when none of these holds (the words simply matched nothing). Run only on an empty answer.
 */
export async function explainEmpty(store: Store, caller: Caller, filterKeys: readonly string[] = []): Promise<string | null> {
  const live = await store.readAll<{ tenant: string }>(DOCUMENTS, ['tenant'], 'deleted = false');
  const tenants = [...new Set(live.map((d) => d.tenant))].sort();
  if (!tenants.includes(caller.tenant)) {
    return `tenant "${caller.tenant}" has no documents${tenants.length ? ` (tenants in this store: ${tenants.join(', ')}; pick one with --tenant)` : ''}`;
  }
  const inTenant = `tenant = ${sqlString(caller.tenant)}`;
  if (filterKeys.length) {
    const rows = await store.readAll<{ meta_kv: string[] }>(CHUNKS, ['meta_kv'], inTenant);
    const known = new Set(rows.flatMap((r) => r.meta_kv.map((kv) => kv.slice(0, kv.indexOf('=')))));
    const unknown = filterKeys.filter((k) => !known.has(k));
    if (unknown.length) {
      const list = [...known].sort();
      return `--filter names metadata ${unknown.length === 1 ? 'key' : 'keys'} no document in tenant "${caller.tenant}" has: ${unknown.join(', ')}` +
        (list.length ? ` (keys there: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', …' : ''})` : ' (its documents carry no metadata)');
    }
  }
  const visible = await store.countRows(DOCUMENTS, `deleted = false AND ${aclWhere(caller)}`);
  if (visible === 0) {
    const total = live.filter((d) => d.tenant === caller.tenant).length;
    return `none of the ${total} documents in tenant "${caller.tenant}" is visible to ${caller.principals.join(', ')} (add principals with --as or --profile)`;
  }
  return null;
}
