/**
 * `npm run build`: dist/ is the CLI as esbuild bundles it, then the type check.
 *
 * Why a bundle: a cold `rag query` spent ~70 ms of its start in Node's module loader alone —
 * apache-arrow is 134 CommonJS files (~70 ms to require, ~15 ms as one file), LanceDB's wrapper 19
 * more, and rag itself ~100 ES modules, each resolved, read and compiled on its own. Bundled, the
 * query path is a handful of files. Commands stay split (`splitting`): each command's code and the
 * ingest-only libraries load only when that command runs, as with the per-command `import()` in
 * cli.ts.
 *
 * What is compiled in: rag's own code and the packages every command loads (BUNDLED, with what
 * they import). What stays in node_modules: native addons and the packages that find their own
 * files at run time (onnxruntime-node and the onnxruntime-common it shares types with, pdfjs-dist,
 * the LanceDB binary package), and the ingest- or serve-only libraries (loaded per command anyway).
 *
 * Usage: tsx scripts/build.ts [--no-check]   (--no-check: bundle only, skip `tsc --noEmit`)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Plugin } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages compiled into dist/ (with the packages they import, unless native). */
export const BUNDLED = new Set([
  '@lancedb/lancedb',
  'apache-arrow',
  'commander',
  'zod',
  'yaml',
  'picomatch',
  'ignore',
  '@huggingface/tokenizers',
  // `rag mcp` hands rag's zod schemas to the SDK: one copy of zod for both.
  '@modelcontextprotocol/sdk',
]);

/** Never compiled in, even when a bundled package imports them: they load files next to their own. */
const NEVER = [/^onnxruntime-/, /^@lancedb\/lancedb-/, /^pdfjs-dist/, /^@napi-rs\//];

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** The file whose `createRequire(...)('apache-arrow')` the bundle replaces with an import. */
const ARROW_MODULE = path.join(ROOT, 'src/engine/store/arrow.ts');
const ARROW_REQUIRE = "createRequire(import.meta.url)('apache-arrow')";

const externals: Plugin = {
  name: 'rag-externals',
  setup(b) {
    // A native binary's loader tries `./x.node` then the platform package: both resolve at run time.
    b.onResolve({ filter: /\.node$/ }, () => ({ external: true }));
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (args.path.startsWith('node:')) return { external: true };
      const pkg = packageOf(args.path);
      if (NEVER.some((re) => re.test(pkg))) return { external: true };
      // LanceDB `require`s apache-arrow and rag imports it: both must get the one CommonJS build,
      // or Arrow values fail LanceDB's instanceof checks (the ESM build would be a second copy).
      if (args.path === 'apache-arrow') return { path: path.join(ROOT, 'node_modules/apache-arrow/Arrow.node.js') };
      // A package's own imports are compiled in with it (only bundled packages are ever read).
      const fromSrc = !args.importer.includes(`${path.sep}node_modules${path.sep}`);
      return !fromSrc || BUNDLED.has(pkg) ? undefined : { external: true };
    });
    // Unbundled (tests, bench) arrow.ts must `require` Arrow to share LanceDB's copy; in the bundle
    // that call would load the 134 files from node_modules beside the bundled copy, so it becomes
    // an import of the bundled one. Fails the build if the file stops matching.
    b.onLoad({ filter: /src[\\/]engine[\\/]store[\\/]arrow\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (args.path !== ARROW_MODULE || !text.includes(ARROW_REQUIRE)) {
        throw new Error(`${args.path} no longer holds ${ARROW_REQUIRE}: update scripts/build.ts to match`);
      }
      return { contents: `import * as bundled from 'apache-arrow';\n${text.replace(ARROW_REQUIRE, 'bundled')}`, loader: 'ts' };
    });
  },
};

/**
 * The client bin/rag offers a `rag query` to before it loads the CLI: one CommonJS file of Node
 * built-ins and rag's own code (argument reading, the socket request; the daemon draws the table).
 * CommonJS because an ES module start costs a cold process ~5 ms for the module loader alone, and
 * the whole answered query is ~30 ms over Node's own start (15 interleaved runs: 99 against 109 ms
 * for the same client as an ES module chunk). A package import here fails the build: the client
 * must stay this small.
 */
function daemonClient(outdir: string): Parameters<typeof esbuild>[0] {
  return {
    absWorkingDir: ROOT,
    entryPoints: ['src/server/daemon-client.ts'],
    outfile: path.join(outdir, 'daemon-client.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'error',
    plugins: [
      {
        name: 'rag-daemon-client-builtins-only',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            if (args.path.startsWith('node:')) return { external: true };
            return { errors: [{ text: `the daemon client (bin/rag's fast path) must not import the package ${args.path} (${args.importer})` }] };
          });
        },
      },
    ],
  };
}

/** Bundles src/ into `outdir` (replaced in one rename, so a running `rag` never sees half a build). */
export async function bundle(outdir = path.join(ROOT, 'dist')): Promise<void> {
  const tmp = `${outdir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await esbuild({
      absWorkingDir: ROOT,
      entryPoints: { cli: 'src/cli.ts' },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      // Chunks sit beside cli.js: version.ts finds ../package.json from any of them.
      chunkNames: 'chunk-[hash]',
      plugins: [externals],
      logLevel: 'error',
      // Less text for V8 to scan on every start: ~10 ms of a cold `rag query` (20 interleaved runs);
      // names are kept, and --verbose maps stacks back to src/ through the linked source maps.
      minifyWhitespace: true,
      minifySyntax: true,
      // CommonJS packages inside an ES module bundle still call `require`.
      banner: { js: "import { createRequire as __ragCreateRequire } from 'node:module';\nconst require = __ragCreateRequire(import.meta.url);" },
    });
    await esbuild(daemonClient(tmp));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = `${outdir}.old-${process.pid}`;
  try {
    renameSync(outdir, old);
  } catch {
    // no previous build
  }
  renameSync(tmp, outdir);
  rmSync(old, { recursive: true, force: true });
}

/** `tsc --noEmit`: the type errors as text, or null when there are none. */
export function typeCheck(): string | null {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT, '--noEmit'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${r.stdout}${r.stderr}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
  if (!process.argv.includes('--no-check')) {
    const errors = typeCheck();
    if (errors) {
      process.stderr.write(errors);
      process.exitCode = 1;
    }
  }
}
