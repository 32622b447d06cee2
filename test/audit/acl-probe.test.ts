import * as lancedb from '@lancedb/lancedb';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkIndexInvariants,
  checkStoreInvariants,
  enumerateCallers,
  inverseDocumentFrequencies,
  probeQueries,
  safeSearch,
} from '../../src/engine/audit/acl-probe.js';
import { StoreError, AclViolationError } from '../../src/engine/errors.js';
import { defaultConfig } from '../../src/engine/config.js';
import { rag, SHARED, STATIC_MODEL, tempDir } from '../helpers/cli.js';

describe('probe queries', () => {
  const corpus = [
    'Roadmap meeting notes for the platform team, with the quarterly goals.',
    'Roadmap review meeting: notes on the hiring plan for the team.',
    'Roadmap meeting notes: severance for the Oslo team.',
  ];
  const idf = inverseDocumentFrequencies(corpus);

  it('builds a terms query from the words that distinguish the chunk, not the ones every chunk shares', () => {
    const [terms, sentence] = probeQueries(corpus[2]!, idf, 2);
    expect(terms).toEqual({ kind: 'terms', text: 'oslo severance' });
    expect(sentence).toEqual({ kind: 'sentence', text: 'Roadmap meeting notes severance for the Oslo team' });
  });

  it('picks the most distinctive sentence of a longer chunk', () => {
    const text = 'Roadmap meeting notes for the team. Severance in Oslo is twelve weeks of salary. The team meeting ends.';
    const sentence = probeQueries(text, idf).find((q) => q.kind === 'sentence');
    expect(sentence!.text).toBe('Severance in Oslo is twelve weeks of salary');
  });

  it('has nothing to probe with in a chunk of punctuation and numbers', () => {
    expect(probeQueries('--- 12 34 | ---', idf)).toEqual([]);
  });
});

describe('safeSearch', () => {
  const caller = { principals: ['public'], tenant: 'default' };
  it("turns the retriever's own ACL refusal into a finding naming the chunk", async () => {
    const refusing = {
      search: async () => {
        throw new AclViolationError('docs/hr.md#0:abc', 'passed the pre-filter');
      },
    };
    expect(await safeSearch(refusing, 'salary', 'bm25', caller, 10)).toEqual({ violation: 'docs/hr.md#0:abc' });
  });
  it('lets every other error through', async () => {
    const broken = {
      search: async () => {
        throw new StoreError('cannot open store');
      },
    };
    await expect(safeSearch(broken, 'salary', 'bm25', caller, 10)).rejects.toThrow('cannot open store');
  });
});

describe('callers and invariants', () => {
  it('enumerates public-only and every principal in every tenant', () => {
    const callers = enumerateCallers(defaultConfig(), [
      { acl: ['group:hr'], tenant: 'default' },
      { acl: ['public', 'user:ann'], tenant: 'globex' },
    ]);
    const keys = callers.map((c) => `${c.principals.join('+')}@${c.tenant}`);
    expect(keys.sort()).toEqual(
      [
        'public@default',
        'group:hr+public@default',
        'public+user:ann@default',
        'public@globex',
        'group:hr+public@globex',
        'public+user:ann@globex',
      ].sort(),
    );
  });

  it('flags missing ACLs, chunk/document mismatches, stale index ACLs and orphans', () => {
    const docs = [
      { doc_id: 'a', acl: ['group:hr'], tenant: 't', deleted: false },
      { doc_id: 'b', acl: [], tenant: 't', deleted: false },
    ];
    const chunks = [
      { chunk_id: 'a#0', doc_id: 'a', acl: ['group:hr'], tenant: 't' },
      { chunk_id: 'a#1', doc_id: 'a', acl: ['public'], tenant: 't' },
      { chunk_id: 'z#0', doc_id: 'z', acl: ['public'], tenant: 't' },
    ];
    const store = checkStoreInvariants(docs, chunks).map((v) => `${v.kind}:${v.chunk_id ?? v.doc_id}`);
    expect(store.sort()).toEqual(['chunk-acl-mismatch:a#1', 'chunk-orphan:z#0', 'document-missing-acl:b']);

    const byId = new Map(chunks.map((c) => [c.chunk_id, c]));
    const index = checkIndexInvariants('idx_x', [
      { chunk_id: 'a#0', doc_id: 'a', acl: ['group:hr'], tenant: 't' },
      { chunk_id: 'a#0', doc_id: 'a', acl: ['group:hr'], tenant: '' },
      { chunk_id: 'gone', doc_id: 'a', acl: ['group:hr'], tenant: 't' },
    ], byId).map((v) => v.kind);
    expect(index.sort()).toEqual(['index-acl-mismatch', 'index-missing-tenant', 'index-orphan']);
  });
});

/**
 * The planted-leak test: a real store built through the CLI, audited clean, then tampered with
 * directly in LanceDB the way a bug in an incremental update could leave it.
 */
describe('rag audit acl (CLI, real store)', () => {
  let dir: string;
  let modelsDir: string;
  const db = () => path.join(dir, 'db');
  const env = () => ({ RAG_MODELS_DIR: modelsDir });
  const run = (...args: string[]) => rag(['--db', db(), ...args], { cwd: dir, env: env() });
  const write = (rel: string, body: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  };
  const doc = (acl: string, tenant: string | null, title: string, body: string) =>
    `---\nacl: [${acl}]\n${tenant ? `tenant: ${tenant}\n` : ''}---\n# ${title}\n\n${body}\n`;

  async function tamper(table: string, where: string, valuesSql: Record<string, string>): Promise<void> {
    const conn = await lancedb.connect(db());
    const t = await conn.openTable(table);
    await t.update({ where, valuesSql });
    t.close();
    conn.close();
  }

  beforeAll(() => {
    dir = tempDir('rag-aclprobe-');
    modelsDir = path.join(dir, 'models');
    mkdirSync(path.join(modelsDir, 'minishlab'), { recursive: true });
    symlinkSync(path.join(SHARED, 'models/m2v-bge-base-vq128'), path.join(modelsDir, STATIC_MODEL));

    write('docs/welcome.md', doc('public', null, 'Welcome', 'Welcome to the company. The cafeteria opens at eight and the library lends laptops.'));
    write('docs/vpn.md', doc('public', null, 'VPN setup', 'Install the VPN client, sign in with single sign-on and pick the nearest gateway.'));
    write('docs/hr/severance.md', doc('group:hr', null, 'Severance policy', 'Severance for the Oslo restructuring is twelve weeks of salary for staff with more than five years of tenure.'));
    write('docs/hr/bands.md', doc('group:hr', null, 'Salary bands', 'Engineering salary bands: grade seven spans ninety to one hundred and ten thousand euros.'));
    write('docs/finance/forecast.md', doc('group:finance', null, 'Revenue forecast', 'The confidential revenue forecast projects a margin decline in the Nordic subsidiary next fiscal year.'));
    write('docs/personal/alice.md', doc('user:alice', null, 'Alice performance note', 'Performance improvement plan for Alice: weekly check-ins on incident postmortems.'));
    write('docs/globex/escalation.md', doc('group:support', 'globex', 'Globex escalation', 'Globex escalation ladder: page the duty manager, then the regional director in Rotterdam.'));
    write('docs/globex/pricing.md', doc('group:support', 'globex', 'Globex pricing', 'Globex negotiated pricing: volume discount of eighteen percent on turbine maintenance contracts.'));
    write('docs/support/macros.md', doc('group:support', null, 'Support macros', 'Canned replies for refund requests and shipping delays used by the support desk.'));
    expect(run('ingest', 'docs').code).toBe(0);
    expect(run('index', '--model', STATIC_MODEL).code).toBe(0);
    expect(run('index', '--name', 'lexical', '--model', 'none').code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds no leak and no violation in the clean store, with every restricted chunk probed in every mode', () => {
    const out = path.join(dir, 'acl');
    const r = run('--json', 'audit', 'acl', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const rep = r.json();
    expect(rep.passed).toBe(true);
    expect(rep.leaks).toEqual([]);
    expect(rep.violations).toEqual([]);
    const def = rep.indexes.find((i: { index: string }) => i.index === 'default');
    const lex = rep.indexes.find((i: { index: string }) => i.index === 'lexical');
    expect(def.modes).toEqual(['bm25', 'vector', 'hybrid']);
    expect(lex.modes).toEqual(['bm25']);
    // Every chunk is restricted for somebody: 7 by group/user ACL or tenant, and the two public
    // pages of the default tenant for globex callers.
    expect(def.restricted_chunks).toBe(9);
    expect(def.coverage).toBe(1);
    // The probes find their chunk for an authorised caller: they would surface it if the filter failed.
    expect(def.reach_rate).toBe(1);
    expect(rep.trials).toBeGreaterThan(100);
    const keys = rep.callers.map((c: { principals: string[]; tenant: string }) => `${c.principals.join('+')}@${c.tenant}`);
    expect(keys).toEqual(expect.arrayContaining(['public@default', 'group:hr+public@default', 'group:support+public@globex', '@default']));
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/PASS: 0 leaks/);
  });

  it('catches an index row whose ACL was widened to public: violation and leak, exit 1', async () => {
    const ids = run('--json', 'query', 'Severance Oslo restructuring', '--as', 'group:hr', '--mode', 'bm25').json();
    const target = ids.results.find((x: { doc_id: string }) => x.doc_id === 'docs/hr/severance.md').chunk_id as string;
    await tamper('idx_default', `chunk_id = '${target}'`, { acl: "['public']" });

    const r = run('--json', 'audit', 'acl', '--seed', '3');
    expect(r.code).toBe(1);
    const rep = r.json();
    expect(rep.passed).toBe(false);
    expect(rep.violations).toEqual([
      expect.objectContaining({ kind: 'index-acl-mismatch', table: 'idx_default', chunk_id: target, expected: { acl: ['group:hr'], tenant: 'default' } }),
    ]);
    const leaked = rep.leaks.filter((l: { chunk_id: string }) => l.chunk_id === target);
    expect(leaked.length).toBeGreaterThan(0);
    expect(new Set(leaked.map((l: { mode: string }) => l.mode))).toEqual(new Set(['bm25', 'vector', 'hybrid']));
    expect(leaked.every((l: { index: string; true_acl: { acl: string[] } }) => l.index === 'default' && l.true_acl.acl.join() === 'group:hr')).toBe(true);
    expect(leaked.some((l: { caller: { principals: string[] } }) => l.caller.principals.join() === 'public')).toBe(true);
    // The untouched BM25-only index stays clean.
    expect(rep.leaks.some((l: { index: string }) => l.index === 'lexical')).toBe(false);

    const text = run('audit', 'acl', '--seed', '3');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('LEAKS');
    expect(text.stdout).toContain('index-acl-mismatch');
    expect(text.stdout).toMatch(/FAIL: \d+ leaks/);
    expect(run('audit', 'acl', '--seed', '3', '--no-gate').code).toBe(0);

    // Rebuilding the index from the chunks table repairs it.
    expect(run('index', '--rebuild', '--model', STATIC_MODEL).code).toBe(0);
    expect(run('audit', 'acl', '--mode', 'bm25').code).toBe(0);
  });

  it('catches a cross-tenant leak: a globex row moved into the default tenant', async () => {
    await tamper('idx_lexical', "doc_id = 'docs/globex/pricing.md'", { tenant: "'default'" });
    const r = run('--json', 'audit', 'acl', '--index', 'lexical');
    expect(r.code).toBe(1);
    const rep = r.json();
    expect(rep.violations.map((v: { kind: string; doc_id: string }) => `${v.kind}:${v.doc_id}`)).toEqual(['index-acl-mismatch:docs/globex/pricing.md']);
    const leak = rep.leaks.find((l: { doc_id: string; caller: { principals: string[]; tenant: string } }) => l.doc_id === 'docs/globex/pricing.md' && l.caller.tenant === 'default' && l.caller.principals.includes('group:support'));
    expect(leak).toBeDefined();
    expect(leak.true_acl).toEqual({ acl: ['group:support'], tenant: 'globex' });
  });

  it('catches a chunk whose ACL no longer matches its document (invariant only)', async () => {
    const rows = await (async () => {
      const conn = await lancedb.connect(db());
      const t = await conn.openTable('chunks');
      const got = await t.query().where("doc_id = 'docs/personal/alice.md'").select(['chunk_id']).toArray();
      conn.close();
      return got;
    })();
    expect(rows.length).toBeGreaterThan(0);
    await tamper('chunks', "doc_id = 'docs/personal/alice.md'", { acl: "['user:alice', 'group:hr']" });
    const rep = run('--json', 'audit', 'acl', '--index', 'default', '--mode', 'bm25').json();
    const kinds = rep.violations.map((v: { kind: string; doc_id: string }) => `${v.kind}:${v.doc_id}`);
    expect(kinds).toContain('chunk-acl-mismatch:docs/personal/alice.md');
    expect(kinds).toContain('index-acl-mismatch:docs/personal/alice.md');
  });

  it('validates its flags', () => {
    expect(run('audit', 'acl', '--mode', 'fuzzy').code).toBe(2);
    expect(run('audit', 'acl', '--max-probes', '0').code).toBe(2);
    expect(existsSync(db())).toBe(true);
  });
});
