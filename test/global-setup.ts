import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Builds dist/ once per test run, so every CLI test runs the same compiled code. Type errors are
 * printed but do not stop the emit here: `npm run build` (run by .ci/run first) fails on them.
 */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`tsc reported errors (dist/ still emitted):\n${r.stdout}${r.stderr}`);
}
