/**
 * The tree's dependency rules (ARCHITECTURE.md), checked from the import statements themselves:
 * data flows one way through the pipeline, only the store talks to LanceDB, nothing loops.
 * Run by `npm test` (test/architecture.test.ts) and by hand: `npx tsx scripts/check-architecture.ts`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Layers, lowest first. A module may import its own layer group and any lower rank, never higher. */
export const LAYERS: { group: string; rank: number; match: (rel: string) => boolean }[] = [
  { group: 'base', rank: 0, match: (r) => r === 'src/version.ts' || r.startsWith('src/types/') || /^src\/engine\/[^/]+\.ts$/.test(r) },
  { group: 'connectors', rank: 1, match: (r) => r.startsWith('src/connectors/') },
  { group: 'store', rank: 1, match: (r) => r.startsWith('src/engine/store/') },
  { group: 'models', rank: 1, match: (r) => r.startsWith('src/engine/models/') },
  { group: 'ingest', rank: 2, match: (r) => r.startsWith('src/engine/ingest/') },
  { group: 'index', rank: 3, match: (r) => r.startsWith('src/engine/index/') },
  { group: 'search', rank: 4, match: (r) => r.startsWith('src/engine/search/') },
  { group: 'evaluation', rank: 5, match: (r) => r.startsWith('src/engine/evaluation/') },
  { group: 'audit', rank: 6, match: (r) => r.startsWith('src/engine/audit/') },
  { group: 'labeling', rank: 6, match: (r) => r.startsWith('src/engine/labeling/') },
  { group: 'render', rank: 7, match: (r) => r.startsWith('src/render/') },
  { group: 'tui', rank: 8, match: (r) => r.startsWith('src/tui/') },
  { group: 'server', rank: 8, match: (r) => r.startsWith('src/server/') },
  { group: 'commands', rank: 9, match: (r) => r.startsWith('src/commands/') },
  { group: 'cli', rank: 10, match: (r) => r === 'src/cli.ts' },
];

/** Packages that only one part of the tree may import, and why. */
export const PACKAGE_OWNERS: { pkg: RegExp; allowed: (rel: string) => boolean; why: string }[] = [
  { pkg: /^@lancedb\/lancedb$/, allowed: (r) => r.startsWith('src/engine/store/') || r === 'bench/lib/ann.ts', why: 'only store/ opens LanceDB (bench/lib/ann.ts measures raw LanceDB index kinds as a peer)' },
  { pkg: /^commander$/, allowed: (r) => r.startsWith('src/commands/') || r === 'src/cli.ts', why: 'flags are parsed by commands only' },
];

export interface Violation {
  file: string;
  imports: string;
  rule: string;
}

export function layerOf(rel: string) {
  return LAYERS.find((l) => l.match(rel)) ?? null;
}

const IMPORT_RE = /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Import specifiers of a source text (static, re-exports, dynamic), comments removed first. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2]!);
  return out;
}

/** Checks a set of files (repo-relative path → source text). Pure, so the rules themselves are testable. */
export function checkFiles(files: Map<string, string>): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (const [rel, source] of files) {
    const edges: string[] = [];
    for (const spec of importsOf(source)) {
      if (!spec.startsWith('.')) {
        for (const owner of PACKAGE_OWNERS) {
          if (owner.pkg.test(spec) && !owner.allowed(rel)) violations.push({ file: rel, imports: spec, rule: owner.why });
        }
        continue;
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '.ts');
      edges.push(target);
      const from = layerOf(rel);
      const to = layerOf(target);
      if (!from || !to) continue;
      if (to.rank > from.rank) {
        violations.push({ file: rel, imports: target, rule: `${from.group} (rank ${from.rank}) must not import the later stage ${to.group} (rank ${to.rank})` });
      } else if (to.rank === from.rank && to.group !== from.group && from.rank !== 0) {
        violations.push({ file: rel, imports: target, rule: `${from.group} and ${to.group} are siblings: neither imports the other` });
      }
    }
    graph.set(rel, edges);
  }
  for (const cycle of findCycles(graph)) violations.push({ file: cycle[0]!, imports: cycle[1]!, rule: `import cycle: ${cycle.join(' → ')}` });
  return violations;
}

/** One representative cycle per strongly connected group of modules (Tarjan). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push([...comp.reverse(), comp[0]!]);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

export function readTree(root: string, dirs: string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(root, dir)).sort()) {
      const rel = `${dir}/${name}`;
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel);
      else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) files.set(rel, readFileSync(path.join(root, rel), 'utf8'));
    }
  };
  for (const d of dirs) walk(d);
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(import.meta.dirname, '..');
  const violations = checkFiles(readTree(root, ['src', 'bench', 'scripts']));
  for (const v of violations) console.log(`${v.file} → ${v.imports}: ${v.rule}`);
  console.log(violations.length ? `${violations.length} violation(s)` : 'architecture: ok');
  process.exitCode = violations.length ? 1 : 0;
}
