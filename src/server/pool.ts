/**
 * Warm retrievers for a long-lived process (`rag serve`, `rag mcp`): one per index, shared by every
 * request, replaced when a writer commits.
 *
 * A generation is one Store connection with its table handles pinned at the versions probed when it
 * opened, plus the Retriever over them (models loaded, passages in memory). Every `refreshMs` a
 * fresh connection reads the index's manifest and the current versions of its table and of the
 * documents table; when that stamp differs, a new generation is warmed and swapped in. A request
 * leases the generation current when it starts and keeps it to the end, so it never mixes two
 * versions; a retired generation is closed when its last lease is returned.
 */
import type { RagConfig } from '../engine/config.js';
import { StoreError } from '../engine/errors.js';
import { indexFreshness, type IndexFreshness } from '../engine/index/freshness.js';
import { Retriever } from '../engine/search/retriever.js';
import { readIndexManifest } from '../engine/store/manifest.js';
import { DOCUMENTS, Store } from '../engine/store/store.js';
import { userFacingError } from '../engine/store/store-errors.js';

/** What identifies the data a generation serves. */
export interface Stamp {
  index: string;
  table: string;
  tableVersion: number;
  documentsVersion: number;
  manifestUpdatedAt: string;
}

export const stampLabel = (s: Stamp) => `${s.table}@${s.tableVersion}`;
const sameStamp = (a: Stamp, b: Stamp) =>
  a.table === b.table && a.tableVersion === b.tableVersion && a.documentsVersion === b.documentsVersion && a.manifestUpdatedAt === b.manifestUpdatedAt;

class Generation {
  refs = 0;
  retired = false;
  closed = false;
  constructor(
    readonly store: Store,
    readonly retriever: Retriever,
    readonly stamp: Stamp,
    /** Taken once when the generation is built: a change to the chunks changes the stamp, and so builds the next one. */
    readonly freshness: IndexFreshness,
  ) {}

  closeIfIdle(): void {
    if (this.retired && this.refs === 0 && !this.closed) {
      this.closed = true;
      this.store.close();
    }
  }
}

export interface Lease {
  readonly retriever: Retriever;
  readonly store: Store;
  readonly stamp: Stamp;
  /** Whether this generation's index is behind the chunks (see engine/index/freshness.ts). */
  readonly freshness: IndexFreshness;
  /** Idempotent. */
  release(): void;
}

export interface PoolOptions {
  db: string;
  config: RagConfig;
  /** How often a change is looked for; a new version is served within this plus its warm-up. */
  refreshMs: number;
  notice: (msg: string) => void;
  onSwap?: (from: Stamp, to: Stamp) => void;
  /**
   * How long a newer version may stay unreadable before the index is withheld (default 60 s). The
   * old generation's pinned handles still show documents an ingest has since withdrawn (a revoked
   * ACL among them): serving it for a moment bridges a rebuild, serving it indefinitely is a leak.
   */
  staleLimitMs?: number;
}

export class RetrieverPool {
  private slots = new Map<string, Promise<Generation>>();
  private current = new Map<string, Generation>();
  /** Every generation not yet closed, current or retired. */
  private live = new Set<Generation>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private lastError = new Map<string, string>();
  /** Since when each index has had a newer version it could not read. */
  private failingSince = new Map<string, number>();
  private drained: (() => void) | null = null;
  private closing = false;

  constructor(private readonly opts: PoolOptions) {}

  /** Opens (once) and warms the generation of `index`; errors propagate (unknown index, missing table). */
  async open(index: string): Promise<Generation> {
    let slot = this.slots.get(index);
    if (!slot) {
      slot = this.build(index).then((g) => {
        this.current.set(index, g);
        return g;
      });
      this.slots.set(index, slot);
      slot.catch(() => this.slots.delete(index));
    }
    return slot;
  }

  private async build(index: string): Promise<Generation> {
    const store = await Store.open(this.opts.db);
    try {
      const stamp = await probe(store, index);
      const retriever = await Retriever.open(store, this.opts.config, index);
      await retriever.warm();
      return this.track(new Generation(store, retriever, stamp, await indexFreshness(store, retriever.manifest)));
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /** The generation current now, held until `release()`. */
  async acquire(index: string): Promise<Lease> {
    const withheld = this.withheld(index);
    if (withheld) throw withheld;
    const g = this.current.get(index) ?? (await this.open(index));
    g.refs++;
    let released = false;
    return {
      retriever: g.retriever,
      store: g.store,
      stamp: g.stamp,
      freshness: g.freshness,
      release: () => {
        if (released) return;
        released = true;
        g.refs--;
        this.retire(g, false);
        if (this.drained && this.idle()) this.drained();
      },
    };
  }

  /** Why answers from `index` are withheld (a newer version unreadable past the stale limit), or null. */
  withheld(index: string): StoreError | null {
    const since = this.failingSince.get(index);
    const limit = this.opts.staleLimitMs ?? 60_000;
    if (since === undefined || Date.now() - since <= limit) return null;
    return new StoreError(
      `index "${index}" has a newer version this server could not read for ${Math.round((Date.now() - since) / 1000)} s (${this.lastError.get(index) ?? 'unknown error'}); answers are withheld rather than served from the old version, which may still show withdrawn documents`,
      'fix what the server log names (often a model missing from its RAG_MODELS_DIR), or restart rag serve',
    );
  }

  stamp(index: string): Stamp | null {
    return this.current.get(index)?.stamp ?? null;
  }

  indexes(): string[] {
    return [...this.current.keys()].sort();
  }

  start(): void {
    this.timer ??= setInterval(() => void this.refresh(), this.opts.refreshMs);
    this.timer.unref();
  }

  /** Looks for new versions of every open index and swaps them in; one refresh at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshAll().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refreshAll(): Promise<void> {
    for (const [index, g] of [...this.current]) {
      if (this.closing) return;
      let fresh: Store | null = null;
      try {
        fresh = await Store.open(this.opts.db);
        const stamp = await probe(fresh, index);
        if (sameStamp(stamp, g.stamp)) {
          this.failingSince.delete(index); // a blip (unreadable probe) that passed
          continue;
        }
        const retriever = await Retriever.open(fresh, this.opts.config, index);
        await retriever.warm();
        const freshness = await indexFreshness(fresh, retriever.manifest);
        if (this.closing) continue;
        const next = this.track(new Generation(fresh, retriever, stamp, freshness));
        fresh = null; // owned by the generation now
        this.current.set(index, next);
        this.slots.set(index, Promise.resolve(next));
        this.retire(g, true);
        this.lastError.delete(index);
        this.failingSince.delete(index);
        this.opts.onSwap?.(g.stamp, stamp);
      } catch (err) {
        // A writer mid-rebuild can leave the index briefly unreadable: keep serving what we have.
        // One line a key holder may read (the 500 after --stale-limit carries it): never the raw library text.
        const msg = userFacingError(err).message;
        if (this.lastError.get(index) !== msg) this.opts.notice(`index "${index}": keeping ${stampLabel(g.stamp)}, the new version is not readable yet (${msg})`);
        this.lastError.set(index, msg);
        if (!this.failingSince.has(index)) this.failingSince.set(index, Date.now());
      } finally {
        fresh?.close();
      }
    }
  }

  private track(g: Generation): Generation {
    this.live.add(g);
    return g;
  }

  private retire(g: Generation, retired: boolean): void {
    if (retired) g.retired = true;
    g.closeIfIdle();
    if (g.closed) this.live.delete(g);
  }

  private idle(): boolean {
    return [...this.live].every((g) => g.refs === 0);
  }

  /** Stops refreshing, waits (at most `waitMs`) for outstanding leases, then closes every store. */
  async close(waitMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    if (!this.idle()) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, waitMs).unref();
      });
    }
    for (const g of this.live) {
      g.refs = 0;
      this.retire(g, true);
    }
    this.current.clear();
    this.slots.clear();
  }
}

/** The versions a store connection sees for an index: read through that connection's pinned handles. */
async function probe(store: Store, index: string): Promise<Stamp> {
  const m = await readIndexManifest(store, index);
  return {
    index,
    table: m.table,
    tableVersion: (await store.version(m.table)) ?? -1,
    documentsVersion: (await store.version(DOCUMENTS)) ?? -1,
    manifestUpdatedAt: m.updated_at,
  };
}
