import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The models every test uses, in-process code and CLI processes alike: RAG_MODELS_DIR, else the
 * repo's .models that test/global-setup.ts prepares. Without this, code run inside a test worker
 * would look in the product's default (~/.cache/rag/models) on a fresh machine.
 */
const models = process.env.RAG_MODELS_DIR ?? path.join(import.meta.dirname, '.models');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: { RAG_MODELS_DIR: models },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
