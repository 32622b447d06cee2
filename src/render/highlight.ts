const STOP = new Set(['the', 'a', 'an', 'and', 'or', 'of', 'to', 'in', 'on', 'for', 'is', 'are', 'how', 'do', 'i', 'what', 'with', 'my', 'can', 'does', 'it', 'be', 'by', 'at', 'from', 'this', 'that']);

/** Query terms worth highlighting: lowercased words without stop words. */
export function queryTerms(query: string): string[] {
  return [...new Set((query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((t) => t.length > 1 && !STOP.has(t)))];
}

/** Spans of `text` that match a query term (prefix match, so "rotate" marks "rotating"). */
export function termSpans(text: string, terms: string[]): [number, number][] {
  if (terms.length === 0) return [];
  const spans: [number, number][] = [];
  const re = /[\p{L}\p{N}]+/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const w = m[0].toLowerCase();
    if (terms.some((t) => w === t || (t.length >= 4 && w.startsWith(t.slice(0, Math.max(4, t.length - 2)))))) {
      spans.push([m.index, m.index + m[0].length]);
    }
  }
  return spans;
}

/** A window of the text around its densest run of matches, with matches wrapped by `mark`. */
export function snippet(text: string, terms: string[], width: number, mark: (s: string) => string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const spans = termSpans(flat, terms);
  let start = 0;
  if (spans.length && flat.length > width) {
    let best = 0;
    let bestCount = -1;
    for (const [s] of spans) {
      const count = spans.filter(([x]) => x >= s - 20 && x < s - 20 + width).length;
      if (count > bestCount) {
        bestCount = count;
        best = s;
      }
    }
    start = Math.max(0, Math.min(best - 20, flat.length - width));
    const sp = flat.lastIndexOf(' ', start);
    if (sp > 0 && start - sp < 15) start = sp + 1;
  }
  const end = Math.min(flat.length, start + width);
  let out = '';
  let pos = start;
  for (const [s, e] of spans) {
    if (e <= start || s >= end) continue;
    out += flat.slice(pos, Math.max(pos, s)) + mark(flat.slice(Math.max(s, start), Math.min(e, end)));
    pos = Math.min(e, end);
  }
  out += flat.slice(pos, end);
  return `${start > 0 ? '…' : ''}${out}${end < flat.length ? '…' : ''}`;
}
