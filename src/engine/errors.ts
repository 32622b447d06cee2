/** Exit codes shared by every command (see DESIGN.md). */
export const EXIT = { OK: 0, GATE: 1, USAGE: 2, STORE: 3 } as const;

/** Base class: every error the engine throws on purpose carries its exit code and a fix. */
export class RagError extends Error {
  /** The underlying library's own text, shown only with `--verbose`. */
  detail?: string;
  constructor(
    message: string,
    readonly exitCode: number,
    readonly fix?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from the user: a flag, a config key, a file. Exit 2. */
export class UsageError extends RagError {
  constructor(message: string, fix?: string) {
    super(message, EXIT.USAGE, fix);
  }
}

/** A file the user gave us is malformed: names the file and, when known, the line. Exit 2. */
export class InputError extends RagError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    fix?: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${problem}`, EXIT.USAGE, fix);
  }
}

/** The store or a model could not be opened or written. Exit 3. */
export class StoreError extends RagError {
  constructor(message: string, fix?: string) {
    super(message, EXIT.STORE, fix);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A search produced a chunk the caller may not see. The pre-filter makes this impossible, so it
 * is a bug (or a tampered store): the search refuses to answer rather than leak. Exit 3.
 */
export class AclViolationError extends StoreError {
  constructor(readonly chunkId: string, stage: string) {
    super(`ACL violation: chunk ${chunkId} ${stage} for a caller who may not see it`, 'run `rag audit acl` and rebuild the index');
  }
}
