import { UsageError } from '../errors.js';
import { sqlString, sqlStringList } from '../sql.js';

/**
 * A small, validated filter language compiled to a LanceDB where clause. User text never reaches
 * SQL except as quoted literals, so filters cannot inject SQL.
 *
 *   filter  := clause (("and" | ",") clause)*
 *   clause  := field "=" value | field "!=" value | field "in" "(" value ("," value)* ")"
 *            | field "~" value            (substring, built-in text fields)
 *            | field (">=" | "<=" | ">" | "<") number   (numeric built-in fields)
 *   field   := doc_id | source | connector | title | page | tokens | KEY (a metadata key)
 *   value   := bare-word | "double quoted" | 'single quoted'
 */
const TEXT_FIELDS = new Set(['doc_id', 'source', 'connector', 'title']);
const NUMERIC_FIELDS = new Set(['page', 'tokens']);

type Token = { kind: 'word' | 'string' | 'op' | 'punct'; value: string; pos: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw bad(input, i, 'unterminated quoted string');
      tokens.push({ kind: 'string', value: input.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const op = /^(>=|<=|!=|=|>|<|~)/.exec(input.slice(i));
    if (op) {
      tokens.push({ kind: 'op', value: op[1]!, pos: i });
      i += op[1]!.length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', value: c, pos: i });
      i++;
      continue;
    }
    const word = /^[^\s=!<>~(),'"]+/.exec(input.slice(i));
    if (!word) throw bad(input, i, `unexpected character "${c}"`);
    tokens.push({ kind: 'word', value: word[0], pos: i });
    i += word[0].length;
  }
  return tokens;
}

function bad(input: string, pos: number, what: string): UsageError {
  return new UsageError(
    `invalid --filter at column ${pos + 1}: ${what} in "${input}"`,
    'write e.g. --filter "product=billing and page>=2" or --filter "tags in (sso, saml)"',
  );
}

/** The where clause of a filter and the metadata keys it names (to explain an empty answer). */
export function parseFilter(input: string): { sql: string; metadataKeys: string[] } {
  const metadataKeys = new Set<string>();
  const tokens = tokenize(input);
  if (tokens.length === 0) throw bad(input, 0, 'empty filter');
  const clauses: string[] = [];
  let i = 0;
  const value = (): string => {
    const t = tokens[i];
    if (!t || (t.kind !== 'word' && t.kind !== 'string')) throw bad(input, t?.pos ?? input.length, 'expected a value');
    i++;
    return t.value;
  };
  while (i < tokens.length) {
    const fieldTok = tokens[i++]!;
    if (fieldTok.kind !== 'word' || !/^[A-Za-z_][\w.-]*$/.test(fieldTok.value)) {
      throw bad(input, fieldTok.pos, 'expected a field name');
    }
    const field = fieldTok.value.startsWith('meta.') ? fieldTok.value.slice(5) : fieldTok.value;
    const isMeta = !TEXT_FIELDS.has(fieldTok.value) && !NUMERIC_FIELDS.has(fieldTok.value);
    if (isMeta) metadataKeys.add(field);
    const opTok = tokens[i++];
    if (!opTok) throw bad(input, input.length, `expected an operator after "${field}"`);
    if (opTok.kind === 'word' && opTok.value.toLowerCase() === 'in') {
      if (tokens[i]?.value !== '(') throw bad(input, tokens[i]?.pos ?? input.length, 'expected "(" after in');
      i++;
      const values: string[] = [];
      for (;;) {
        values.push(value());
        const sep = tokens[i++];
        if (sep?.value === ')') break;
        if (sep?.value !== ',') throw bad(input, sep?.pos ?? input.length, 'expected "," or ")"');
      }
      clauses.push(
        isMeta
          ? `array_has_any(meta_kv, ${sqlStringList(values.map((v) => `${field}=${v}`))})`
          : NUMERIC_FIELDS.has(field)
            ? `${field} IN (${values.map((v) => numberLiteral(input, opTok.pos, v)).join(', ')})`
            : `${field} IN (${values.map(sqlString).join(', ')})`,
      );
    } else if (opTok.kind === 'op') {
      const op = opTok.value;
      const v = value();
      if (NUMERIC_FIELDS.has(field)) {
        if (op === '~') throw bad(input, opTok.pos, `"~" needs a text field, ${field} is numeric`);
        clauses.push(`${field} ${op === '!=' ? '<>' : op} ${numberLiteral(input, opTok.pos, v)}`);
      } else if (isMeta) {
        if (op === '=') clauses.push(`array_has(meta_kv, ${sqlString(`${field}=${v}`)})`);
        else if (op === '!=') clauses.push(`NOT array_has(meta_kv, ${sqlString(`${field}=${v}`)})`);
        else throw bad(input, opTok.pos, `metadata field "${field}" supports =, != and in (…)`);
      } else if (op === '~') {
        clauses.push(`strpos(${field}, ${sqlString(v)}) > 0`);
      } else if (op === '=' || op === '!=') {
        clauses.push(`${field} ${op === '=' ? '=' : '<>'} ${sqlString(v)}`);
      } else {
        throw bad(input, opTok.pos, `"${op}" needs a numeric field (page, tokens)`);
      }
    } else {
      throw bad(input, opTok.pos, `expected an operator after "${field}"`);
    }
    const sep = tokens[i];
    if (!sep) break;
    if ((sep.kind === 'word' && sep.value.toLowerCase() === 'and') || sep.value === ',') {
      i++;
      if (i >= tokens.length) throw bad(input, input.length, 'dangling "and"');
      continue;
    }
    throw bad(input, sep.pos, 'expected "and" between clauses');
  }
  return { sql: clauses.map((c) => `(${c})`).join(' AND '), metadataKeys: [...metadataKeys] };
}

function numberLiteral(input: string, pos: number, v: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw bad(input, pos, `"${v}" is not a number`);
  return v;
}
