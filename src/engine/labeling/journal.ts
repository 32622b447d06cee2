/**
 * The labeling journal: an append-only JSONL file beside the golden set (`<golden>.labels.jsonl`)
 * that records every labeling event the moment it happens. The golden file itself is derived
 * from it (materialised atomically), so `rag eval --golden FILE` always reads plain rag JSONL.
 *
 * Why a journal and not in-place edits: each grade is one `appendFileSync` + `fsyncSync`, so a
 * closed terminal or a killed process loses at most the grade being typed, several labelers can
 * append to one file, and undo is just another event.
 *
 * Events (one JSON object per line):
 *   {"type":"base","at":…,"golden":"<golden file text>","after"?:n}  snapshot of the golden file as found
 *   {"type":"grade","qid","query","doc_id","chunk_id","unit","grade":0-3,"labeler","at","index_manifest_hash",…}
 *   {"type":"skip",…}   seen, deliberately not graded
 *   {"type":"undo",…}   withdraws that labeler's latest grade/skip of (qid, doc or chunk)
 *   {"type":"note",…,"note":"…"}
 *
 * Golden grade rule (documented for users in the README):
 *   1. an adjudicated grade (`rag label --adjudicate`) wins — the latest one;
 *   2. otherwise the lower median of the labelers' current grades (one labeler → that grade;
 *      two labelers 1 and 2 → 1: disagreement resolves towards "less relevant" until adjudicated);
 *   3. a judgment nobody in the journal currently grades keeps its value from the latest base
 *      snapshot (what the golden file held before labeling, or after a hand edit).
 * A hand edit of the golden file (detected by its sha256 differing from every text rag wrote,
 * recorded in `<golden>.labels.sha256`) is snapshotted as a new base, and the judgments it changed
 * or deleted stand as edited until someone grades them again: only grades given after the edit
 * count for them. So an edit is never overwritten by grades it already knew about.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, writeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { formatGoldenJsonl, MAX_GRADE, parseGoldenJsonl, type GoldenQuery } from '../evaluation/goldens.js';
import type { Qrels } from '../evaluation/qrels.js';
import { sha256 } from '../hash.js';
import { withFileLock } from '../file-lock.js';

export type JudgmentUnit = 'doc' | 'chunk';
export type ActionType = 'grade' | 'skip' | 'undo' | 'note';

export interface LabelEvent {
  type: ActionType;
  qid: string;
  query: string;
  doc_id: string;
  chunk_id: string;
  /** Which id the judgment is about; default `doc`. */
  unit?: JudgmentUnit;
  grade?: number;
  labeler: string;
  /** ISO 8601 time the labeler acted. */
  at: string;
  index_manifest_hash: string;
  note?: string;
  /** Principals and tenant the labeler searched as (recorded so eval can run the query the same way). */
  as?: string[];
  tenant?: string;
  adjudicated?: boolean;
  /** Where the event came from when not typed in the terminal, e.g. `import:grades.csv:12`. */
  source?: string;
}

export interface BaseEvent {
  type: 'base';
  at: string;
  golden: string;
  /**
   * A hand edit: the golden file it was made to had been written from this many journal events.
   * Events from there on are newer than the edit, even those appended before it was noticed.
   */
  after?: number;
}

export type JournalEvent = LabelEvent | BaseEvent;

export function journalPathFor(goldenPath: string): string {
  return `${goldenPath}.labels.jsonl`;
}

/** Hashes of the golden texts rag wrote last (the current one, and the one before it). */
export function writtenHashesPathFor(goldenPath: string): string {
  return `${goldenPath}.labels.sha256`;
}

export function lockPathFor(goldenPath: string): string {
  return `${goldenPath}.lock`;
}

/** The judgment key an event is about: the doc id, or the chunk id when labeling chunks. */
export function judgmentKey(ev: Pick<LabelEvent, 'unit' | 'doc_id' | 'chunk_id'>): string {
  return ev.unit === 'chunk' ? ev.chunk_id : ev.doc_id;
}

/**
 * Reads a journal. A last line without its newline is a write cut short by a kill: it is
 * ignored (and reported as torn) rather than failing the whole journal. Any other bad line is an
 * input error naming the line.
 */
export function readJournal(file: string): { events: JournalEvent[]; torn: boolean } {
  if (!existsSync(file)) return { events: [], torn: false };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const endsClean = text === '' || text.endsWith('\n');
  const events: JournalEvent[] = [];
  let torn = false;
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const isLast = i === lines.length - 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      if (isLast && !endsClean) {
        torn = true;
        return;
      }
      throw new InputError(file, i + 1, `invalid journal line: ${(err as Error).message}`, 'delete or repair this line (the journal is one JSON object per line)');
    }
    events.push(validateEvent(obj, file, i + 1));
  });
  return { events, torn };
}

function validateEvent(obj: unknown, file: string, line: number): JournalEvent {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new InputError(file, line, 'journal line is not a JSON object', 'delete or repair this line');
  }
  const e = obj as Record<string, unknown>;
  if (e.type === 'base') {
    if (typeof e.golden !== 'string') throw new InputError(file, line, 'base event without "golden" text', 'delete or repair this line');
    if (e.after !== undefined && !(Number.isInteger(e.after) && (e.after as number) >= 0)) throw new InputError(file, line, `base event "after" ${JSON.stringify(e.after)} is not a count of events`, 'delete the "after" field');
    return e as unknown as BaseEvent;
  }
  if (!['grade', 'skip', 'undo', 'note'].includes(e.type as string)) {
    throw new InputError(file, line, `unknown event type ${JSON.stringify(e.type)}`, 'types are base, grade, skip, undo and note');
  }
  for (const k of ['qid', 'query', 'doc_id', 'labeler', 'at'] as const) {
    if (typeof e[k] !== 'string' || e[k] === '') throw new InputError(file, line, `event without "${k}"`, 'delete or repair this line');
  }
  if (e.type === 'grade' && !isGrade(e.grade)) {
    throw new InputError(file, line, `grade ${JSON.stringify(e.grade)} is not an integer 0–${MAX_GRADE}`, 'grades are 0, 1, 2 or 3');
  }
  return e as unknown as LabelEvent;
}

export function isGrade(g: unknown): g is number {
  return typeof g === 'number' && Number.isInteger(g) && g >= 0 && g <= MAX_GRADE;
}

/** Appends one event and forces it to disk before returning. */
export function appendEvent(file: string, ev: JournalEvent): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, `${JSON.stringify(ev)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Cuts a torn last line (a write interrupted by a kill) so the next append starts on a fresh line. */
export function repairJournal(file: string): boolean {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  if (text === '' || text.endsWith('\n')) return false;
  const lastNl = text.lastIndexOf('\n');
  const tail = text.slice(lastNl + 1);
  try {
    JSON.parse(tail);
    // Complete object, only the newline is missing.
    const fd = openSync(file, 'a');
    writeSync(fd, '\n');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    truncateSync(file, Buffer.byteLength(text.slice(0, lastNl + 1), 'utf8'));
  }
  return true;
}

// ─── replay ──────────────────────────────────────────────────────────────────────────────────

/** A labeler's current verdict on one (query, key): a grade, or a deliberate skip. */
export interface Verdict {
  grade: number | null;
  at: string;
  adjudicated: boolean;
  docId: string;
  chunkId: string;
  /** Position of the event in the journal: orders verdicts against hand edits. */
  seq: number;
}

/** A judgment a hand edit changed (grade) or deleted (null); verdicts from journal position `since` on are newer. */
export interface Override {
  grade: number | null;
  since: number;
}

export interface QueryInfo {
  id: string;
  text: string;
  principals?: string[];
  tenant?: string;
}

export interface LabelState {
  /** Latest base snapshot: the golden file's content before (or outside) labeling. */
  base: { queries: GoldenQuery[]; qrels: Qrels; notes: Record<string, string> };
  /** Queries seen in the journal, in first-appearance order. */
  queries: Map<string, QueryInfo>;
  /** labeler → qid → key → current verdict (undo already applied). */
  verdicts: Map<string, Map<string, Map<string, Verdict>>>;
  notes: LabelEvent[];
  /** Labelers in first-appearance order. */
  labelers: string[];
  /** qid → key → what the latest base snapshot changed relative to the journal before it. */
  overrides: Map<string, Map<string, Override>>;
  /** Journal position from which events are newer than the latest base snapshot. */
  baseSince: number;
  /** Journal position of each note in `notes`. */
  noteSeqs: number[];
}

const EMPTY_BASE = (): LabelState['base'] => ({ queries: [], qrels: new Map(), notes: {} });

export function parseBase(text: string, file = '<golden>'): LabelState['base'] {
  if (text.trim() === '') return EMPTY_BASE();
  const g = parseGoldenJsonl(text, file);
  const notes: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim()) continue;
    const rec = JSON.parse(raw) as { id?: unknown; notes?: unknown };
    if (typeof rec.notes === 'string' && rec.notes) notes[String(rec.id)] = rec.notes;
  }
  return { queries: g.queries, qrels: g.qrels, notes };
}

export function replay(events: readonly JournalEvent[]): LabelState {
  const state: LabelState = {
    base: EMPTY_BASE(), queries: new Map(), verdicts: new Map(), notes: [], labelers: [], overrides: new Map(), baseSince: 0, noteSeqs: [],
  };
  const stacks = new Map<string, Verdict[]>();
  // A hand edit is compared with the golden set as it was when the edited file was written.
  const wanted = new Set<number>();
  events.forEach((ev, i) => {
    if (ev.type === 'base' && ev.after !== undefined && ev.after >= 0 && ev.after < i) wanted.add(ev.after);
  });
  const asOf = new Map<number, Qrels>();
  for (const [seq, ev] of events.entries()) {
    if (wanted.has(seq)) asOf.set(seq, decideGolden(state).qrels);
    if (ev.type === 'base') {
      const since = ev.after !== undefined && asOf.has(ev.after) ? ev.after : seq + 1;
      const prior = asOf.get(since) ?? decideGolden(state).qrels;
      state.base = parseBase(ev.golden, 'journal base snapshot');
      recordOverrides(state, prior, since);
      state.baseSince = since;
      continue;
    }
    if (!state.queries.has(ev.qid)) {
      state.queries.set(ev.qid, { id: ev.qid, text: ev.query, principals: ev.as, tenant: ev.tenant });
    }
    if (!state.labelers.includes(ev.labeler)) state.labelers.push(ev.labeler);
    const key = judgmentKey(ev);
    const sk = `${ev.labeler}\u0000${ev.qid}\u0000${key}`;
    const stack = stacks.get(sk) ?? [];
    stacks.set(sk, stack);
    if (ev.type === 'note') {
      state.notes.push(ev);
      state.noteSeqs.push(seq);
      continue;
    }
    if (ev.type === 'undo') stack.pop();
    else stack.push({ grade: ev.type === 'grade' ? ev.grade! : null, at: ev.at, adjudicated: Boolean(ev.adjudicated), docId: ev.doc_id, chunkId: ev.chunk_id, seq });
    const byQuery = state.verdicts.get(ev.labeler) ?? new Map<string, Map<string, Verdict>>();
    state.verdicts.set(ev.labeler, byQuery);
    const byKey = byQuery.get(ev.qid) ?? new Map<string, Verdict>();
    byQuery.set(ev.qid, byKey);
    const top = stack[stack.length - 1];
    if (top) byKey.set(key, top);
    else byKey.delete(key);
  }
  return state;
}

/** Every judgment where the new base differs from what the journal decided just before it. */
function recordOverrides(state: LabelState, prior: Qrels, since: number): void {
  const next = state.base.qrels;
  for (const qid of new Set([...prior.keys(), ...next.keys()])) {
    const before = prior.get(qid) ?? new Map<string, number>();
    const after = next.get(qid) ?? new Map<string, number>();
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(key) === after.get(key)) continue;
      const byKey = state.overrides.get(qid) ?? new Map<string, Override>();
      state.overrides.set(qid, byKey);
      byKey.set(key, { grade: after.get(key) ?? null, since });
    }
  }
}

export function verdictOf(state: LabelState, labeler: string, qid: string, key: string): Verdict | undefined {
  return state.verdicts.get(labeler)?.get(qid)?.get(key);
}

/** A grade or skip of one labeler that is still in effect (not undone), as undo walks them back. */
export interface LabelerAction {
  qid: string;
  query: string;
  key: string;
  docId: string;
  chunkId: string;
  unit: JudgmentUnit;
  grade: number | null;
}

/**
 * The labeler's grades and skips still in effect, oldest first, across every session that wrote
 * the journal: the last one is what `u` withdraws next. Mirrors `replay`'s per-item stacks (an
 * undo withdraws the latest action on its item).
 */
export function actionsOf(events: readonly JournalEvent[], labeler: string): LabelerAction[] {
  const out: LabelerAction[] = [];
  for (const ev of events) {
    if (ev.type === 'base' || ev.type === 'note' || ev.labeler !== labeler) continue;
    const key = judgmentKey(ev);
    if (ev.type === 'undo') {
      for (let i = out.length - 1; i >= 0; i--) {
        if (out[i]!.qid === ev.qid && out[i]!.key === key) {
          out.splice(i, 1);
          break;
        }
      }
      continue;
    }
    out.push({ qid: ev.qid, query: ev.query, key, docId: ev.doc_id, chunkId: ev.chunk_id, unit: ev.unit ?? 'doc', grade: ev.type === 'grade' ? ev.grade! : null });
  }
  return out;
}

/** A labeler's current grades and skips, in all or in one query (skips counted apart). */
export function tally(state: LabelState, labeler: string, qid?: string): { graded: number; skipped: number } {
  let graded = 0;
  let skipped = 0;
  const byQuery = state.verdicts.get(labeler);
  for (const [q, byKey] of byQuery ?? []) {
    if (qid !== undefined && q !== qid) continue;
    for (const v of byKey.values()) {
      if (v.grade === null) skipped++;
      else graded++;
    }
  }
  return { graded, skipped };
}

/** The lower median: for an even count, the smaller of the two middle grades. */
export function lowerMedian(grades: readonly number[]): number {
  const s = [...grades].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** qid → key → labeler → grade, for every current (non-skip) grade in the journal. */
export function currentGrades(state: LabelState): Map<string, Map<string, Map<string, Verdict>>> {
  const out = new Map<string, Map<string, Map<string, Verdict>>>();
  for (const [labeler, byQuery] of state.verdicts) {
    for (const [qid, byKey] of byQuery) {
      for (const [key, v] of byKey) {
        if (v.grade === null) continue;
        const q = out.get(qid) ?? new Map<string, Map<string, Verdict>>();
        out.set(qid, q);
        const k = q.get(key) ?? new Map<string, Verdict>();
        q.set(key, k);
        k.set(labeler, v);
      }
    }
  }
  return out;
}

/** The golden set the journal stands for, by the rule in this file's header. */
export function decideGolden(state: LabelState): { queries: GoldenQuery[]; qrels: Qrels; notes: Record<string, string> } {
  const qrels: Qrels = new Map();
  for (const [qid, judged] of state.base.qrels) qrels.set(qid, new Map(judged));
  for (const [qid, byKey] of currentGrades(state)) {
    const m = qrels.get(qid) ?? new Map<string, number>();
    qrels.set(qid, m);
    for (const [key, byLabeler] of byKey) {
      const edited = state.overrides.get(qid)?.get(key);
      const verdicts = [...byLabeler.values()].filter((v) => !edited || v.seq >= edited.since);
      if (verdicts.length === 0) continue; // the hand edit (already in the base) stands
      const adjudicated = verdicts.filter((v) => v.adjudicated).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      m.set(key, adjudicated.length ? adjudicated[adjudicated.length - 1]!.grade! : lowerMedian(verdicts.map((v) => v.grade!)));
    }
  }
  const queries: GoldenQuery[] = [...state.base.queries];
  const known = new Set(queries.map((q) => q.id));
  for (const q of state.queries.values()) {
    if (known.has(q.id) || !(qrels.get(q.id)?.size)) continue;
    const gq: GoldenQuery = { id: q.id, text: q.text };
    const extra = (q.principals ?? []).filter((p) => p !== 'public');
    if (extra.length) gq.principals = extra;
    if (q.tenant) gq.tenant = q.tenant;
    queries.push(gq);
    known.add(q.id);
  }
  const notes: Record<string, string> = { ...state.base.notes };
  for (const [i, n] of state.notes.entries()) {
    // Notes from before the latest base are in it already (or were deleted from it by hand).
    if (!n.note || state.noteSeqs[i]! < state.baseSince) continue;
    const line = `[${n.labeler} on ${judgmentKey(n)}] ${n.note}`;
    const prev = notes[n.qid];
    if (prev?.includes(line)) continue;
    notes[n.qid] = prev ? `${prev} | ${line}` : line;
  }
  for (const qid of [...qrels.keys()]) if (!known.has(qid)) qrels.delete(qid);
  return { queries, qrels, notes };
}

export function materializedText(state: LabelState): string {
  const g = decideGolden(state);
  return g.queries.length ? formatGoldenJsonl(g.queries, g.qrels, g.notes) : '';
}

/** Writes text to `file` atomically: a temp sibling, fsync, rename. */
export function writeFileAtomic(file: string, text: string): void {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = `${abs}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, abs);
}

// ─── the journal as a session uses it ─────────────────────────────────────────────────────────

/** What a rewrite of the golden file did, for the caller to tell the labeler. */
export interface MaterializeResult {
  queries: number;
  judgments: number;
  /** A hand edit of the golden file was found and kept (snapshotted as the new base). */
  merged?: string;
  /** The golden file was edited into something rag cannot read: it was left as it is. */
  blocked?: string;
}

interface Written {
  hash: string;
  /** Journal events the text was materialised from (absent in hash files from older versions). */
  events?: number;
}

export interface JournalOptions {
  journalPath?: string;
  /** Who is writing, shown to anyone waiting for the golden file's lock. */
  owner?: string;
}

export class Journal {
  private constructor(
    readonly goldenPath: string,
    readonly path: string,
    private events: JournalEvent[],
    /** Things to tell the user on opening (torn line repaired, hand edit snapshotted). */
    readonly notices: string[],
    private readonly owner: string,
  ) {}

  /**
   * Opens (or starts) the journal of a golden file. The first time, the golden file's current
   * content is snapshotted as the base; later, a golden file changed since rag last wrote it
   * (edited by hand) is snapshotted again so the edit is kept. An edit rag cannot parse stops
   * here with the file, line and fix, before anything is written.
   */
  static open(goldenPath: string, opts: JournalOptions = {}): Journal {
    if (existsSync(goldenPath) && statSync(goldenPath).isDirectory()) {
      throw new UsageError(`${goldenPath} is a directory`, '`rag label --golden` takes a rag JSONL file (it is created if missing)');
    }
    const journalPath = opts.journalPath ?? journalPathFor(goldenPath);
    const notices: string[] = [];
    if (repairJournal(journalPath)) notices.push(`${journalPath}: the last line was cut short by an interrupted write and was dropped`);
    const j = new Journal(goldenPath, journalPath, readJournal(journalPath).events, notices, opts.owner ?? 'rag label');
    j.locked(() => {
      j.refresh();
      const golden = j.readGolden();
      if (j.events.length === 0) {
        parseBase(golden ?? '', goldenPath); // validate before snapshotting
        j.append({ type: 'base', at: new Date().toISOString(), golden: golden ?? '' });
        if (golden !== undefined) j.recordWritten([{ hash: sha256(golden), events: j.events.length }]);
        return;
      }
      const merged = j.takeHandEdit(golden, true);
      if (merged) notices.push(merged);
    });
    return j;
  }

  get allEvents(): readonly JournalEvent[] {
    return this.events;
  }

  append(ev: JournalEvent): void {
    appendEvent(this.path, ev);
    this.events.push(ev);
  }

  /** Re-reads the file so events appended by other labelers' sessions are included. */
  refresh(): void {
    this.events = readJournal(this.path).events;
  }

  state(): LabelState {
    return replay(this.events);
  }

  /**
   * Rewrites the golden file from the journal (everyone's events, re-read from disk), under the
   * golden file's lock. A hand edit made since rag last wrote the file is kept first (new base);
   * an edit that does not parse is left untouched and reported, never overwritten.
   */
  materialize(): MaterializeResult {
    return this.locked(() => {
      this.refresh();
      const golden = this.readGolden();
      let merged: string | undefined;
      try {
        merged = this.takeHandEdit(golden, false);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        return { ...this.counts(), blocked: `${this.goldenPath} was edited and no longer parses (${err.message}): it was not overwritten; your grades are safe in ${this.path} — fix the file and the next grade updates it` };
      }
      const text = materializedText(this.state());
      // No file is created for nothing, but one whose last judgment was undone is emptied, not left stale.
      if (golden !== undefined ? text !== golden : text !== '') {
        // Both hashes stay valid until the rename is done, so a crash in between is no "hand edit".
        const now = { hash: sha256(text), events: this.events.length };
        const was = golden !== undefined ? this.writtenEntries()?.find((w) => w.hash === sha256(golden)) : undefined;
        this.recordWritten(was ? [was, now] : [now]);
        writeFileAtomic(this.goldenPath, text);
      }
      return { ...this.counts(), ...(merged ? { merged } : {}) };
    });
  }

  private counts(): { queries: number; judgments: number } {
    const g = decideGolden(this.state());
    let judgments = 0;
    for (const m of g.qrels.values()) judgments += m.size;
    return { queries: g.queries.length, judgments };
  }

  private locked<T>(fn: () => T): T {
    mkdirSync(path.dirname(path.resolve(this.goldenPath)), { recursive: true });
    return withFileLock(lockPathFor(this.goldenPath), this.owner, fn);
  }

  private readGolden(): string | undefined {
    return existsSync(this.goldenPath) ? readFileSync(this.goldenPath, 'utf8') : undefined;
  }

  private writtenEntries(): Written[] | undefined {
    const file = writtenHashesPathFor(this.goldenPath);
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
      const [hash, events] = line.split(' ');
      return { hash: hash!, events: events !== undefined && /^\d+$/.test(events) ? Number(events) : undefined };
    });
  }

  /** "<sha256> <events>" per line: texts rag wrote, and from how many journal events. */
  private recordWritten(entries: Written[]): void {
    writeFileAtomic(writtenHashesPathFor(this.goldenPath), entries.map((e) => `${e.hash}${e.events !== undefined ? ` ${e.events}` : ''}\n`).join(''));
  }

  /**
   * Snapshots the golden file as a new base when someone changed it since rag last wrote it.
   * A deleted golden file is not an edit: it is simply written again.
   */
  private takeHandEdit(golden: string | undefined, opening: boolean): string | undefined {
    if (golden === undefined) return undefined;
    const hash = sha256(golden);
    const written = this.writtenEntries();
    const known = written
      ? written.some((w) => w.hash === hash)
      : golden === materializedText(this.state()); // journals from before the hash file existed
    if (known) return undefined;
    parseBase(golden, this.goldenPath);
    const after = written?.at(-1)?.events;
    this.append({ type: 'base', at: new Date().toISOString(), golden, ...(after !== undefined && after < this.events.length ? { after } : {}) });
    this.recordWritten([{ hash, events: this.events.length }]);
    return opening
      ? `${this.goldenPath} was edited outside \`rag label\`: the edit is kept (the judgments it changed stand until someone grades them again)`
      : `${this.goldenPath} was edited while labeling: the edit is kept (the judgments it changed stand until someone grades them again)`;
  }
}
