import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/engine/errors.js';
import { addKey, authenticate, callerFor, ForbiddenError, KeyRing, readKeys, revokeKey } from '../../src/server/keys.js';
import { tempDir } from '../helpers/cli.js';
import { ragAsync } from '../reliability/helpers.js';

const file = () => path.join(tempDir('rag-keys-'), 'rag.keys.json');

describe('API keys file', () => {
  it('stores only a hash, owner-only, and the key authenticates to its record', () => {
    const f = file();
    const { key, record } = addKey(f, { principals: ['group:hr', 'user:ann'], tenant: 'acme', name: 'portal' });
    expect(key).toMatch(/^rag_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(f, 'utf8');
    // The secret is everything after `rag_<id>_` (base64url: it may hold `_` itself).
    expect(text).not.toContain(key.slice(`rag_${record.id}_`.length));
    expect(text).toContain(record.hash);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readKeys(f)).toEqual([record]);
    expect(record).toMatchObject({ principals: ['group:hr', 'user:ann'], tenant: 'acme', name: 'portal' });
    expect(authenticate(readKeys(f), key)).toEqual(record);
  });

  it('refuses missing, malformed, altered and unknown keys', () => {
    const f = file();
    const { key } = addKey(f, { principals: ['group:hr'], tenant: 'acme' });
    const keys = readKeys(f);
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of [undefined, '', 'Bearer', key.slice(0, -1), `${key.slice(0, -1)}${last}`, key.replace(/_[0-9a-f]{12}_/, '_000000000000_'), ` ${key}`]) {
      expect(authenticate(keys, bad), String(bad)).toBeNull();
    }
  });

  it('revokes by id, and a revoked key no longer authenticates', () => {
    const f = file();
    const a = addKey(f, { principals: ['group:hr'], tenant: 'acme' });
    const b = addKey(f, { principals: [], tenant: 'acme' });
    expect(revokeKey(f, a.record.id).id).toBe(a.record.id);
    expect(authenticate(readKeys(f), a.key)).toBeNull();
    expect(authenticate(readKeys(f), b.key)?.id).toBe(b.record.id);
    expect(() => revokeKey(f, a.record.id)).toThrow(UsageError);
  });

  it('rejects invalid principals when adding and a malformed file when reading', () => {
    const f = file();
    expect(() => addKey(f, { principals: ['hr'], tenant: 'acme' })).toThrow(/invalid principal "hr"/);
    writeFileSync(f, '{"version": 1, "keys": [{"id": "x"}]}');
    expect(() => readKeys(f)).toThrow(InputError);
    writeFileSync(f, '{not json');
    expect(() => readKeys(f)).toThrow(/invalid JSON/);
    writeFileSync(f, '{\n  "version": 1,\n  "keys": [\n    {"id": "x"}\n    {"id": "y"}\n  ]\n}\n');
    expect(() => readKeys(f)).toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: invalid JSON \\([^\n]*\\)$`));
  });
});

describe('callers of a key: narrowing, never widening', () => {
  const record = { id: 'a'.repeat(12), name: '', hash: '', principals: ['group:hr', 'user:ann'], tenant: 'acme', created_at: '' };

  it("is the key's principals plus public, in the key's tenant", () => {
    expect(callerFor(record)).toEqual({ principals: ['group:hr', 'public', 'user:ann'], tenant: 'acme' });
    expect(callerFor(record, { tenant: 'acme', as: [] })).toEqual({ principals: ['group:hr', 'public', 'user:ann'], tenant: 'acme' });
  });

  it('narrows to a subset (public is always held)', () => {
    expect(callerFor(record, { as: ['user:ann'] })).toEqual({ principals: ['public', 'user:ann'], tenant: 'acme' });
    expect(callerFor(record, { as: ['public'] })).toEqual({ principals: ['public'], tenant: 'acme' });
  });

  it('refuses a principal or tenant beyond the key', () => {
    expect(() => callerFor(record, { as: ['group:hr', 'group:sre'] })).toThrow(ForbiddenError);
    expect(() => callerFor(record, { as: ['group:sre'] })).toThrow(/does not hold group:sre/);
    expect(() => callerFor(record, { tenant: 'globex' })).toThrow(/bound to tenant "acme"/);
    expect(() => callerFor(record, { as: ['not a principal'] })).toThrow(UsageError);
  });
});

describe('KeyRing: a running service sees key changes', () => {
  it('picks up added and revoked keys, and fails closed on a broken file', async () => {
    const f = file();
    const a = addKey(f, { principals: ['group:hr'], tenant: 'acme' });
    const errors: string[] = [];
    const ring = new KeyRing(f, 0, (m) => errors.push(m));
    expect(ring.authenticate(a.key)?.id).toBe(a.record.id);
    const b = addKey(f, { principals: [], tenant: 'acme' });
    expect(ring.authenticate(b.key)?.id).toBe(b.record.id);
    revokeKey(f, a.record.id);
    expect(ring.authenticate(a.key)).toBeNull();
    writeFileSync(f, '{broken');
    expect(ring.authenticate(b.key)).toBeNull();
    expect(errors.join('\n')).toMatch(/refusing every key/);
  });
});

describe('concurrent `rag keys` processes', () => {
  it('8 adds racing 4 revokes: every added key is kept, every revoked one stays revoked', async () => {
    const dir = tempDir('rag-keys-race-');
    const f = path.join(dir, 'rag.keys.json');
    const first = await Promise.all([0, 1, 2, 3].map((i) => ragAsync(['--json', 'keys', 'add', '--keys', f, '--name', `old${i}`], { cwd: dir })));
    for (const r of first) expect(r.code, r.stderr).toBe(0);
    const old = readKeys(f);
    expect(old).toHaveLength(4);
    const runs = await Promise.all([
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ragAsync(['keys', 'add', '--keys', f, '--name', `new${i}`], { cwd: dir })),
      ...old.map((k) => ragAsync(['keys', 'revoke', k.id, '--keys', f], { cwd: dir })),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readKeys(f).map((k) => k.name).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `new${i}`));
  }, 120_000);
});
