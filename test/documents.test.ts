import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/engine/config.js';
import { resolveCaller } from '../src/engine/acl.js';
import { getDocument } from '../src/engine/search/documents.js';
import { Store } from '../src/engine/store/store.js';
import { FIXTURE_CONFIG, rag, tempDir } from './helpers/cli.js';

describe('getDocument: whole documents through the permission clause', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = tempDir();
    db = path.join(dir, 'store');
    const r = rag(['--db', db, '--config', FIXTURE_CONFIG, 'ingest', 'fixtures/docs']);
    expect(r.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns a restricted document to an insider and null to an outsider, the same null as a missing id', async () => {
    const { config } = loadConfig(FIXTURE_CONFIG);
    const store = await Store.open(db);
    try {
      const id = 'fixtures/docs/internal/salary-bands.md';
      const insider = await getDocument(store, id, resolveCaller(config, { as: ['group:hr'] }));
      expect(insider?.doc_id).toBe(id);
      expect(insider?.text.length).toBeGreaterThan(100);
      expect(insider?.acl).toContain('group:hr');
      expect(await getDocument(store, id, resolveCaller(config, {}))).toBeNull();
      expect(await getDocument(store, id, resolveCaller(config, { as: ['group:hr'], tenant: 'globex' }))).toBeNull();
      expect(await getDocument(store, 'fixtures/docs/no-such.md', resolveCaller(config, { as: ['group:hr'] }))).toBeNull();
      const pub = await getDocument(store, 'fixtures/docs/api-keys.md', resolveCaller(config, {}));
      expect(pub?.title).toBe('Managing API keys');
    } finally {
      store.close();
    }
  });
});
