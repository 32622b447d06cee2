/**
 * JSON with comments (`//`, `/* *\/`) and trailing commas, as `rag init` writes rag.config.json.
 * Comments and dropped commas become spaces and newlines stay where they were, so JSON.parse
 * positions still point at the right line of the file.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  /** Index of the next character that is neither whitespace nor inside a comment. */
  const nextSignificant = (from: number): number => {
    let j = from;
    while (j < n) {
      if (/\s/.test(text[j]!)) j++;
      else if (text.startsWith('//', j)) j = text.indexOf('\n', j) < 0 ? n : text.indexOf('\n', j);
      else if (text.startsWith('/*', j)) j = text.indexOf('*/', j + 2) < 0 ? n : text.indexOf('*/', j + 2) + 2;
      else return j;
    }
    return n;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === ',' && (text[nextSignificant(i + 1)] === '}' || text[nextSignificant(i + 1)] === ']')) {
      out += ' ';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Where a JSON text first breaks the grammar (its offset), or -1 when it does not. */
function syntaxErrorOffset(s: string): number {
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const string = () => {
    for (i++; s[i] !== '"'; i++) {
      if (i >= s.length || s.charCodeAt(i) < 0x20) fail();
      if (s[i] === '\\') i++;
    }
    i++;
  };
  // Objects and arrays share one loop: items, separated by commas, up to the closing bracket.
  const value = (): void => {
    space();
    const open = s[i];
    if (open === '"') return string();
    if (open !== '{' && open !== '[') {
      literal.lastIndex = i;
      if (!literal.test(s)) fail();
      i = literal.lastIndex;
      return;
    }
    const close = open === '{' ? '}' : ']';
    i++;
    space();
    if (s[i] === close) return void i++;
    for (;;) {
      if (open === '{') {
        space();
        if (s[i] !== '"') fail();
        string();
        space();
        if (s[i] !== ':') fail();
        i++;
      }
      value();
      space();
      if (s[i] === close) return void i++;
      if (s[i] !== ',') fail();
      i++;
    }
  };
  try {
    value();
    space();
    if (i < s.length) fail();
    return -1;
  } catch (at) {
    return at as number;
  }
}

/**
 * JSON.parse's complaint about a whole file, as one line, with the line of the file it points at:
 * V8 names a position for some errors only, and for others quotes the text, newlines and all.
 * `parsed` is the text JSON.parse saw (after `stripJsonComments`, which keeps every line in place).
 */
export function jsonSyntaxError(parsed: string, err: unknown): { line: number | undefined; message: string } {
  const at = syntaxErrorOffset(parsed);
  return {
    line: at < 0 ? undefined : parsed.slice(0, at).split('\n').length,
    message: (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' '),
  };
}
