/** Goals of the performance issue, checked against a result, and the Markdown tables of results. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine.js';
import type { Latency, Spread } from './stats.js';

export interface SectionOutcome {
  result?: unknown;
  error?: string;
  seconds: number;
  processMaxRssMiB?: number;
}

export interface Goal {
  goal: string;
  target: string;
  value: string | null;
  met: boolean | null;
  data: string;
}

export interface BenchResult {
  name: string;
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  sections: Partial<Record<string, SectionOutcome>>;
  goals: Goal[];
}

/* Loose views of the section results (they are plain JSON). */
type AnyObj = Record<string, any>;
const sec = (r: BenchResult, name: string): AnyObj | undefined => r.sections[name]?.result as AnyObj | undefined;
const f = (x: number | undefined | null, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(d));

/** Rows measured on this machine with NODE_EXTRA_CA_CERTS removed (bench/lib/proc.ts says why). */
const NO_CA = 'on a machine without NODE_EXTRA_CA_CERTS, median wall';

export function evaluateGoals(r: BenchResult): Goal[] {
  const goals: Goal[] = [];
  const add = (goal: string, target: string, value: number | undefined, met: (v: number) => boolean, data: string, unit = '') =>
    goals.push({ goal, target, value: value === undefined || value === null ? null : `${f(value, unit === '' ? 3 : unit === '×' ? 2 : 1)}${unit}`, met: value === undefined || value === null ? null : met(value), data });

  const warm = sec(r, 'warm');
  const hybrid = warm?.modes?.find((m: AnyObj) => m.mode === 'hybrid');
  const stages = (m: AnyObj | undefined) => Object.entries(m?.stageMeanMs ?? {}).map(([k, v]) => `${k.replace(/_ms$/, '')} ${f(v as number, 2)}`).join(', ');
  add('warm hybrid query (no rerank), p95 wall', '< 15 ms', hybrid?.wallMs?.p95, (v) => v < 15, `${warm?.corpus ?? '?'}, ${warm?.queries ?? '?'} queries; mean stages: ${stages(hybrid)}`, ' ms');

  const cold = sec(r, 'cold');
  add('cold `rag query --mode bm25` process, median wall', '< 500 ms', cold?.bm25?.wallMs?.median, (v) => v < 500, `${cold?.corpus ?? '?'}`, ' ms');
  add('cold `rag query --mode hybrid` process (model load), `--json`, median wall', '< 500 ms', cold?.hybrid?.wallMs?.median, (v) => v < 500, `${cold?.corpus ?? '?'}, ${cold?.model ?? ''}; \`node -e 0\` ${f(cold?.nodeStartup?.wallMs?.median, 0)} ms`, ' ms');
  add('cold `rag query --mode hybrid` process printing the results table (what a terminal user gets), median wall', '< 500 ms', cold?.hybridTable?.wallMs?.median, (v) => v < 500, `${cold?.corpus ?? '?'}, ${cold?.model ?? ''}`, ' ms');
  /** Where a row without the variable ran: Node's own start there and with the variable. */
  const noCa = (without: AnyObj, withCa: AnyObj) => `\`node -e 0\` ${f(without.nodeStartup?.wallMs?.median, 0)} ms here, not ${f(withCa.nodeStartup?.wallMs?.median, 0)} ms`;
  if (cold?.withoutExtraCa) {
    const x = cold.withoutExtraCa;
    add(`the same hybrid \`--json\` process ${NO_CA}`, '< 500 ms', x.hybrid?.wallMs?.median, (v) => v < 500, noCa(x, cold), ' ms');
    add(`the same hybrid results table ${NO_CA}`, '< 500 ms', x.hybridTable?.wallMs?.median, (v) => v < 500, noCa(x, cold), ' ms');
  }

  const peers = sec(r, 'peers');
  const bs = peers?.bm25s as AnyObj | undefined;
  for (const [label, ours, theirs, ratio] of [
    ['', 'search_all', 'allMs', 'ratioAll'],
    [' with an ACL filter (half visible)', 'search_acl', 'aclMs', 'ratioAcl'],
  ] as const) {
    add(
      `BM25 top-10 per query${label}: rag ÷ bm25s, p50`,
      '≤ 2×',
      peers?.[ratio] ?? undefined,
      (v) => v <= 2,
      peers ? `${peers.corpus}, ${peers.queries} queries: rag ${f(peers.ragMs?.[ours]?.p50, 2)} ms, bm25s ${bs?.skipped ? `skipped (${bs.skipped})` : `${f(bs?.[theirs]?.p50, 2)} ms`}` : '',
      '×',
    );
  }
  const ann = sec(r, 'ann');
  const bests: AnyObj[] = (ann?.indexes ?? []).map((i: AnyObj) => ({ ...i.best, kind: i.kind })).filter((b: AnyObj) => b.latencyMs);
  const okBest = bests.filter((b) => b.recallAt10 >= 0.95).sort((a, b) => a.latencyMs.p95 - b.latencyMs.p95)[0] ?? bests[0];
  goals.push({
    goal: 'vector query on the synthetic store, p95 at recall@10 ≥ 0.95',
    target: '< 50 ms',
    value: okBest ? `${f(okBest.latencyMs.p95)} ms @ recall ${f(okBest.recallAt10, 3)} (${settingLabel(okBest)})` : null,
    met: okBest ? okBest.recallAt10 >= 0.95 && okBest.latencyMs.p95 < 50 : null,
    data: `${ann?.rows ?? '?'} rows × ${ann?.dim ?? '?'} dims`,
  });

  const ingest = sec(r, 'ingest');
  const sf = ingest?.corpora?.find((c: AnyObj) => c.corpus === 'scifact');
  add('SciFact ingest + BM25 index, median wall', '< 10 s', sf?.ingestPlusBm25Seconds?.median, (v) => v < 10, sf ? `${sf.documents} docs` : 'not run (quick mode)', ' s');

  const emb = sec(r, 'embedding');
  const pp = emb?.paths?.pipeline as AnyObj | undefined;
  const stp = emb?.sentenceTransformers as AnyObj | undefined;
  const peersLine = emb
    ? `${emb.texts} passages (${emb.source}); pipeline ${f(pp?.passagesPerSecond?.median)}/s, before ${f(emb.paths?.before?.passagesPerSecond?.median)}/s, raw onnxruntime on the same sorted batches ${f(emb.paths?.raw?.passagesPerSecond?.median)}/s (pipeline ÷ raw ${f(emb.ratioVsRawSorted, 3)}), sentence-transformers ${stp?.skipped ? `skipped (${stp.skipped})` : `${f(stp?.passagesPerSecond?.median)}/s (pipeline ÷ it ${f(emb.ratioVsSentenceTransformers, 2)})`}; vectors identical to before: ${emb.vectorsIdenticalToBefore ? 'yes' : 'NO'}`
    : '';
  add('embedding throughput, pipeline ÷ before (same passages, vectors byte-identical)', '≥ 1.3×', emb?.speedupVsBefore, (v) => v >= 1.3 && emb?.vectorsIdenticalToBefore === true, peersLine, '×');
  add('embedding peak RSS, MiniLM (pipeline process / `rag index`)', '< 1536 MiB', emb ? Math.max(pp?.maxRssMiB?.max ?? 0, emb.index?.maxRssMiB ?? 0) : undefined, (v) => v < 1536, emb ? `pipeline ${f(pp?.maxRssMiB?.max, 0)} MiB (before ${f(emb.paths?.before?.maxRssMiB?.max, 0)}), \`rag index\` of ${emb.index?.documents} docs ${f(emb.index?.maxRssMiB, 0)} MiB at ${f(emb.index?.passagesPerSecond)} passages/s` : '', ' MiB');

  const inc = sec(r, 'incremental');
  goals.push({
    goal: 'touch 1 document: only its chunks re-embedded',
    target: `1 ≤ embedded ≤ its chunks`,
    value: inc ? `${inc.oneChanged.embedded} embedded (doc has ${inc.oneChanged.docChunks} chunks), ${f(inc.oneChanged.ingestSeconds + inc.oneChanged.indexSeconds, 2)} s` : null,
    met: inc ? Boolean(inc.oneChanged.onlyThatDocument) : null,
    data: inc ? `${inc.documents} docs` : '',
  });
  const serve = sec(r, 'serve');
  const at8 = serve?.load?.find((x: AnyObj) => x.mode === 'hybrid' && x.connections === 8);
  const on = serve ? `${serve.corpus}, ${serve.model}` : '';
  add('`rag serve` load runs (bm25 and hybrid, 1/8/32 clients): errors', '0', serve?.errors, (v) => v === 0, on);
  add('`rag serve` hybrid, 8 clients: requests/s', '≥ 100', at8?.requestsPerSecond, (v) => v >= 100, on, '/s');
  add('`rag serve` hybrid, 8 clients: p99', '< 100 ms', at8?.latencyMs?.p99, (v) => v < 100, on, ' ms');
  add('`rag serve` HTTP overhead over the in-process search, hybrid p50', '< 2 ms', serve?.overhead?.hybrid?.overheadMs?.p50, (v) => v < 2, on, ' ms');
  add('cold `rag query --mode hybrid --json` with a running `rag serve`, median wall', '< 100 ms', serve?.cold?.hybrid?.wallMs?.median, (v) => v < 100, on, ' ms');
  add('cold `rag query --mode hybrid` printing the results table, with a running `rag serve`, median wall', '< 100 ms', serve?.cold?.hybridTable?.wallMs?.median, (v) => v < 100, on, ' ms');
  if (serve?.cold?.withoutExtraCa) {
    const x = serve.cold.withoutExtraCa;
    add(`the same \`--json\` query answered by \`rag serve\` ${NO_CA}`, '< 100 ms', x.hybrid?.wallMs?.median, (v) => v < 100, noCa(x, serve.cold), ' ms');
    add(`the same results table answered by \`rag serve\` ${NO_CA}`, '< 100 ms', x.hybridTable?.wallMs?.median, (v) => v < 100, noCa(x, serve.cold), ' ms');
  }
  const watch = sec(r, 'watch');
  for (const mode of ['bm25', 'hybrid']) {
    const l = watch?.writeToVisibleMs?.[mode];
    goals.push({
      goal: `\`rag ingest --watch\`: file write → new text returned (${mode}), median / p95`,
      target: '< 2000 ms',
      value: l ? `${f(l.p50, 0)} / ${f(l.p95, 0)} ms (+ cold \`rag query\` ${f(watch.coldQueryMs?.[mode]?.median, 0)} ms)` : null,
      met: l ? l.p95 < 2000 : null,
      data: watch ? `${watch.documents} docs, ${watch.edits} edits, ${watch.model}` : '',
    });
  }
  return goals;
}

function settingLabel(s: AnyObj): string {
  return Object.entries(s)
    .filter(([k]) => ['nprobes', 'refineFactor', 'ef', 'kind'].includes(k))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

const sp = (s: Spread | undefined, d = 1) => (s ? `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})` : '—');
const lat = (l: Latency | undefined) => (l ? `${f(l.p50)} / ${f(l.p95)} / ${f(l.p99)}` : '—');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderResult(r: BenchResult): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`## ${r.name} (${r.mode})`, '');
  out.push(`\`${r.command}\` — ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${f(r.seconds, 0)} s total  `);
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.platform}, Node ${m.node}, LanceDB ${m.lancedb}, onnxruntime-node ${m.onnxruntime}`, '');
  if (m.nodeExtraCaCerts) {
    out.push(
      'This machine sets NODE_EXTRA_CA_CERTS, so Node 20 builds its TLS root store as every process starts, before rag runs a line: ' +
        'the cold-process figures are also measured with it removed, as on most machines.',
      '',
    );
  }
  out.push('Spread is shown as median (min–max) over repeated runs; latencies as p50 / p95 / p99 in ms.', '');

  out.push('### Goals', '');
  out.push(table(['goal', 'target', 'measured', 'met', 'on'], r.goals.map((g) => [g.goal, g.target, g.value ?? '—', g.met === null ? 'n/a' : g.met ? '✅' : '❌', g.data])), '');

  const errors = Object.entries(r.sections).filter(([, s]) => s?.error);
  if (errors.length) out.push('### Failed sections', '', ...errors.map(([k, s]) => `- ${k}: \`${s!.error!.split('\n')[0]}\``), '');

  const ingest = sec(r, 'ingest');
  if (ingest) {
    out.push('### Ingest (`rag ingest` then `rag index --model none`, fresh store each run)', '');
    out.push(
      table(
        ['corpus', 'docs', 'chunks', 'input MiB', 'ingest s', 'docs/s', 'MiB/s', 'BM25 index s', 'ingest + BM25 s', 'peak RSS MiB (ingest / index)'],
        ingest.corpora.map((c: AnyObj) => [
          c.corpus, String(c.documents), String(c.chunks), f(c.inputMiB, 2), sp(c.ingestSeconds, 2), sp(c.docsPerSecond, 0), sp(c.mibPerSecond, 2),
          sp(c.bm25IndexSeconds, 2), sp(c.ingestPlusBm25Seconds, 2), `${f(c.ingestMaxRssMiB?.median, 0)} / ${f(c.indexMaxRssMiB?.median, 0)}`,
        ]),
      ),
      '',
    );
  }

  const emb = sec(r, 'embedding');
  if (emb?.paths) {
    out.push(`### Embedding (${emb.model}, ${emb.texts} passages: ${emb.source}; ${emb.threads} threads; ${emb.repetitions} interleaved repetitions, each path in its own process)`, '');
    const row = (label: string, p: AnyObj | undefined, ratio: string) => [label, sp(p?.passagesPerSecond), sp(p?.passagesPerCpuSecond), p?.paddedTokens ? `${p.paddedTokens} / ${p.realTokens} (${f(p.paddedTokens / p.realTokens, 3)})` : '—', p?.runs ? String(p.runs) : '—', f(p?.maxRssMiB?.max, 0), ratio];
    const stp = emb.sentenceTransformers as AnyObj;
    out.push(
      table(
        ['path', 'passages/s', 'passages per CPU-second', 'padded / real tokens', 'ONNX runs', 'peak RSS MiB', 'pipeline ÷ this'],
        [
          row(`before: 32-row batches (groups of 512, sorted by length)`, emb.paths.before, f(emb.speedupVsBefore, 2)),
          row(`pipeline: \`embedPassages\`, batches ≤ ${emb.batchTokens} padded tokens`, emb.paths.pipeline, '1.00'),
          row('raw onnxruntime `session.run` on the same sorted batches (tensors prebuilt)', emb.paths.raw, f(emb.ratioVsRawSorted, 2)),
          stp?.skipped
            ? ['sentence-transformers (PyTorch CPU)', `skipped: ${stp.skipped}`, '—', '—', '—', '—', '—']
            : [`sentence-transformers ${stp?.sentenceTransformers} (torch ${stp?.torch}, ${stp?.threads} threads, batch ${stp?.batch})`, sp(stp?.passagesPerSecond), '—', '—', '—', '—', f(emb.ratioVsSentenceTransformers, 2)],
        ],
      ),
      '',
      `Vectors of pipeline and before: ${emb.vectorsIdenticalToBefore ? 'byte-identical (sha256 of all vectors)' : '**differ**'}.` +
        (stp?.skipped ? '' : ` sentence-transformers weights: ${stp?.weights}; mean cosine to rag's vectors ${f(stp?.meanCosineToRag, 4)}.`) +
        ` \`rag index\` of ${emb.index?.documents} SciFact docs (${emb.index?.embedded} chunks embedded) in a fresh store: ${f(emb.index?.passagesPerSecond)} passages/s, peak RSS ${f(emb.index?.maxRssMiB, 0)} MiB.`,
      '',
    );
  }

  const peers = sec(r, 'peers');
  if (peers) {
    const bs = peers.bm25s as AnyObj;
    out.push(`### BM25 beside bm25s (${peers.corpus}: ${peers.documents} docs, ${peers.chunks} chunks; ${peers.queries} queries one at a time, top ${peers.k})`, '');
    out.push(`Half the documents are restricted to \`group:lab\`: "all" is a caller holding it (the ACL clause passes every chunk), "ACL" a \`public\` caller who sees half; bm25s gets that half as a weight mask. Peak RSS ${f(peers.maxRssMiB, 0)} MiB.`, '');
    const lrow = (label: string, l: AnyObj | undefined) => [label, lat(l as Latency | undefined), f(l?.mean, 2)];
    const rm = peers.ragMs as AnyObj;
    out.push(
      table(
        ['path', 'p50 / p95 / p99 ms', 'mean ms'],
        [
          lrow('rag `search()` bm25, all visible', rm.search_all),
          lrow('rag `search()` bm25, ACL (half visible)', rm.search_acl),
          ...(bs?.skipped ? [[`bm25s`, `skipped: ${bs.skipped}`, '—']] : [lrow(`bm25s ${bs.version}, tokenize + retrieve, all`, bs.allMs), lrow(`bm25s ${bs.version}, tokenize + retrieve, weight mask (half)`, bs.aclMs)]),
          ...Object.entries(rm)
            .filter(([k]) => k.startsWith('fts_'))
            .map(([k, v]) => lrow(`LanceDB full-text call only: ${k.replace(/^fts_/, '').replace(/_/g, ' ')}`, v as AnyObj)),
        ],
      ),
      '',
      `rag ÷ bm25s at p50: ${f(peers.ratioAll, 2)}× (all), ${f(peers.ratioAcl, 2)}× (ACL).` +
        (bs?.skipped ? '' : ` Top-10 overlap with bm25s: ${f(bs.overlapAt10All, 2)} (all), ${f(bs.overlapAt10Acl, 2)} (ACL).`) +
        ` rag's mean stages: ${Object.entries(peers.ragStageMeanMs ?? {}).map(([k, v]) => `${k.replace(/_ms$/, '')} ${f(v as number, 2)}`).join(', ')}.`,
      '',
    );
  }

  const warm = sec(r, 'warm');
  if (warm) {
    out.push(`### Warm queries (in-process, ${warm.corpus}: ${warm.chunks} chunks, ${warm.model}; ${warm.queries} queries per mode, k = 10)`, '');
    out.push(`Opening the index took ${f(warm.openMs)} ms, loading the model ${f(warm.warmMs)} ms. Peak RSS ${f(warm.maxRssMiB, 0)} MiB.`, '');
    out.push(
      table(
        ['mode', '`timings.total_ms` p50 / p95 / p99', 'wall p50 / p95 / p99', 'mean per stage (ms)'],
        warm.modes.map((x: AnyObj) =>
          x.skipped
            ? [x.mode, 'skipped', '—', x.skipped]
            : [x.mode, lat(x.totalMs), lat(x.wallMs), Object.entries(x.stageMeanMs ?? {}).map(([k, v]) => `${k.replace(/_ms$/, '')} ${f(v as number, 2)}`).join(', ')],
        ),
      ),
      '',
    );
  }

  const cold = sec(r, 'cold');
  if (cold) {
    out.push(`### Cold \`rag query\` processes (${cold.corpus}, ${cold.model}; ${cold.runs} runs each)`, '');
    const row = (label: string, x: AnyObj | undefined) => [label, sp(x?.wallMs, 0), x?.searchMs ? sp(x.searchMs, 1) : '—', f(x?.maxRssMiB?.median, 0)];
    out.push(
      table(
        ['process', 'wall ms', 'search inside ms', 'peak RSS MiB'],
        [
          row('`node -e 0` (floor)', cold.nodeStartup), row('`rag --version` (CLI load)', cold.ragVersion), row('`rag query --mode bm25`', cold.bm25), row('`rag query --mode vector`', cold.vector), row('`rag query --mode hybrid`', cold.hybrid),
          ...(cold.hybridTable ? [row('`rag query --mode hybrid`, results table (no `--json`)', cold.hybridTable)] : []),
          ...(cold.withoutExtraCa
            ? [
                row('without NODE_EXTRA_CA_CERTS: `node -e 0`', cold.withoutExtraCa.nodeStartup), row('without it: `rag query --mode bm25`', cold.withoutExtraCa.bm25),
                row('without it: `rag query --mode hybrid`', cold.withoutExtraCa.hybrid), row('without it: `rag query --mode hybrid`, results table', cold.withoutExtraCa.hybridTable),
              ]
            : []),
        ],
      ),
      '',
    );
  }

  const ann = sec(r, 'ann');
  if (ann) {
    out.push(`### Synthetic store: ${ann.rows.toLocaleString('en-US')} chunks × ${ann.dim} dims, ${ann.queries} queries, depth ${ann.candidateDepth}`, '');
    out.push(`Pre-filter: \`${ann.filter}\`. Peak RSS ${f(ann.maxRssMiB, 0)} MiB.`, '');
    for (const idx of ann.indexes as AnyObj[]) {
      if (idx.error) {
        out.push(`**${idx.kind}** failed: \`${idx.error}\``, '');
        continue;
      }
      const b = idx.build;
      out.push(
        `**${idx.kind}** ${JSON.stringify(b.index.params)} — ` +
          (b.reused ? 'reused from bench/.cache' : `generated in ${f(b.generateSeconds)} s, indexed in ${f(b.indexSeconds)} s`) +
          `; exact search (no index) p50 / p95 / p99: ${lat(idx.exactMs)} ms`,
        '',
      );
      out.push(
        table(
          ['setting', 'p50 / p95 / p99 ms', 'recall@10 (mean)', 'recall@10 (worst query)'],
          idx.settings.map((s: AnyObj) => [settingLabel(s) + (idx.best && settingLabel(idx.best) === settingLabel(s) ? ' **(best)**' : ''), lat(s.latencyMs), f(s.recallAt10, 3), f(s.minRecallAt10, 2)]),
        ),
        '',
      );
    }
  }

  const inc = sec(r, 'incremental');
  if (inc) {
    out.push(`### Incremental update (${inc.documents} Markdown docs, ${inc.chunks} chunks, ${inc.model})`, '');
    out.push(
      table(
        ['step', 'ingest s', 'index s', 'docs updated', 'chunks embedded', 'peak RSS MiB (ingest / index)'],
        [
          ['first build', f(inc.initial.ingestSeconds, 2), f(inc.initial.indexSeconds, 2), String(inc.documents), String(inc.initial.embedded), `${f(inc.initial.ingestMaxRssMiB, 0)} / ${f(inc.initial.indexMaxRssMiB, 0)}`],
          ['re-run, nothing changed', f(inc.unchangedRerun.ingestSeconds, 2), f(inc.unchangedRerun.indexSeconds, 2), String(inc.unchangedRerun.updated), String(inc.unchangedRerun.embedded), '—'],
          [`one document edited (${inc.oneChanged.docChunks} chunks)`, f(inc.oneChanged.ingestSeconds, 2), f(inc.oneChanged.indexSeconds, 2), String(inc.oneChanged.updated), String(inc.oneChanged.embedded), `${f(inc.oneChanged.ingestMaxRssMiB, 0)} / ${f(inc.oneChanged.indexMaxRssMiB, 0)}`],
        ],
      ),
      '',
    );
  }
  const serve = sec(r, 'serve');
  if (serve) {
    out.push(`### \`rag serve\` under load (${serve.corpus}: ${serve.chunks} chunks, ${serve.model}; autocannon on loopback, k = 10)`, '');
    out.push(
      table(
        ['mode', 'clients', 'requests/s', 'p50 / p95 / p99 ms', 'errors'],
        serve.load.map((x: AnyObj) => [x.mode, String(x.connections), f(x.requestsPerSecond, 1), lat(x.latencyMs), String(x.errors)]),
      ),
      '',
      `Requests take ${serve.distinctQueries} queries in turn, then the same with a round number appended, so no text repeats; query-vector cache during the load runs: ` +
        `${serve.loadQueryVectorCache.hits} hits, ${serve.loadQueryVectorCache.misses} misses. Server peak RSS ${f(serve.serverPeakRssMiB, 0)} MiB.`,
      '',
    );
    out.push(
      table(
        ['one client, sequential', 'HTTP wall p50 / p95 / p99', 'search inside (`timings.total_ms`)', 'overhead p50 / p95 / p99'],
        ['bm25', 'hybrid'].map((m) => [m, lat(serve.overhead[m]?.wallMs), lat(serve.overhead[m]?.searchMs), lat(serve.overhead[m]?.overheadMs)]),
      ),
      '',
    );
    out.push(
      table(
        ['cold `rag query` process', 'wall ms', 'peak RSS MiB'],
        [
          ['`node -e 0` (floor)', sp(serve.cold.nodeStartup?.wallMs, 0), f(serve.cold.nodeStartup?.maxRssMiB?.median, 0)],
          ['`--mode bm25`, answered by `rag serve`', sp(serve.cold.bm25?.wallMs, 0), f(serve.cold.bm25?.maxRssMiB?.median, 0)],
          ['`--mode hybrid`, answered by `rag serve`', sp(serve.cold.hybrid?.wallMs, 0), f(serve.cold.hybrid?.maxRssMiB?.median, 0)],
          ...(serve.cold.hybridTable ? [['`--mode hybrid`, results table (no `--json`), answered by `rag serve`', sp(serve.cold.hybridTable.wallMs, 0), f(serve.cold.hybridTable.maxRssMiB?.median, 0)]] : []),
          ['`--mode hybrid --no-daemon` (in-process)', sp(serve.cold.hybridNoDaemon?.wallMs, 0), f(serve.cold.hybridNoDaemon?.maxRssMiB?.median, 0)],
          ...(['nodeStartup', 'bm25', 'hybrid', 'hybridTable'] as const)
            .filter((k) => serve.cold.withoutExtraCa?.[k])
            .map((k) => {
              const x = serve.cold.withoutExtraCa[k];
              const label = { nodeStartup: '`node -e 0`', bm25: '`--mode bm25`, answered by `rag serve`', hybrid: '`--mode hybrid`, answered by `rag serve`', hybridTable: '`--mode hybrid`, results table, answered by `rag serve`' }[k];
              return [`without NODE_EXTRA_CA_CERTS: ${label}`, sp(x.wallMs, 0), f(x.maxRssMiB?.median, 0)];
            }),
        ],
      ),
      '',
    );
  }
  const fresh = sec(r, 'freshness');
  if (fresh) {
    out.push(`### Stale-index check of \`rag query\` (${fresh.corpus}, ${fresh.chunks} chunks)`, '');
    out.push(
      table(
        ['check', 'p50 / p95 / p99 ms'],
        [
          ['table versions (every query)', lat(fresh.versionCheckMs)],
          ['row comparison (only while the index is behind)', lat(fresh.rowComparisonMs)],
        ],
      ),
      '',
    );
  }
  out.push(
    '### Section wall time and peak RSS of the section process',
    '',
    table(['section', 'seconds', 'peak RSS MiB'], Object.entries(r.sections).map(([k, s]) => [k, f(s?.seconds, 1), f(s?.processMaxRssMiB, 0)])),
    '',
  );
  return out.join('\n');
}

/** bench/results/README.md: every results file in the folder, full runs first. */
export function renderReadme(dir: string): string {
  const results = readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .map((x) => JSON.parse(readFileSync(path.join(dir, x), 'utf8')) as BenchResult)
    // Other tools write JSON here too (e.g. quality runs); only this harness's results have these.
    .filter((r) => r && typeof r === 'object' && r.machine && r.sections && Array.isArray(r.goals))
    .sort((a, b) => (a.mode === b.mode ? a.name.localeCompare(b.name) : a.mode === 'full' ? -1 : 1));
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. `--quick` is the reduced mode CI runs on',
    'small data (fixtures, a 10k-row synthetic store) so the harness cannot rot; its figures are not the goals\'.',
    'The full run uses SciFact (BEIR) and a 1,000,000-row synthetic store.',
    '',
    ...results.map(renderResult),
  ].join('\n');
}
