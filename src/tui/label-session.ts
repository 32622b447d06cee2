import type { JudgmentUnit, Journal, LabelEvent, QueryInfo } from '../engine/labeling/journal.js';
import { verdictOf } from '../engine/labeling/journal.js';
import { availableSystems, poolCandidates, type PoolCandidate } from '../engine/labeling/pool.js';
import { disputedItems, initialQueue, typedQuery, type QueueItem } from '../engine/labeling/queue.js';
import { stableHash } from '../engine/hash.js';
import type { Retriever } from '../engine/search/retriever.js';
import type { Caller } from '../engine/types.js';
import { footerLine, renderCandidate } from './label-screen.js';

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
  print(text: string): void;
}

type Action = { kind: 'grade'; grade: number } | { kind: 'skip' } | { kind: 'undo' } | { kind: 'note' } | { kind: 'quit' };

const KEY_ACTIONS: Record<string, Action> = {
  '0': { kind: 'grade', grade: 0 },
  '1': { kind: 'grade', grade: 1 },
  '2': { kind: 'grade', grade: 2 },
  '3': { kind: 'grade', grade: 3 },
  s: { kind: 'skip' },
  u: { kind: 'undo' },
  b: { kind: 'undo' },
  n: { kind: 'note' },
  q: { kind: 'quit' },
};

/** The terminal UI, loaded only for an interactive session (inquirer is slow to import). */
async function loadUi() {
  const { createPrompt, useKeypress, useState, isEnterKey } = await import('@inquirer/core');
  const { input } = await import('@inquirer/prompts');
  /** One key, one action: no Enter needed. Unknown keys just show the key help again. */
  const keyPrompt = createPrompt<Action, { screen: string; footer: string }>((config, done) => {
    const [hint, setHint] = useState('');
    useKeypress((key, rl) => {
      const action = KEY_ACTIONS[key.name];
      rl.clearLine(0);
      if (action) done(action);
      else if (!isEnterKey(key)) setHint(`"${key.name ?? '?'}" is not a key here`);
    });
    return [`${config.screen}\n${config.footer}${hint ? `  (${hint})` : ''}`, undefined];
  });
  return { keyPrompt, input };
}

/** The interactive loop: one candidate on screen, one key per grade, every key journaled at once. */
export async function runSession(session: LabelSession): Promise<void> {
  const { keyPrompt, input } = await loadUi();
  const { journal, retriever, caller, labeler, reranker } = session;
  journal.materialize();
  const systems = availableSystems({ hasVectors: retriever.hasVectors, reranker });
  const manifestHash = stableHash({ ...retriever.manifest, createdAt: undefined, updatedAt: undefined });
  const unit = session.unit;

  const disputed = session.adjudicate ? disputedItems(journal) : undefined;
  const queue: QueueItem[] = disputed ? [...disputed.queries.values()].map((query) => ({ query })) : initialQueue(journal, session.queries);
  if (disputed && queue.length === 0) {
    session.print('nothing to adjudicate: no open disagreements in the journal');
    return;
  }
  const typedMode = queue.length === 0;
  const history: { qi: number; key: string }[] = [];
  let flash = retriever.hasVectors ? '' : 'index has no vectors: pooling BM25 only';
  let graded = 0;
  let qi = 0;
  let undone: { key: string; grade: number | null } | undefined;
  let quit = false;

  const pool = async (item: QueueItem) => {
    item.candidates ??= await poolCandidates(retriever, item.query.text, {
      depth: session.poolDepth, caller, systems, unit, seed: session.seed, qid: item.query.id, reranker,
    });
    if (disputed) item.candidates = item.candidates.filter((c) => disputed.grades.has(`${item.query.id}\u0000${c.key}`));
    return item.candidates;
  };
  const event = (type: LabelEvent['type'], q: QueryInfo, c: PoolCandidate, extra: Partial<LabelEvent> = {}): LabelEvent => ({
    type, qid: q.id, query: q.text, doc_id: c.docId, chunk_id: c.chunkId, unit, labeler,
    at: new Date().toISOString(), index_manifest_hash: manifestHash,
    ...(caller.principals.some((p) => p !== 'public') ? { as: caller.principals } : {}),
    ...(caller.tenant !== session.defaultTenant ? { tenant: caller.tenant } : {}),
    ...(disputed && type !== 'note' ? { adjudicated: true } : {}),
    ...extra,
  });

  try {
    while (!quit) {
      if (qi >= queue.length) {
        if (!typedMode) break;
        process.stdout.write('\x1b[2J\x1b[3J\x1b[H');
        process.stdout.write(`rag label · ${labeler} · as ${caller.principals.join(', ')} @ ${caller.tenant} · ${graded} graded this session\n`);
        if (flash) process.stdout.write(`» ${flash}\n`);
        flash = '';
        let text = '';
        try {
          text = (await input({ message: 'Query to label (Enter on an empty line to finish):' })).trim();
        } catch (err) {
          if ((err as Error).name !== 'ExitPromptError') throw err;
          quit = true;
        }
        if (!text) break;
        queue.push({ query: typedQuery(journal, text) });
      }
      const item = queue[qi]!;
      const candidates = await pool(item);
      const state = journal.state();
      const pending = (c: PoolCandidate) => {
        const v = verdictOf(state, labeler, item.query.id, c.key);
        return !v || (disputed !== undefined && !v.adjudicated);
      };
      const ci = candidates.findIndex(pending);
      if (ci < 0) {
        flash = candidates.length === 0
          ? `no results for "${item.query.text}" as ${caller.principals.join(', ')}: nothing to label`
          : `all ${candidates.length} candidates for "${item.query.text}" are judged`;
        qi++;
        continue;
      }
      const cand = candidates[ci]!;
      const judgedHere = candidates.filter((c) => !pending(c)).length;
      const screen = renderCandidate({
        labeler, caller, queryIndex: qi + 1, queryCount: typedMode ? undefined : queue.length, query: item.query,
        candidateIndex: ci + 1, candidateCount: candidates.length, judged: judgedHere, cand,
        previous: undone && undone.key === `${item.query.id}\u0000${cand.key}` ? undone.grade : undefined,
        flash, graded, others: disputed?.grades.get(`${item.query.id}\u0000${cand.key}`),
      });
      flash = '';
      let action: Action;
      try {
        process.stdout.write('\x1b[2J\x1b[3J\x1b[H');
        action = await keyPrompt({ screen, footer: footerLine() }, { clearPromptOnDone: true });
      } catch (err) {
        if ((err as Error).name === 'ExitPromptError') action = { kind: 'quit' };
        else throw err;
      }
      undone = undefined;
      switch (action.kind) {
        case 'grade':
          journal.append(event('grade', item.query, cand, { grade: action.grade }));
          history.push({ qi, key: cand.key });
          graded++;
          journal.materialize();
          break;
        case 'skip':
          journal.append(event('skip', item.query, cand));
          history.push({ qi, key: cand.key });
          break;
        case 'undo': {
          const last = history.pop();
          if (!last) {
            flash = 'nothing to undo in this session';
            break;
          }
          const q = queue[last.qi]!;
          const c = q.candidates!.find((x) => x.key === last.key)!;
          const before = verdictOf(journal.state(), labeler, q.query.id, c.key);
          journal.append(event('undo', q.query, c));
          if (before?.grade !== null && before?.grade !== undefined) graded--;
          undone = { key: `${q.query.id}\u0000${c.key}`, grade: before?.grade ?? null };
          qi = last.qi;
          journal.materialize();
          flash = `undone: ${before?.grade === null ? 'skip' : `grade ${before?.grade}`} — grade it again`;
          break;
        }
        case 'note': {
          let text = '';
          try {
            text = (await input({ message: `Note on ${cand.key} (Enter to save, empty to cancel):` })).trim();
          } catch (err) {
            if ((err as Error).name !== 'ExitPromptError') throw err;
          }
          if (text) {
            journal.append(event('note', item.query, cand, { note: text }));
            journal.materialize();
            flash = 'note saved';
          }
          break;
        }
        case 'quit':
          quit = true;
          break;
      }
    }
  } finally {
    const m = journal.materialize();
    process.stdout.write('\n');
    session.print(
      `${quit ? 'stopped' : 'done'}: ${graded} grade(s) this session by ${labeler}; ${session.golden} has ${m.judgments} judgments for ${m.queries} queries` +
        (quit ? ' — run the same command to resume' : ''),
    );
    session.print(`journal: ${journal.path}`);
  }
}
