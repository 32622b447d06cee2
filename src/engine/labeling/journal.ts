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
 *   {"type":"base","at":…,"golden":"<golden file text>"}  snapshot of the golden file as found
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
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, writeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { formatGoldenJsonl, MAX_GRADE, parseGoldenJsonl, type GoldenQuery } from '../evaluation/goldens.js';
import type { Qrels } from '../evaluation/qrels.js';

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
}

export type JournalEvent = LabelEvent | BaseEvent;

export function journalPathFor(goldenPath: string): string {
  return `${goldenPath}.labels.jsonl`;
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
  const state: LabelState = { base: EMPTY_BASE(), queries: new Map(), verdicts: new Map(), notes: [], labelers: [] };
  const stacks = new Map<string, Verdict[]>();
  for (const ev of events) {
    if (ev.type === 'base') {
      state.base = parseBase(ev.golden, 'journal base snapshot');
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
      continue;
    }
    if (ev.type === 'undo') stack.pop();
    else stack.push({ grade: ev.type === 'grade' ? ev.grade! : null, at: ev.at, adjudicated: Boolean(ev.adjudicated), docId: ev.doc_id, chunkId: ev.chunk_id });
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

export function verdictOf(state: LabelState, labeler: string, qid: string, key: string): Verdict | undefined {
  return state.verdicts.get(labeler)?.get(qid)?.get(key);
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
      const verdicts = [...byLabeler.values()];
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
  for (const n of state.notes) {
    if (!n.note) continue;
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

export class Journal {
  private constructor(
    readonly goldenPath: string,
    readonly path: string,
    private events: JournalEvent[],
    /** Things to tell the user on opening (torn line repaired, hand edit snapshotted). */
    readonly notices: string[],
  ) {}

  /**
   * Opens (or starts) the journal of a golden file. The first time, the golden file's current
   * content is snapshotted as the base; later, a golden file that no longer matches what the
   * journal materialises (edited by hand) is snapshotted again so the edit is kept.
   */
  static open(goldenPath: string, journalPath = journalPathFor(goldenPath)): Journal {
    if (existsSync(goldenPath) && statSync(goldenPath).isDirectory()) {
      throw new UsageError(`${goldenPath} is a directory`, '`rag label --golden` takes a rag JSONL file (it is created if missing)');
    }
    const notices: string[] = [];
    if (repairJournal(journalPath)) notices.push(`${journalPath}: the last line was cut short by an interrupted write and was dropped`);
    const { events } = readJournal(journalPath);
    const goldenText = existsSync(goldenPath) ? readFileSync(goldenPath, 'utf8') : '';
    const j = new Journal(goldenPath, journalPath, events, notices);
    if (events.length === 0) {
      parseBase(goldenText, goldenPath); // validate before snapshotting
      j.append({ type: 'base', at: new Date().toISOString(), golden: goldenText });
    } else if (existsSync(goldenPath) && goldenText !== materializedText(replay(events))) {
      parseBase(goldenText, goldenPath);
      j.append({ type: 'base', at: new Date().toISOString(), golden: goldenText });
      notices.push(`${goldenPath} was edited outside \`rag label\`: its content is now the base; grades in the journal still take precedence`);
    }
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

  /** Rewrites the golden file from the journal (everyone's events, re-read from disk). */
  materialize(): { queries: number; judgments: number } {
    this.refresh();
    const state = this.state();
    const text = materializedText(state);
    if (text) writeFileAtomic(this.goldenPath, text);
    const g = decideGolden(state);
    let judgments = 0;
    for (const m of g.qrels.values()) judgments += m.size;
    return { queries: g.queries.length, judgments };
  }
}
