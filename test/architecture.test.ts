import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFiles, importsOf, readTree } from '../scripts/check-architecture.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('architecture rules (ARCHITECTURE.md)', () => {
  it('the tree as it stands breaks none of them', () => {
    const violations = checkFiles(readTree(ROOT, ['src', 'bench', 'scripts']));
    expect(violations.map((v) => `${v.file} → ${v.imports}: ${v.rule}`)).toEqual([]);
  });

  it('flags a stage importing a later stage', () => {
    const files = new Map([
      ['src/engine/ingest/ingest.ts', "import { buildIndex } from '../index/indexer.js';"],
      ['src/engine/index/indexer.ts', "import { x } from '../store/store.js';"],
    ]);
    const v = checkFiles(files);
    expect(v).toHaveLength(1);
    expect(v[0]!.rule).toMatch(/ingest .* must not import the later stage index/);
  });

  it('flags LanceDB or commander outside their owners, including type-only and dynamic imports', () => {
    const files = new Map([
      ['src/engine/search/retriever.ts', "import type * as lancedb from '@lancedb/lancedb';"],
      ['src/engine/evaluation/eval.ts', "const m = await import('commander');"],
      ['src/render/status.ts', "const lancedb = await import('@lancedb/lancedb');"],
      ['src/engine/store/store.ts', "import * as lancedb from '@lancedb/lancedb';"],
    ]);
    expect(checkFiles(files).map((x) => x.file).sort()).toEqual(['src/engine/evaluation/eval.ts', 'src/engine/search/retriever.ts', 'src/render/status.ts']);
  });

  it('flags siblings importing each other and import cycles', () => {
    const files = new Map([
      ['src/connectors/pdf.ts', "import { Store } from '../engine/store/store.js';"],
      ['src/engine/models/index.ts', "export type { Embedder } from './onnx.js';"],
      ['src/engine/models/onnx.ts', "import type { Embedder } from './index.js';"],
    ]);
    const rules = checkFiles(files).map((x) => x.rule);
    expect(rules.some((r) => /connectors and store are siblings/.test(r))).toBe(true);
    expect(rules.some((r) => /import cycle: src\/engine\/models\/index.ts → src\/engine\/models\/onnx.ts → src\/engine\/models\/index.ts/.test(r))).toBe(true);
  });

  it('reads every import form and ignores commented-out ones', () => {
    const src = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "const e = await import('./e.js');",
      "import {\n  f,\n  g,\n} from './fg.js';",
      "// import z from './z.js';",
      "/* import y from './y.js'; */",
    ].join('\n');
    expect(importsOf(src)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './fg.js']);
  });
});
