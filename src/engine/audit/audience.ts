/**
 * Who may read a report: every report names documents (and some quote them), so it is itself
 * restricted data. `highestAcl` states what a reader must hold to be entitled to everything in it.
 */
import { PUBLIC } from '../acl.js';

/** The highest ACL a report contains, as JSON (snake_case keys). */
export interface HighestAcl {
  /** `public`: every document named is public; `restricted`: at least one is not (or has an empty ACL). */
  level: 'public' | 'restricted';
  /**
   * A reader entitled to the whole report holds at least one principal of every list (a
   * conjunction of the restricted ACLs, lists implied by a narrower one dropped). Empty when public.
   */
  requires: string[][];
  /** Tenants of the documents named. */
  tenants: string[];
  /** The same in words, e.g. `group:hr AND (group:sre OR user:alice) in tenant acme`. */
  text: string;
}

export const isRestricted = (acl: readonly string[]) => !acl.includes(PUBLIC);

export function highestAcl(items: Iterable<{ acl: readonly string[]; tenant: string }>): HighestAcl {
  const clauses = new Map<string, string[]>();
  const tenants = new Set<string>();
  let unreadable = false;
  for (const it of items) {
    tenants.add(it.tenant);
    // An empty ACL names no reader (an invariant violation the ACL audit reports on its own): the
    // report is then restricted to the store's operators, never labelled public.
    if (it.acl.length === 0) unreadable = true;
    if (it.acl.length === 0 || !isRestricted(it.acl)) continue;
    const c = [...new Set(it.acl)].sort();
    clauses.set(c.join('\0'), c);
  }
  // [a] implies [a, b]: whoever may read a document readable by a alone may read the wider one.
  const all = [...clauses.values()];
  const requires = all
    .filter((c) => !all.some((o) => o !== c && o.length < c.length && o.every((p) => c.includes(p))))
    .sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
  const ts = [...tenants].sort();
  const where = ts.length ? ` in tenant${ts.length > 1 ? 's' : ''} ${ts.join(', ')}` : '';
  const clauseText = requires.map((c) => (c.length > 1 && requires.length > 1 ? `(${c.join(' OR ')})` : c.join(' OR '))).join(' AND ');
  const empty = 'documents with an empty ACL (no reader is entitled: operators only)';
  const text = unreadable
    ? `${clauseText ? `${clauseText} AND ` : ''}${empty}${where}`
    : requires.length
      ? `${clauseText}${where}`
      : `public${where}`;
  return { level: requires.length || unreadable ? 'restricted' : 'public', requires, tenants: ts, text };
}
