/**
 * The HTML reports' building blocks: an escaping template tag, the page shell (inline styles, a
 * Content-Security-Policy that forbids every network fetch and every script), tables and badges.
 *
 * Everything interpolated into `html\`…\`` is escaped unless it is itself the result of `html`
 * (or `raw`), so a passage holding `<script>` stays text. Reports carry no JavaScript at all:
 * tooltips are SVG <title> elements and details are <details>, so the page works with scripts off.
 */

/** Markup that is already safe to insert. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Trusted markup (only for strings built here, never for data). */
export const raw = (markup: string): Raw => new Raw(markup);

function part(value: unknown): string {
  if (value instanceof Raw) return value.html;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(String(value));
}

/** Template tag: interpolated values are escaped; arrays are joined; Raw passes through. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += part(v) + strings[i + 1]!;
  });
  return new Raw(out);
}

export const fixed = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
export const short = (h: string | null | undefined, n = 12): string => (h ? (h.length > n ? `${h.slice(0, n)}…` : h) : '—');

export interface Column {
  head: string;
  /** Numbers: right-aligned, tabular figures. */
  num?: boolean;
}

/** A table; cells are Raw (from `html`) or plain values (escaped). */
export function table(columns: Array<string | Column>, rows: unknown[][], attrs: { id?: string; caption?: string; cls?: string } = {}): Raw {
  const cols = columns.map((c) => (typeof c === 'string' ? { head: c } : c));
  const cls = (i: number) => (cols[i]?.num ? ' class="num"' : '');
  return html`<table${raw(attrs.id ? ` id="${esc(attrs.id)}"` : '')}${raw(attrs.cls ? ` class="${esc(attrs.cls)}"` : '')}>${attrs.caption ? html`<caption>${attrs.caption}</caption>` : ''}
<thead><tr>${cols.map((c, i) => html`<th${raw(cls(i))}>${c.head}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((cell, i) => (cell instanceof Raw && cell.html.startsWith('<td') ? cell : html`<td${raw(cls(i))}>${cell}</td>`))}</tr>
`)}</tbody></table>`;
}

/** A cell with machine-readable data attributes (tests and scrapers read these, people read the text). */
export function dataCell(text: string, data: Record<string, string | number>, num = true): Raw {
  const attrs = Object.entries(data).map(([k, v]) => ` data-${esc(k)}="${esc(String(v))}"`).join('');
  return raw(`<td${num ? ' class="num"' : ''}${attrs}>${esc(text)}</td>`);
}

export type Tone = 'good' | 'bad' | 'warn' | 'neutral';

export const badge = (text: string, tone: Tone): Raw => html`<span class="badge ${tone}">${text}</span>`;

/** A verdict banner: the first thing a reader sees. */
export const banner = (title: string, detail: unknown, tone: Tone, id = 'verdict'): Raw =>
  html`<div class="banner ${tone}" id="${id}" data-tone="${tone}"><strong>${title}</strong> ${detail}</div>`;

/** A horizontal proportion bar (coverage, reach): 0..1. */
export const meter = (x: number, tone: Tone = 'good'): Raw =>
  html`<span class="meter"><span class="fill ${tone}" style="width:${raw(String(Math.max(0, Math.min(1, x)) * 100))}%"></span></span>`;

const CSS = `
:root{--fg:#1d2330;--muted:#5d6675;--line:#dfe3ea;--bg:#ffffff;--panel:#f6f7fa;--accent:#2f6fdb;--good:#1f8a4c;--bad:#c8372d;--warn:#b7791f;--neutral:#6b7280}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans","DejaVu Sans",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:24px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:18px;margin:32px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line);font-weight:620}
h3{font-size:15px;margin:20px 0 8px;font-weight:620}
p{margin:6px 0}
.sub{color:var(--muted);margin:0 0 18px}
.muted{color:var(--muted)}
code,.mono{font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13.5px;width:auto;max-width:100%}
caption{text-align:left;color:var(--muted);font-size:12.5px;padding:0 0 4px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);background:var(--panel);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:#fafbfd}
.banner{border-radius:8px;padding:10px 14px;margin:14px 0;border:1px solid}
.banner.good{background:#eaf6ef;border-color:#b9e0c8}.banner.bad{background:#fdeeed;border-color:#f2c2bd}
.banner.warn{background:#fdf5e6;border-color:#f0d9a8}.banner.neutral{background:var(--panel);border-color:var(--line)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;line-height:20px;white-space:nowrap}
.badge.good{background:#dff2e6;color:var(--good)}.badge.bad{background:#fbe1de;color:var(--bad)}
.badge.warn{background:#fbefd6;color:var(--warn)}.badge.neutral{background:#eceef2;color:var(--neutral)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:12px 24px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:12px 0;background:#fff}
.card h3{margin-top:0}
.passage{border-left:3px solid var(--line);padding:4px 0 4px 12px;margin:8px 0;white-space:pre-wrap;word-break:break-word;font-size:13.5px}
.passage.rel{border-left-color:var(--good)}
.passage .meta{display:block;color:var(--muted);font-size:12.5px;white-space:normal}
.meter{display:inline-block;width:90px;height:8px;background:#eceef2;border-radius:4px;vertical-align:middle;margin-right:8px;overflow:hidden}
.meter .fill{display:block;height:100%}.meter .good{background:var(--good)}.meter .bad{background:var(--bad)}.meter .warn{background:var(--warn)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13.5px;margin:8px 0}
.facts dt{color:var(--muted)}.facts dd{margin:0;word-break:break-all}
svg{display:block;max-width:100%;height:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans","DejaVu Sans",Arial,sans-serif;font-size:11px;fill:#4a5261}
svg .axis line,svg .axis path{stroke:#9aa3b2}
svg .gridline{stroke:#eceef2}
svg .title{font-size:12.5px;font-weight:600;fill:#1d2330}
details{margin:8px 0}summary{cursor:pointer;color:var(--accent)}
footer{margin-top:36px;color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);padding-top:10px}
td.wrap{max-width:420px;word-break:break-word}
`;

/**
 * A whole report. The CSP makes the promise checkable: no script runs and nothing is fetched
 * (images only from data: URIs), so the file is safe to attach to a CI run and open offline.
 */
export function page(opts: { title: string; subtitle?: unknown; body: Raw; sources: string[]; generator: string }): string {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${esc(opts.generator)}">
<title>${esc(opts.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${html`<h1>${opts.title}</h1>${opts.subtitle ? html`<p class="sub">${opts.subtitle}</p>` : ''}`}
${opts.body}
${html`<footer>Generated by ${opts.generator} from ${opts.sources.join(', ')}. One self-contained file: no scripts, no network.</footer>`}
</main>
</body>
</html>
`;
}
