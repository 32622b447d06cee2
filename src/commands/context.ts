import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type RagConfig } from '../engine/config.js';
import { Store } from '../engine/store/store.js';
import { describeHolder } from '../engine/store/writer-lock.js';

export { DEFAULT_RERANKER, resolveRerank } from '../engine/config.js';

export interface GlobalOptions {
  db?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** What every command gets: validated config, the store location and the output channels. */
export interface Context {
  config: RagConfig;
  configPath?: string;
  db: string;
  json: boolean;
  quiet: boolean;
  /** Human output on stdout (suppressed by --json, which owns stdout). */
  print(text: string): void;
  /** Diagnostics on stderr (suppressed by --quiet). */
  log(text: string): void;
  /** A one-line notice worth seeing even with --json: on stderr, suppressed by --quiet. */
  notice(text: string): void;
  /** The machine-readable result for --json. */
  emit(value: unknown): void;
  /** Opens the store; `writer` takes its writer lock first (ingest, index), waiting per `--wait`. */
  openStore(create?: boolean, writer?: { command: string; wait?: true | number }): Promise<Store>;
  isTTY: boolean;
}

export function contextFrom(cmd: Command): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const { config, path } = loadConfig(g.config);
  const db = g.db ?? process.env.RAG_DB ?? config.db ?? '.rag';
  const json = Boolean(g.json);
  const quiet = Boolean(g.quiet);
  const stores: Store[] = [];
  return {
    config,
    configPath: path,
    db,
    json,
    quiet,
    print: (t) => {
      if (!json) process.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
    },
    log: (t) => {
      if (!quiet) process.stderr.write(t.endsWith('\n') ? t : `${t}\n`);
    },
    notice: (t) => {
      if (!quiet) process.stderr.write(`note: ${t}\n`);
    },
    emit: (v) => {
      process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    },
    openStore: async (create = false, writer) => {
      const s = await Store.open(db, {
        create,
        writer: writer && {
          command: writer.command,
          waitSeconds: writer.wait === true ? Infinity : writer.wait,
          onWait: (h) => {
            if (!quiet) process.stderr.write(`note: waiting for another writer (${describeHolder(h)}) to finish\n`);
          },
        },
      });
      stores.push(s);
      return s;
    },
    isTTY: Boolean(process.stderr.isTTY) && !quiet && !json,
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function intOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
    }
    return n;
  };
}

/** A repeatable, comma-separated option restricted to a set of values (e.g. --mode bm25,vector). */
export function collectChoices<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string, previous: T[] | undefined): T[] => {
    const out = [...(previous ?? [])];
    for (const v of value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
      if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`${flag} must be one of ${choices.join(', ')}, got "${v}"`);
      out.push(v as T);
    }
    return out;
  };
}

/** `--wait [seconds]`: queue behind another writer (no limit, or at most SECONDS). */
export function waitOption(cmd: Command): Command {
  return cmd.option(
    '--wait [seconds]',
    'when another ingest/index holds the store, wait for it (at most SECONDS) instead of exiting 3',
    (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--wait takes a number of seconds, got "${v}" (write --wait=SECONDS, or put a bare --wait after the paths)`);
      return n;
    },
  );
}
