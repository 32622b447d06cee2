/** Pure parts of the store's reliability code: error lines, generation names. */
import { describe, expect, it } from 'vitest';
import { RagError, UsageError } from '../src/engine/errors.js';
import { generationOf, generationTable } from '../src/engine/store/manifest.js';
import { storeErrorFrom, userFacingError } from '../src/engine/store/store-errors.js';

// Messages as LanceDB 0.31 throws them (captured from real failures in test/reliability).
const CONFLICT =
  'lance error: Retryable commit conflict for version 9: This CreateIndex transaction was preempted by concurrent transaction Rewrite at version 9. Please retry., /usr/local/cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lance-8.0.0/src/io/commit/conflict_resolver.rs:592:38';
const MISSING =
  'Failed to get next batch from stream: lance error: LanceError(IO): Object at location /tmp/x/store/idx_default.lance/_indices/9418bad5/tokens.lance not found: No such file or directory (os error 2), /usr/local/cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lance-io-8.0.0/src/object_store.rs:916:12';

describe('store errors become one line', () => {
  it('maps a commit conflict and a missing file to what happened and a fix, keeping the raw text as detail', () => {
    const c = storeErrorFrom(new Error(CONFLICT));
    expect(c.message).toBe('another process wrote the store at the same time (commit conflict)');
    expect(c.exitCode).toBe(3);
    expect(c.detail).toBe(CONFLICT);
    const m = storeErrorFrom(new Error(MISSING));
    expect(m.message).toMatch(/^part of the store is missing \(table idx_default\)/);
    expect(m.fix).toMatch(/rag index --rebuild/);
  });

  it('never lets raw library text or "Error: Error:" through; rag errors pass unchanged; bugs are internal errors', () => {
    for (const raw of [CONFLICT, MISSING, 'lance error: something new, src/x.rs:1:2']) {
      const e = userFacingError(new Error(raw));
      expect(e.message).not.toMatch(/lance error|\.rs:\d|Error:/);
    }
    const usage = new UsageError('bad flag');
    expect(userFacingError(usage)).toBe(usage);
    const bug = userFacingError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(bug).toBeInstanceOf(RagError);
    expect(bug.message).toBe("internal error: Cannot read properties of undefined (reading 'x')");
    expect(bug.detail).toMatch(/^TypeError: Cannot read/);
  });
});

describe('index generations', () => {
  it('names generation tables so that no index can be mistaken for another', () => {
    expect(generationTable('default', 0)).toBe('idx_default');
    expect(generationTable('default', 3)).toBe('idx_default.g3');
    expect(generationOf('default', 'idx_default.g3')).toBe(3);
    expect(generationOf('default', 'idx_default')).toBe(0);
    expect(generationOf('default', 'idx_default_2')).toBe(null);
    expect(generationOf('a', 'idx_a__2')).toBe(null);
    expect(generationOf('a', 'idx_a.g')).toBe(null);
    expect(generationOf('a', 'idx_ab.g1')).toBe(null);
  });
});
