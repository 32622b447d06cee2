/**
 * Small SVG charts with axes, gridlines and labels, generated here so a report needs no chart
 * library and no script. Every mark carries a <title> (a native tooltip) and data-* attributes
 * with the exact value it draws, so the pictures can be checked against the numbers.
 */
import { html, raw, type Raw } from './page.js';

export const COLORS = {
  accent: '#2f6fdb',
  good: '#1f8a4c',
  bad: '#c8372d',
  warn: '#d98b1f',
  neutral: '#9aa3b2',
  band: '#2f6fdb',
};

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^n. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max === min) {
    const pad = Math.abs(max) > 0 ? Math.abs(max) * 0.5 : 1;
    min -= pad;
    max += pad;
  }
  const raw0 = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw0) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t <= max + step * 1e-9 + (max - first) * 1e-12; t += step) ticks.push(Number((Math.round(t / step) * step).toPrecision(12)));
  if (ticks[ticks.length - 1]! < max - 1e-12) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** One number format for a whole axis: as many decimals as its finest tick needs. */
function tickFormat(ticks: number[]): (t: number) => string {
  const decimals = Math.max(0, ...ticks.map((t) => (String(Number(t.toFixed(6))).split('.')[1] ?? '').length));
  return (t) => t.toFixed(Math.min(decimals, 4));
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const plotW = (f: Frame) => f.width - f.left - f.right;
const plotH = (f: Frame) => f.height - f.top - f.bottom;

/** Y axis with gridlines, and the axis titles. */
function yAxis(f: Frame, ticks: number[], y: (v: number) => number, label: string, format: (t: number) => string): Raw {
  return html`<g class="axis y">${ticks.map(
    (t) => html`<line class="gridline" x1="${f.left}" x2="${f.width - f.right}" y1="${r2(y(t))}" y2="${r2(y(t))}"/><text x="${f.left - 6}" y="${r2(y(t) + 3.5)}" text-anchor="end">${format(t)}</text>`,
  )}<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.height - f.bottom}"/>
<text transform="translate(12 ${r2(f.top + plotH(f) / 2)}) rotate(-90)" text-anchor="middle">${label}</text></g>`;
}

function svgOpen(f: Frame, title: string, id: string, extra = ''): Raw {
  return raw(`<svg xmlns="http://www.w3.org/2000/svg" id="${id}" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="${title.replace(/"/g, '&quot;').replace(/</g, '&lt;')}"${extra}>`);
}

export interface BarDatum {
  id: string;
  value: number;
  tip?: string;
}

/**
 * One bar per query, sorted high to low: the shape of the distribution at a glance (how many
 * queries are perfect, how many fail outright), with the mean as a dashed line.
 */
export function sortedBars(opts: { id: string; title: string; data: BarDatum[]; yLabel: string; xLabel: string; yMax?: number; mean?: number; width?: number; height?: number }): Raw {
  const f: Frame = { width: opts.width ?? 1080, height: opts.height ?? 260, left: 56, right: 16, top: 26, bottom: 40 };
  const data = [...opts.data].sort((a, b) => b.value - a.value || (a.id < b.id ? -1 : 1));
  const yMax = opts.yMax ?? Math.max(1e-9, ...data.map((d) => d.value));
  const ticks = niceTicks(0, yMax, 5).filter((t) => t <= yMax + 1e-9);
  const y = (v: number) => f.top + plotH(f) * (1 - v / yMax);
  const step = plotW(f) / Math.max(1, data.length);
  const gap = step > 4 ? Math.min(2, step * 0.2) : 0;
  const color = (v: number) => (v >= 0.8 * yMax ? COLORS.good : v >= 0.4 * yMax ? COLORS.accent : v > 0 ? COLORS.warn : COLORS.bad);
  const bars = data.map((d, i) => {
    const h = Math.max(d.value > 0 ? 1 : 0, plotH(f) - (y(d.value) - f.top));
    return html`<rect x="${r2(f.left + i * step + gap / 2)}" y="${r2(f.top + plotH(f) - h)}" width="${r2(Math.max(0.5, step - gap))}" height="${r2(h)}" fill="${color(d.value)}" data-id="${d.id}" data-value="${d.value}"><title>${d.tip ?? `${d.id}: ${d.value.toFixed(4)}`}</title></rect>`;
  });
  const zeros = data.filter((d) => d.value === 0).length;
  return html`${svgOpen(f, opts.title, opts.id)}<text class="title" x="${f.left}" y="14">${opts.title}</text>
${yAxis(f, ticks, y, opts.yLabel, tickFormat(ticks))}
<g class="bars" data-count="${data.length}">${bars}</g>
${opts.mean !== undefined ? html`<line x1="${f.left}" x2="${f.width - f.right}" y1="${r2(y(opts.mean))}" y2="${r2(y(opts.mean))}" stroke="#1d2330" stroke-dasharray="5 4" stroke-width="1.2"/><text x="${f.width - f.right - 4}" y="${r2(y(opts.mean) - 5)}" text-anchor="end" class="mean" data-value="${opts.mean}">mean ${opts.mean.toFixed(4)}</text>` : ''}
<g class="axis x"><line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>
<text x="${f.left}" y="${f.height - f.bottom + 14}">best</text><text x="${f.width - f.right}" y="${f.height - f.bottom + 14}" text-anchor="end">worst</text>
<text x="${r2(f.left + plotW(f) / 2)}" y="${f.height - 6}" text-anchor="middle">${opts.xLabel}${zeros ? ` · ${zeros} at zero` : ''}</text></g></svg>`;
}

/** Histogram with optional vertical markers (p50, p95). */
export function histogram(opts: { id: string; title: string; values: number[]; xLabel: string; yLabel?: string; markers?: Array<{ label: string; value: number }>; width?: number; height?: number; bins?: number }): Raw {
  const f: Frame = { width: opts.width ?? 520, height: opts.height ?? 200, left: 44, right: 16, top: 26, bottom: 40 };
  const values = opts.values.filter(Number.isFinite);
  const lo = 0;
  const hiRaw = Math.max(1e-9, ...values);
  const xt = niceTicks(lo, hiRaw, 5);
  const hi = xt[xt.length - 1]!;
  const bins = opts.bins ?? Math.max(6, Math.min(30, Math.ceil(Math.sqrt(values.length) * 1.5)));
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]!++;
  const cMax = Math.max(1, ...counts);
  const yt = niceTicks(0, cMax, 4).filter((t) => Number.isInteger(t));
  const yTop = Math.max(cMax, yt[yt.length - 1]!);
  const x = (v: number) => f.left + ((v - lo) / (hi - lo)) * plotW(f);
  const y = (c: number) => f.top + plotH(f) * (1 - c / yTop);
  const bars = counts.map((c, i) => {
    const x0 = x(lo + i * width);
    const x1 = x(lo + (i + 1) * width);
    return c === 0
      ? ''
      : html`<rect x="${r2(x0 + 0.5)}" y="${r2(y(c))}" width="${r2(Math.max(0.5, x1 - x0 - 1))}" height="${r2(f.top + plotH(f) - y(c))}" fill="${COLORS.accent}" fill-opacity="0.8" data-count="${c}"><title>${`${(lo + i * width).toFixed(2)}–${(lo + (i + 1) * width).toFixed(2)}: ${c}`}</title></rect>`;
  });
  const markers = (opts.markers ?? []).map((m, i) => {
    const mx = x(m.value);
    // Labels near the right edge go on the left of their line.
    const left = mx > f.width - f.right - 70;
    return html`<line x1="${r2(mx)}" x2="${r2(mx)}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="${i ? COLORS.bad : '#1d2330'}" stroke-dasharray="4 3"/><text x="${r2(left ? mx - 3 : mx + 3)}" y="${f.top + 10 + i * 12}" text-anchor="${left ? 'end' : 'start'}" fill="${i ? COLORS.bad : '#1d2330'}">${m.label} ${m.value.toFixed(m.value < 10 ? 2 : 1)}</text>`;
  });
  return html`${svgOpen(f, opts.title, opts.id)}<text class="title" x="${f.left}" y="14">${opts.title}</text>
${yAxis(f, yt, y, opts.yLabel ?? 'queries', (t) => String(t))}
<g class="bars" data-n="${values.length}">${bars}</g>${markers}
<g class="axis x"><line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>${xt.map((t) => html`<line x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom + 4}"/><text x="${r2(x(t))}" y="${f.height - f.bottom + 15}" text-anchor="middle">${tickFormat(xt)(t)}</text>`)}
<text x="${r2(f.left + plotW(f) / 2)}" y="${f.height - 5}" text-anchor="middle">${opts.xLabel}</text></g></svg>`;
}

export interface DeltaDatum {
  id: string;
  a: number;
  b: number;
}

/**
 * "Who won, who lost": per-query B − A sorted from the biggest gain to the biggest loss, with the
 * mean Δ and its bootstrap confidence interval drawn across the plot.
 */
export function deltaBars(opts: { id: string; title: string; data: DeltaDatum[]; mean: number; ci: { lower: number; upper: number }; yLabel: string; width?: number; height?: number }): Raw {
  const f: Frame = { width: opts.width ?? 1080, height: opts.height ?? 280, left: 56, right: 16, top: 26, bottom: 40 };
  const data = opts.data.map((d) => ({ ...d, delta: d.b - d.a })).sort((p, q) => q.delta - p.delta || (p.id < q.id ? -1 : 1));
  // At least ±0.05: a run of ties should look flat, not be blown up to float noise.
  const m = Math.max(0.05, ...data.map((d) => Math.abs(d.delta)), Math.abs(opts.ci.lower), Math.abs(opts.ci.upper));
  const ticks = niceTicks(-m, m, 6);
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const y = (v: number) => f.top + plotH(f) * ((hi - v) / (hi - lo));
  const step = plotW(f) / Math.max(1, data.length);
  const gap = step > 4 ? Math.min(2, step * 0.2) : 0;
  const TIE = 1e-9;
  const bars = data.map((d, i) => {
    const top = y(Math.max(0, d.delta));
    const h = Math.abs(y(d.delta) - y(0));
    const fill = d.delta > TIE ? COLORS.good : d.delta < -TIE ? COLORS.bad : COLORS.neutral;
    return html`<rect x="${r2(f.left + i * step + gap / 2)}" y="${r2(Math.abs(d.delta) > TIE ? top : y(0) - 0.5)}" width="${r2(Math.max(0.5, step - gap))}" height="${r2(Math.abs(d.delta) > TIE ? Math.max(1, h) : 1)}" fill="${fill}" data-id="${d.id}" data-delta="${d.delta}"><title>${`${d.id}: ${d.a.toFixed(4)} → ${d.b.toFixed(4)} (Δ ${d.delta >= 0 ? '+' : '−'}${Math.abs(d.delta).toFixed(4)})`}</title></rect>`;
  });
  const wins = data.filter((d) => d.delta > TIE).length;
  const losses = data.filter((d) => d.delta < -TIE).length;
  const fmt = (v: number) => (Math.abs(v) < 1e-12 ? '0' : `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`);
  return html`${svgOpen(f, opts.title, opts.id)}<text class="title" x="${f.left}" y="14">${opts.title}</text>
${yAxis(f, ticks, y, opts.yLabel, (t) => (t > 0 ? `+${tickFormat(ticks)(t)}` : t < 0 ? `−${tickFormat(ticks)(-t)}` : '0'))}
<rect class="ci" x="${f.left}" width="${plotW(f)}" y="${r2(y(opts.ci.upper))}" height="${r2(Math.max(1, y(opts.ci.lower) - y(opts.ci.upper)))}" fill="${COLORS.band}" fill-opacity="0.12" data-lower="${opts.ci.lower}" data-upper="${opts.ci.upper}"><title>${`95% CI of mean Δ: [${fmt(opts.ci.lower)}, ${fmt(opts.ci.upper)}]`}</title></rect>
<g class="bars" data-count="${data.length}" data-wins="${wins}" data-losses="${losses}">${bars}</g>
<line x1="${f.left}" x2="${f.width - f.right}" y1="${r2(y(0))}" y2="${r2(y(0))}" stroke="#1d2330" stroke-width="1"/>
<line x1="${f.left}" x2="${f.width - f.right}" y1="${r2(y(opts.mean))}" y2="${r2(y(opts.mean))}" stroke="${COLORS.band}" stroke-dasharray="5 4" stroke-width="1.4"/>
<text x="${f.width - f.right - 4}" y="${r2(y(opts.ci.upper) - 5)}" text-anchor="end" fill="${COLORS.band}">mean Δ ${fmt(opts.mean)}, 95% CI [${fmt(opts.ci.lower)}, ${fmt(opts.ci.upper)}]</text>
<g class="axis x"><line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>
<text x="${f.left}" y="${f.height - f.bottom + 14}" fill="${COLORS.good}">${wins} won</text><text x="${f.width - f.right}" y="${f.height - f.bottom + 14}" text-anchor="end" fill="${COLORS.bad}">${losses} lost</text>
<text x="${r2(f.left + plotW(f) / 2)}" y="${f.height - 6}" text-anchor="middle">${`${data.length} queries, sorted by Δ = B − A (${data.length - wins - losses} unchanged)`}</text></g></svg>`;
}

/** A confidence interval on a small inline axis centred on zero (one per metric row). */
export function ciStrip(opts: { lower: number; upper: number; delta: number; span: number; significant: boolean }): Raw {
  const w = 160;
  const h = 18;
  const x = (v: number) => 8 + ((v + opts.span) / (2 * opts.span)) * (w - 16);
  const color = !opts.significant ? COLORS.neutral : opts.delta >= 0 ? COLORS.good : COLORS.bad;
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="confidence interval" style="display:inline-block;vertical-align:middle"><line x1="${r2(x(0))}" x2="${r2(x(0))}" y1="1" y2="${h - 1}" stroke="#9aa3b2"/><line x1="${r2(x(opts.lower))}" x2="${r2(x(opts.upper))}" y1="${h / 2}" y2="${h / 2}" stroke="${color}" stroke-width="3" stroke-linecap="round"/><circle cx="${r2(x(opts.delta))}" cy="${h / 2}" r="3.5" fill="#fff" stroke="${color}" stroke-width="2"/></svg>`;
}

export interface Series {
  name: string;
  points: Array<{ x: number; y: number; tip: string }>;
}

/** Values over time, one line per series (runs of one golden set). */
export function timeChart(opts: { id: string; title: string; series: Series[]; yLabel: string; width?: number; height?: number }): Raw {
  const f: Frame = { width: opts.width ?? 1080, height: opts.height ?? 300, left: 56, right: 24, top: 26, bottom: 44 };
  const all = opts.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x0 === x1) {
    x0 -= 3_600_000;
    x1 += 3_600_000;
  }
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const ylo = yt[0]!;
  const yhi = yt[yt.length - 1]!;
  const x = (v: number) => f.left + 8 + ((v - x0) / (x1 - x0)) * (plotW(f) - 16);
  const y = (v: number) => f.top + plotH(f) * ((yhi - v) / (yhi - ylo || 1));
  const palette = [COLORS.accent, COLORS.good, COLORS.warn, COLORS.bad, '#7c4dbe', '#0f8a96'];
  const dateTicks = niceTicks(x0, x1, 5).filter((t) => t >= x0 && t <= x1);
  const span = x1 - x0;
  const day = (t: number) => {
    const iso = new Date(t).toISOString();
    return span < 3 * 3_600_000 ? iso.slice(11, 19) : span < 2 * 86_400_000 ? iso.slice(0, 16).replace('T', ' ') : iso.slice(0, 10);
  };
  const lines = opts.series.map((s, i) => {
    const c = palette[i % palette.length]!;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    return html`<g class="series" data-name="${s.name}" data-count="${pts.length}"><polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${r2(x(p.x))},${r2(y(p.y))}`).join(' ')}"/>${pts.map((p) => html`<circle cx="${r2(x(p.x))}" cy="${r2(y(p.y))}" r="4" fill="#fff" stroke="${c}" stroke-width="2" data-value="${p.y}"><title>${p.tip}</title></circle>`)}</g>`;
  });
  const legend = opts.series.map((s, i) => html`<g transform="translate(${f.left + 10 + i * 260} ${f.height - 8})"><rect width="10" height="10" y="-9" fill="${palette[i % palette.length]!}"/><text x="14">${s.name}</text></g>`);
  return html`${svgOpen(f, opts.title, opts.id)}<text class="title" x="${f.left}" y="14">${opts.title}</text>
${yAxis(f, yt, y, opts.yLabel, tickFormat(yt))}
<g class="axis x"><line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>${dateTicks.map((t) => html`<line x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom + 4}"/><text x="${r2(x(t))}" y="${f.height - f.bottom + 15}" text-anchor="middle">${day(t)}</text>`)}</g>
${lines}${legend}</svg>`;
}

/** Horizontal stacked bars: one row per label, parts in a fixed order and colour. */
export function stackedBars(opts: { id: string; title: string; rows: Array<{ label: string; parts: Array<{ key: string; value: number; color: string }> }>; xLabel: string; width?: number }): Raw {
  const rowH = 26;
  const f: Frame = { width: opts.width ?? 640, height: 40 + rowH * Math.max(1, opts.rows.length) + 30, left: 110, right: 60, top: 26, bottom: 44 };
  const max = Math.max(1, ...opts.rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0)));
  const ticks = niceTicks(0, max, 5).filter((t) => Number.isInteger(t));
  const top = ticks[ticks.length - 1]!;
  const x = (v: number) => f.left + (v / top) * plotW(f);
  const rows = opts.rows.map((r, i) => {
    let acc = 0;
    const yy = f.top + 6 + i * rowH;
    const total = r.parts.reduce((s, p) => s + p.value, 0);
    return html`<g class="row" data-label="${r.label}" data-total="${total}"><text x="${f.left - 8}" y="${yy + 13}" text-anchor="end">${r.label}</text>${r.parts.map((p) => {
      const x0 = x(acc);
      acc += p.value;
      return p.value ? html`<rect x="${r2(x0)}" y="${yy}" width="${r2(x(acc) - x0)}" height="18" fill="${p.color}" data-key="${p.key}" data-value="${p.value}"><title>${`${r.label} · ${p.key}: ${p.value}`}</title></rect>` : '';
    })}<text x="${r2(x(total) + 6)}" y="${yy + 13}">${total}</text></g>`;
  });
  const yBase = f.top + 6 + opts.rows.length * rowH + 4;
  return html`${svgOpen(f, opts.title, opts.id)}<text class="title" x="8" y="14">${opts.title}</text>
${ticks.map((t) => html`<line class="gridline" x1="${r2(x(t))}" x2="${r2(x(t))}" y1="${f.top}" y2="${yBase}"/><text x="${r2(x(t))}" y="${yBase + 14}" text-anchor="middle">${t}</text>`)}
${rows}<text x="${r2(f.left + plotW(f) / 2)}" y="${yBase + 30}" text-anchor="middle">${opts.xLabel}</text></svg>`;
}
