/**
 * Records every file a `rag` process resolves, through Node's CommonJS resolver (`require`, as
 * LanceDB loads Arrow) and its ES module resolver alike: pass `nodeOptions` as NODE_OPTIONS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './cli.js';

export interface LoadTrace {
  nodeOptions: string;
  /** Resolved files and URLs since the last call (built-ins as `node:x` or `x`). */
  take(): string[];
}

export function loadTrace(): LoadTrace {
  const dir = tempDir('rag-trace-');
  const log = path.join(dir, 'loaded.txt');
  const script = path.join(dir, 'trace.cjs');
  writeFileSync(
    script,
    `const M = require('node:module'); const fs = require('node:fs');
const resolve = M._resolveFilename;
M._resolveFilename = function (...a) { const f = resolve.apply(this, a); fs.appendFileSync(${JSON.stringify(log)}, f + '\\n'); return f; };
M.register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\\\n'); return r; }\`));
`,
  );
  writeFileSync(log, '');
  return {
    nodeOptions: `--require ${script}`,
    take() {
      const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      writeFileSync(log, '');
      return loaded;
    },
  };
}
