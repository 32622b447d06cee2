import { UsageError } from '../engine/errors.js';
import { describeFreshness, type IndexFreshness } from '../engine/index/freshness.js';

/** The command that brings an index up to date. */
export function indexCommand(index: string, configured: string): string {
  return `rag index${index === configured ? '' : ` --name ${index}`}`;
}

/** One line for an index behind its chunks (query's notice; eval's gate refusal says the same). */
export function staleIndexLine(index: string, f: IndexFreshness, configured: string): string {
  return `index "${index}" is behind the chunks (${describeFreshness(f)}): answers may miss documents — run \`${indexCommand(index, configured)}\``;
}

/** A gate on a half-built index measures the build, not the retriever: refused (exit 2) rather than passed or failed. */
export function staleGateError(index: string, f: IndexFreshness, configured: string): UsageError {
  return new UsageError(
    `index "${index}" is behind the chunks (${describeFreshness(f)}): a gate on it would score a partial index`,
    `run \`${indexCommand(index, configured)}\` first, or pass --allow-stale to gate anyway`,
  );
}
