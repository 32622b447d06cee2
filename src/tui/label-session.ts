import { RagError } from '../engine/errors.js';
import { stableHash } from '../engine/hash.js';
import {
  actionsOf, tally, verdictOf, type JudgmentUnit, type Journal, type LabelEvent, type LabelState, type QueryInfo, type Verdict,
} from '../engine/labeling/journal.js';
import { availableSystems, poolCandidates, type PoolCandidate } from '../engine/labeling/pool.js';
import { disputedItems, initialQueue, typedQuery, type QueueItem } from '../engine/labeling/queue.js';
import { getChunk, getDocument } from '../engine/search/documents.js';
import type { Retriever } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';
import { useColor } from '../render/table.js';
import { renderPassage } from '../render/terminal-markdown.js';
import { paint, wrapRuns } from '../render/terminal-text.js';
import { helpBody, type CandidateView, type ListRow } from './label-screen.js';
import { CandidateScreen, DocumentScreen, InputScreen, ListScreen, RenderCache, TextScreen, type Action, type DocAction } from './label-views.js';
import { Terminal, TerminalClosed, type Size } from './terminal.js';

/** Everything a labeling session needs, decided by the command from flags and config. */
export interface LabelSession {
  journal: Journal;
  retriever: Retriever;
  caller: Caller;
  labeler: string;
  reranker: string | null;
  golden: string;
  queries?: string;
  poolDepth: number;
  unit: JudgmentUnit;
  seed: string;
  adjudicate: boolean;
  defaultTenant: string;
  /** Project guidelines (Markdown), shown at the start and on `?`. */
  guidelines?: { file: string; text: string };
  print(text: string): void;
}

/** A judged item to bring back on screen (undo, review), with the key and unit it was judged under. */
interface Focus {
  qi: number;
  cand: PoolCandidate;
  unit: JudgmentUnit;
  previous: CandidateView['previous'];
}

/** The interactive loop: one candidate on screen, one key per grade, every key journaled at once. */
export async function runSession(session: LabelSession): Promise<void> {
  const { journal, retriever, caller, labeler, reranker } = session;
  const systems = availableSystems({ hasVectors: retriever.hasVectors, reranker });
  const manifestHash = stableHash({ ...retriever.manifest, created_at: undefined, updated_at: undefined });
  const color = useColor();
  const showCaller = caller.principals.some((p) => p !== 'public') || caller.tenant !== session.defaultTenant;
  const term = new Terminal();
  const guidelines = session.guidelines;
  const guidelineLines = guidelines ? new RenderCache((w) => renderPassage(guidelines.text, { width: w, color, format: 'markdown' })) : undefined;

  const disputed = session.adjudicate ? disputedItems(journal) : undefined;
  const queue: QueueItem[] = disputed ? [...disputed.queries.values()].map((query) => ({ query })) : initialQueue(journal, session.queries);
  if (disputed && queue.length === 0) {
    session.print('nothing to adjudicate: no open disagreements in the journal');
    return;
  }
  const typedMode = queue.length === 0;
  /** Items graded in this session (once per grade given, undo takes one back): "N graded this session" counts them. */
  const sessionGrades: string[] = [];
  const gradedThisSession = () => new Set(sessionGrades).size;
  /** Messages for the next screen (several can pile up between two screens: a hand edit, a judged query). */
  let flash: string[] = retriever.hasVectors ? [] : ['index has no vectors: pooling BM25 only'];
  let qi = 0;
  let focus: Focus | undefined;
  let quit = false;

  const pool = async (item: QueueItem) => {
    if (!item.candidates) {
      const size = term.size();
      term.draw([`rag label · ${labeler}`, '', ...wrapRuns([{ text: `Searching candidates for "${item.query.text}"…`, style: 0 }], size.columns).map((l) => paint(l, false))]);
      item.candidates = await poolCandidates(retriever, item.query.text, {
        depth: session.poolDepth, caller, systems, unit: session.unit, seed: session.seed, qid: item.query.id, reranker,
      });
      if (disputed) item.candidates = item.candidates.filter((c) => disputed.grades.has(`${item.query.id}\u0000${c.key}`));
    }
    return item.candidates;
  };
  const event = (type: LabelEvent['type'], q: QueryInfo, c: Pick<PoolCandidate, 'docId' | 'chunkId'>, unit: JudgmentUnit, extra: Partial<LabelEvent> = {}): LabelEvent => ({
    type, qid: q.id, query: q.text, doc_id: c.docId, chunk_id: c.chunkId, unit, labeler,
    at: new Date().toISOString(), index_manifest_hash: manifestHash,
    ...(caller.principals.some((p) => p !== 'public') ? { as: caller.principals } : {}),
    ...(caller.tenant !== session.defaultTenant ? { tenant: caller.tenant } : {}),
    ...(disputed && type !== 'note' ? { adjudicated: true } : {}),
    ...extra,
  });
  /** Rewrites the golden file; what it has to say (a hand edit kept or refused, a lock) is shown, never fatal. */
  const save = () => {
    try {
      const m = journal.materialize();
      if (m.blocked ?? m.merged) flash.push((m.blocked ?? m.merged)!);
    } catch (err) {
      if (!(err instanceof RagError)) throw err;
      flash.push(`${err.message} — your grade is safe in ${journal.path}`);
    }
  };
  const queueIndexOf = (qid: string, text: string): number => {
    let i = queue.findIndex((x) => x.query.id === qid);
    if (i < 0) {
      queue.push({ query: journal.state().queries.get(qid) ?? { id: qid, text } });
      i = queue.length - 1;
    }
    return i;
  };
  /** A judged item as a candidate: from today's pool if it is there, else read with the labeler's permissions. */
  const findCandidate = async (item: QueueItem, target: { key: string; docId: string; chunkId: string; unit: JudgmentUnit }): Promise<PoolCandidate | undefined> => {
    const pooled = await pool(item);
    const hit = target.unit === session.unit ? pooled.find((c) => c.key === target.key) : pooled.find((c) => c.chunkId === target.chunkId);
    if (hit) return { ...hit, key: target.key };
    if (target.chunkId) {
      const ch = await getChunk(retriever.store, target.chunkId, caller);
      if (ch) {
        return {
          key: target.key, docId: ch.doc_id, chunkId: ch.chunk_id, title: ch.title, source: ch.source, headingPath: ch.heading_path,
          page: ch.page, text: ch.text, connector: ch.connector, charStart: ch.char_start, charEnd: ch.char_end, foundBy: [],
        };
      }
    }
    const doc = await getDocument(retriever.store, target.docId, caller);
    if (!doc) return undefined;
    return {
      key: target.key, docId: doc.doc_id, chunkId: '', title: doc.title, source: doc.source, headingPath: [], page: 0,
      text: doc.text, connector: doc.connector, charStart: 0, charEnd: doc.text.length, foundBy: [],
    };
  };
  const helpScreen = (title: string, keys: string[], backKeys: string[], guidelinesFirst = false) =>
    new TextScreen(title, (w) => helpBody(w, guidelineLines?.at(w), guidelines?.file, color, guidelinesFirst), keys, color, backKeys);

  const onSignal = () => term.hangUp();
  const ignoreWriteErrors = () => {};
  process.on('SIGHUP', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', ignoreWriteErrors);
  term.start();
  try {
    if (guidelines) {
      const start = await term.next(helpScreen('Before you start: the guidelines, the grade scale and the keys', ['Enter start labeling', '↑↓ PgUp PgDn scroll', 'q quit'], ['return', 'escape'], true));
      if (start === 'quit') quit = true;
    }
    while (!quit) {
      let item: QueueItem;
      let cand: PoolCandidate;
      let unit = session.unit;
      let previous: CandidateView['previous'];
      if (focus) {
        qi = focus.qi;
        item = queue[qi]!;
        await pool(item);
        ({ cand, unit, previous } = focus);
      } else {
        if (qi >= queue.length) {
          if (!typedMode) break;
          const shown = flash.join(' · ');
          flash = [];
          const text = await term.next(new InputScreen((size) => typedHeader(labeler, gradedThisSession(), shown, size, color), 'Query to label:', color, 'Enter searches it · Enter on an empty line, or Esc, finishes'));
          if (!text) break;
          queue.push({ query: typedQuery(journal, text) });
        }
        item = queue[qi]!;
        const candidates = await pool(item);
        const state = journal.state();
        const next = candidates.find((c) => isPending(state, item.query.id, c.key));
        if (!next) {
          flash.push(candidates.length === 0
            ? `no results for "${item.query.text}" as ${caller.principals.join(', ')}: nothing to label`
            : `all ${candidates.length} candidates for "${item.query.text}" are judged`);
          qi++;
          continue;
        }
        cand = next;
      }
      const state = journal.state();
      const candidates = item.candidates!;
      const index = candidates.findIndex((c) => c.key === cand.key || (unit !== session.unit && c.chunkId === cand.chunkId));
      const view: CandidateView = {
        labeler, caller, showCaller, queryIndex: qi + 1, queryCount: typedMode ? undefined : queue.length, query: item.query,
        candidateIndex: index >= 0 ? index + 1 : undefined, candidateCount: candidates.length,
        queryTally: tally(state, labeler, item.query.id), totalTally: tally(state, labeler), sessionGraded: gradedThisSession(),
        cand, previous, flash: flash.join(' · '), others: disputed?.grades.get(`${item.query.id}\u0000${cand.key}`),
      };
      flash = [];
      const screen = new CandidateScreen(view, color, color);
      let action: Action | DocAction = await term.next(screen);
      if (action.kind === 'document') {
        const doc = await getDocument(retriever.store, cand.docId, caller);
        if (!doc) {
          flash.push(`${cand.docId} is no longer in the store (or not visible to you)`);
          continue;
        }
        action = await term.next(new DocumentScreen(doc, cand, item.query.text, color, color));
        if (action.kind === 'back') continue;
      }
      switch (action.kind) {
        case 'grade':
        case 'skip':
          journal.append(event(action.kind, item.query, cand, unit, action.kind === 'grade' ? { grade: action.grade } : {}));
          if (action.kind === 'grade') sessionGrades.push(`${item.query.id}\u0000${cand.key}`);
          focus = undefined;
          save();
          break;
        case 'undo': {
          journal.refresh(); // this labeler's other sessions count too
          const last = actionsOf(journal.allEvents, labeler).at(-1);
          if (!last) {
            flash.push('nothing to undo: you have no grades or skips in this golden set');
            break;
          }
          const at = queueIndexOf(last.qid, last.query);
          const target = await findCandidate(queue[at]!, last);
          journal.append(event('undo', queue[at]!.query, last, last.unit));
          const mine = sessionGrades.lastIndexOf(`${last.qid}\u0000${last.key}`);
          if (mine >= 0 && last.grade !== null) sessionGrades.splice(mine, 1);
          save();
          const was = last.grade === null ? 'skip' : `grade ${last.grade}`;
          if (target) focus = { qi: at, cand: target, unit: last.unit, previous: { grade: last.grade, how: 'undone' } };
          else flash.push(`undone: ${was} of ${last.key} for [${last.qid}] — it is no longer in the index (or not visible to you), so it cannot be shown again`);
          break;
        }
        case 'note': {
          const text = await term.next(new InputScreen((size) => screen.render(size), `Note on ${cand.key}:`, color));
          if (text) {
            journal.append(event('note', item.query, cand, unit, { note: text }));
            save();
            flash.push('note saved');
          }
          break;
        }
        case 'review': {
          const picked = await reviewFlow();
          if (picked) focus = picked;
          break;
        }
        case 'help':
          if ((await term.next(helpScreen('Help: keys, grade scale and guidelines', ['Esc or Enter back', '↑↓ PgUp PgDn scroll'], ['return', 'escape', '?']))) === 'quit') quit = true;
          break;
        case 'quit':
          quit = true;
          break;
      }
    }
  } catch (err) {
    if (!(err instanceof TerminalClosed)) throw err;
    quit = true;
  } finally {
    term.stop();
    process.off('SIGHUP', onSignal);
    process.off('SIGTERM', onSignal);
    let summary: string;
    try {
      const m = journal.materialize();
      summary = `${session.golden} has ${m.judgments} judgments for ${m.queries} queries`;
    } catch (err) {
      if (!(err instanceof RagError)) throw err;
      summary = err.message;
    }
    session.print(`${quit ? 'stopped' : 'done'}: ${gradedThisSession()} grade(s) this session by ${labeler}; ${summary}${quit ? ' — run the same command to resume' : ''}`);
    session.print(`journal: ${journal.path}`);
    process.stdout.off('error', ignoreWriteErrors);
  }

  function isPending(state: LabelState, qid: string, key: string): boolean {
    const v = verdictOf(state, labeler, qid, key);
    return !v || (disputed !== undefined && !v.adjudicated);
  }

  /** `r`: a query, then one of its passages (pooled or judged), to grade again. */
  async function reviewFlow(): Promise<Focus | undefined> {
    let selectedQuery = qi;
    for (;;) {
      journal.refresh();
      const state = journal.state();
      const mine = state.verdicts.get(labeler) ?? new Map<string, Map<string, Verdict>>();
      // This session's queries, then any other query this labeler judged (joining the queue only if picked).
      const listed: QueryInfo[] = queue.map((x) => x.query);
      for (const qid of mine.keys()) if (!listed.some((q) => q.id === qid)) listed.push(state.queries.get(qid) ?? { id: qid, text: qid });
      const rows: ListRow[] = listed.map((q) => {
        const n = tally(state, labeler, q.id);
        const pooled = queue.find((x) => x.query.id === q.id)?.candidates;
        const todo = pooled ? ` · ${pooled.filter((c) => !verdictOf(state, labeler, q.id, c.key)).length} to do` : '';
        return { mark: `[${q.id}]`, text: `${n.graded} graded · ${n.skipped} skipped${todo} · ${q.text}` };
      });
      const pickedQuery = await term.next(new ListScreen('Review: choose a query', 'Your grades and skips per query; Enter shows its passages.', rows, color, selectedQuery));
      if (pickedQuery === 'back') return undefined;
      selectedQuery = pickedQuery;
      const at = queueIndexOf(listed[pickedQuery]!.id, listed[pickedQuery]!.text);
      const item = queue[at]!;
      const pooled = await pool(item);
      const judged = mine.get(item.query.id) ?? new Map<string, Verdict>();
      type Entry = { key: string; docId: string; chunkId: string; unit: JudgmentUnit; title: string };
      const entries: Entry[] = pooled.map((c) => ({ key: c.key, docId: c.docId, chunkId: c.chunkId, unit: session.unit, title: c.title }));
      for (const [key, v] of judged) {
        if (!entries.some((e) => e.key === key)) entries.push({ key, docId: v.docId, chunkId: v.chunkId, unit: key === v.docId ? 'doc' : 'chunk', title: '' });
      }
      const itemRows: ListRow[] = entries.map((e) => {
        const v = judged.get(e.key);
        return { mark: v ? (v.grade === null ? 'skip' : String(v.grade)) : '·', text: e.title ? `${e.title} (${e.key})` : e.key };
      });
      const pickedItem = await term.next(new ListScreen(`Review [${item.query.id}]: ${item.query.text}`, 'Grade (or skip, · not yet judged) per passage; Enter shows it to grade again.', itemRows, color));
      if (pickedItem === 'back') continue;
      const entry = entries[pickedItem]!;
      const cand = await findCandidate(item, entry);
      if (!cand) {
        flash.push(`${entry.key} is no longer in the index (or not visible to you): change its grade with --import`);
        return undefined;
      }
      const v = judged.get(entry.key);
      return { qi: at, cand, unit: entry.unit, previous: v ? { grade: v.grade, how: 'current' } : undefined };
    }
  }
}

function typedHeader(labeler: string, graded: number, flash: string, size: Size, color: boolean): string[] {
  const lines = wrapRuns([{ text: `rag label · ${labeler} · ${graded} graded this session`, style: 0 }], size.columns);
  if (flash) lines.push(...wrapRuns([{ text: `» ${flash}`, style: 0 }], size.columns));
  return lines.map((l) => paint(l, color));
}
