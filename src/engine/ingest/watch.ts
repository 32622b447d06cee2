import path from 'node:path';
import type { RagConfig } from '../config.js';
import type { Store } from '../store/store.js';
import { ingest, type IngestFormat, type IngestSummary } from './ingest.js';

export interface WatchOptions {
  paths: string[];
  format: IngestFormat;
  cwd?: string;
  /** Quiet time after the last file event before a batch starts. */
  debounceMs?: number;
  /** A batch starts at the latest this long after the first pending event, even if events keep coming. */
  maxWaitMs?: number;
  /** The config in force; called before every batch, so an edited config file applies to the next one. */
  config: () => RagConfig;
  /** Files whose change alone starts a batch (the config file), besides the watched paths. */
  extraFiles?: string[];
  /** Paths never to react to (the store itself, when it lives under a watched folder). */
  ignore?: string[];
  /** After each committed ingest batch (the command brings the named index up to date here). */
  onBatch: (summary: IngestSummary, info: { batch: number; events: number; firstEventAt: number | null; ingestSeconds: number }) => Promise<void>;
  /** A batch failed as a whole (store error): reported, and the watch goes on. */
  onError: (err: unknown) => void;
  /** Resolves when the watch should end (Ctrl-C). The batch in flight is finished first. */
  stop: Promise<void>;
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.rag', '.hg', '.svn']);

/**
 * Keeps the store current with the watched paths: a first full ingest, then one batch per burst
 * of file events (debounced). Each batch is an ordinary `ingest()` over the watched paths, so
 * it is crash-safe in the same way (chunks before documents, one commit each, a killed batch is
 * redone by the next) and unchanged files cost a stat, not a parse. Deleted files are tombstoned
 * and changed ones withdrawn from every index by the ingest itself, before `onBatch` re-indexes.
 */
export async function watchSources(store: Store, opts: WatchOptions): Promise<void> {
  const cwd = opts.cwd ?? process.cwd();
  const debounceMs = opts.debounceMs ?? 150;
  const maxWaitMs = opts.maxWaitMs ?? 1000;
  const ignored = (opts.ignore ?? []).map((p) => path.resolve(cwd, p));
  const { watch } = await import('chokidar');

  let batch = 0;
  let pending = 0;
  let firstEventAt: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let stopping = false;

  const runBatch = async () => {
    const events = pending;
    const first = firstEventAt;
    pending = 0;
    firstEventAt = null;
    try {
      const t0 = performance.now();
      const summary = await ingest(store, opts.config(), { paths: opts.paths, format: opts.format, prune: true, cwd });
      await opts.onBatch(summary, { batch: batch++, events, firstEventAt: first, ingestSeconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      opts.onError(err);
    }
  };
  const drain = async () => {
    while (pending > 0 && !stopping) await runBatch();
    running = null;
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    if (stopping) return;
    const waited = firstEventAt === null ? 0 : performance.now() - firstEventAt;
    timer = setTimeout(() => {
      timer = undefined;
      // One batch at a time: events during a batch start the next one when it ends.
      if (!running) running = drain();
    }, Math.max(0, Math.min(debounceMs, maxWaitMs - waited)));
  };

  // Watching starts before the first pass, so nothing saved during it is missed.
  const watcher = watch([...opts.paths.map((p) => path.resolve(cwd, p)), ...(opts.extraFiles ?? [])], {
    ignoreInitial: true,
    persistent: true,
    ignored: (p: string) => SKIPPED_DIRS.has(path.basename(p)) || ignored.some((i) => p === i || p.startsWith(i + path.sep)),
  });
  const onEvent = () => {
    if (stopping) return;
    if (pending === 0 && firstEventAt === null) firstEventAt = performance.now();
    pending++;
    schedule();
  };
  watcher.on('all', onEvent);
  watcher.on('error', (err) => opts.onError(err));
  await new Promise<void>((resolve) => watcher.on('ready', () => resolve()));

  // The first pass is an ordinary ingest: whatever changed while nobody watched goes in now.
  pending = 1;
  running = drain();

  await opts.stop;
  stopping = true;
  if (timer) clearTimeout(timer);
  await watcher.close();
  await (running as Promise<void> | null); // the batch in flight completes; none starts after it
}
