/**
 * The JSON files of run artifacts (`rag eval --out`, `rag diff-eval --out`) as today's readers
 * expect them. Runs written before every key was snake_case (metrics.json `retrieval.rerankTopN`,
 * manifest.json `index.tableVersion`, comparison.json `metrics[].pAdjusted`…) stay readable by
 * `rag diff-eval`, `rag runs` and the HTML reports because each of them reads through here.
 */
import { isRecord, snakeKeysDeep } from '../json-keys.js';

/**
 * One parsed artifact file, named by its file name, with old key spellings renamed. Only the parts
 * whose keys are rag's own are touched: metrics.json's `per_query` and `mean` are keyed by query
 * ids and metric names (`P_10`), timings.json and queries.json by query ids, so they stay as read.
 */
export function normaliseArtifactFile(name: string, value: unknown): unknown {
  if (!isRecord(value)) return value;
  switch (name) {
    case 'metrics.json':
      return {
        ...value,
        ...(isRecord(value.retrieval) ? { retrieval: snakeKeysDeep(value.retrieval) } : {}),
        ...(isRecord(value.index) ? { index: snakeKeysDeep(value.index) } : {}),
      };
    case 'manifest.json': // run facts and the index manifest (see store/manifest.ts normaliseManifest)
    case 'comparison.json': // a DiffResult
      // Every object in these is rag's own; query ids and metric names appear only as values.
      return snakeKeysDeep(value);
    default:
      return value;
  }
}
