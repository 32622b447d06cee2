import { aclWhere } from '../acl.js';
import { sqlString } from '../sql.js';
import { CHUNKS, DOCUMENTS, type Store } from '../store/store.js';
import type { Caller } from '../types.js';

/**
 * Who reads the explanation. `owner`: the person running the CLI on their own store, who may learn
 * what other tenants exist and how many documents are closed to them. `caller`: an API key's
 * holder, who may learn nothing about other tenants or documents they cannot see.
 */
export type ExplainAudience = 'owner' | 'caller';

/**
 * Why a search found nothing, when the store can say: a tenant with no documents, metadata keys
 * the filter names but no visible document has, or (to the owner) a tenant whose documents are
 * all closed to the caller. Null when none of these holds (the words simply matched nothing).
 * Run only on an empty answer. Metadata keys are read through the ACL pre-filter: a key that only
 * restricted documents carry is never named.
 */
export async function explainEmpty(
  store: Store,
  caller: Caller,
  filterKeys: readonly string[] = [],
  audience: ExplainAudience = 'owner',
): Promise<string | null> {
  const inTenant = `deleted = false AND tenant = ${sqlString(caller.tenant)}`;
  const total = await store.countRows(DOCUMENTS, inTenant);
  if (total === 0) {
    if (audience === 'caller') return `tenant "${caller.tenant}" has no documents`;
    const live = await store.readAll<{ tenant: string }>(DOCUMENTS, ['tenant'], 'deleted = false');
    const tenants = [...new Set(live.map((d) => d.tenant))].sort();
    return `tenant "${caller.tenant}" has no documents${tenants.length ? ` (tenants in this store: ${tenants.join(', ')}; pick one with --tenant)` : ''}`;
  }
  if (filterKeys.length) {
    const rows = await store.readAll<{ meta_kv: string[] }>(CHUNKS, ['meta_kv'], aclWhere(caller));
    const known = new Set(rows.flatMap((r) => r.meta_kv.map((kv) => kv.slice(0, kv.indexOf('=')))));
    const unknown = filterKeys.filter((k) => !known.has(k));
    if (unknown.length) {
      const list = [...known].sort();
      return `--filter names metadata ${unknown.length === 1 ? 'key' : 'keys'} no document visible in tenant "${caller.tenant}" has: ${unknown.join(', ')}` +
        (list.length ? ` (keys there: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', …' : ''})` : ' (its visible documents carry no metadata)');
    }
  }
  if (audience === 'caller') return null;
  const visible = await store.countRows(DOCUMENTS, `deleted = false AND ${aclWhere(caller)}`);
  if (visible === 0) {
    return `none of the ${total} documents in tenant "${caller.tenant}" is visible to ${caller.principals.join(', ')} (add principals with --as or --profile)`;
  }
  return null;
}
