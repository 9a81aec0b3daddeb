/**
 * SQL as tokens, and the names in it: a small tokenizer (words, quoted
 * identifiers, punctuation; string literals and dollar quotes skipped) for
 * either dialect, qualified names, a table's name as counts and comparisons
 * use it, an INSERT's header and a psql `\connect` line. Pure functions,
 * shared by the scanner (./sql-scan.ts) and the statement classification
 * (./sql-classify.ts).
 */

export type SqlDialect = 'postgresql' | 'mysql';

export type Token =
  { t: 'word'; v: string } | { t: 'ident'; v: string } | { t: 'punct'; v: string };

const MAX_TOKENS = 100_000;

/** Words, quoted identifiers and punctuation; string literals are dropped. */
export function tokenize(text: string, dialect: SqlDialect, limit = MAX_TOKENS): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n && out.length < limit) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || (c === '"' && dialect === 'mysql')) {
      const backslash = dialect === 'mysql' || /[eE]/.test(text[i - 1] ?? '');
      i++;
      while (i < n) {
        if (backslash && text[i] === '\\') i += 2;
        else if (text[i] === c) {
          i++;
          if (text[i] === c) i++;
          else break;
        } else i++;
      }
      continue;
    }
    if (c === '"' || c === '`') {
      let v = '';
      i++;
      while (i < n) {
        if (text[i] === c) {
          if (text[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i++];
      }
      out.push({ t: 'ident', v });
      continue;
    }
    if (c === '$' && dialect === 'postgresql') {
      const m = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 130));
      if (m) {
        const close = text.indexOf(m[0], i + m[0].length);
        i = close < 0 ? n : close + m[0].length;
        continue;
      }
    }
    const w = /^[\w$\u0080-\uffff]+/.exec(text.slice(i, i + 256));
    if (w) {
      out.push({ t: 'word', v: w[0] });
      i += w[0].length;
      continue;
    }
    out.push({ t: 'punct', v: c });
    i++;
  }
  return out;
}

export const isWord = (tok: Token | undefined, ...words: string[]) =>
  tok?.t === 'word' && words.includes(tok.v.toUpperCase());

/** A (possibly qualified) name at tokens[i]: its parts and the index after it. */
export function nameAt(tokens: Token[], i: number): { parts: string[]; next: number } | undefined {
  const parts: string[] = [];
  let k = i;
  for (;;) {
    const tok = tokens[k];
    if (!tok || tok.t === 'punct') break;
    parts.push(tok.v);
    k++;
    if (tokens[k]?.t === 'punct' && tokens[k]!.v === '.') k++;
    else break;
  }
  return parts.length > 0 ? { parts, next: k } : undefined;
}

/** The start of an INSERT / REPLACE up to its table's name. */
export const INSERT_PREFIX =
  /^\s*(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*(?:INTO\s+)?/i;

/**
 * Whether a VALUES (or MySQL's VALUE) word that follows `header`, an INSERT
 * or REPLACE up to that word, is the keyword: only once the table's name is
 * complete and at most a closed column list follows it. Otherwise the word is
 * a name: `INSERT INTO value.a …`, `INSERT INTO t (id, value) …`.
 */
export function valuesKeywordFollows(header: string, dialect: SqlDialect): boolean {
  const m = INSERT_PREFIX.exec(header);
  if (!m) return false;
  const tokens = tokenize(header.slice(m[0].length), dialect);
  const name = nameAt(tokens, 0);
  if (!name || (tokens[name.next - 1]?.t === 'punct' && tokens[name.next - 1]!.v === '.'))
    return false;
  let k = name.next;
  if (tokens[k]?.t === 'punct' && tokens[k]!.v === '(') {
    // A column list: it must be closed.
    let depth = 0;
    for (; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t.t === 'punct' && t.v === '(') depth++;
      else if (t.t === 'punct' && t.v === ')' && --depth === 0) break;
    }
    if (depth !== 0) return false;
    k++;
  }
  // PostgreSQL, for identity columns: OVERRIDING SYSTEM VALUE / OVERRIDING USER VALUE.
  if (
    isWord(tokens[k], 'OVERRIDING') &&
    isWord(tokens[k + 1], 'SYSTEM', 'USER') &&
    isWord(tokens[k + 2], 'VALUE')
  )
    k += 3;
  return k === tokens.length;
}

/** A qualified name at the start of `text` (`"s"."t"`, `` `t` ``, `public.t`), parts unquoted. */
export function parseQualifiedName(text: string, dialect: SqlDialect): string[] | undefined {
  return nameAt(tokenize(text, dialect, 12), 0)?.parts;
}

/**
 * A table's name as counts and comparisons use it: PostgreSQL
 * `schema.table`, MySQL `table`; a part is double-quoted (PostgreSQL) or
 * backquoted (MySQL) only when it is not a plain lowercase identifier.
 */
export function renderTableName(parts: readonly string[], dialect: SqlDialect): string {
  const last = dialect === 'mysql' ? parts.slice(-1) : parts.slice(-2);
  return last
    .map((p) =>
      /^[a-z_][a-z0-9_]*$/.test(p)
        ? p
        : dialect === 'mysql'
          ? '`' + p.replace(/`/g, '``') + '`'
          : '"' + p.replace(/"/g, '""') + '"',
    )
    .join('.');
}

/** The database a psql `\connect` line switches to; undefined for any other meta-command. */
export function parseMetaConnect(line: string): string | undefined {
  const m = /^\\c(?:onnect)?\s+(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const args: string[] = [];
  const re = /"((?:[^"]|"")*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g;
  let a: RegExpExecArray | null;
  while ((a = re.exec(m[1]!))) {
    if (a[1] !== undefined) args.push(a[1].replace(/""/g, '"'));
    else if (a[2] !== undefined) args.push(a[2].replace(/\\(.)/g, '$1'));
    else args.push(a[3]!);
  }
  const db = args.find((x) => !x.startsWith('-'));
  if (db === undefined) return undefined;
  // pg_dumpall: \connect -reuse-previous=on "dbname='name'"
  const conn = /^dbname='((?:[^'\\]|\\.)*)'$/.exec(db);
  return conn ? conn[1]!.replace(/\\(.)/g, '$1') : db;
}
