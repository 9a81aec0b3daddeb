/**
 * What one schema statement of a dump does to the count of schema objects:
 * pure functions over the statement's text (comments already removed by
 * the scanner, MySQL executable comments kept as code).
 *
 * Objects are counted as sets of names, so a dump that creates a stand-in
 * and then the real thing (mysqldump creates each view twice, or a table
 * then drops it for the view) counts it once, as the server ends up with.
 */
import type { ObjectKind } from './types.js';
import {
  isWord,
  nameAt,
  renderTableName,
  tokenize,
  type SqlDialect,
  type Token,
} from './sql-tokens.js';

export type StatementAction =
  | { op: 'create' | 'drop'; kind: ObjectKind; key: string; table?: string }
  | { op: 'copy'; table: string }
  | { op: 'use'; database: string }
  /** A role the statement refers to (owner, grantee), or one it creates. */
  | { op: 'role' | 'createRole'; name: string };

const KIND_WORDS: Record<string, ObjectKind> = {
  TABLE: 'tables',
  VIEW: 'views',
  SEQUENCE: 'sequences',
  FUNCTION: 'functions',
  AGGREGATE: 'functions',
  PROCEDURE: 'procedures',
  TRIGGER: 'triggers',
  EVENT: 'events',
  INDEX: 'indexes',
};

const key = (parts: readonly string[]) => parts.map((p) => JSON.stringify(p)).join('.');

/** What a statement creates, drops, copies or switches to. */
export function classifyStatement(text: string, dialect: SqlDialect): StatementAction[] {
  const head = tokenize(text, dialect, 40);
  const first = head[0];
  if (!first || first.t !== 'word') return [];
  const verb = first.v.toUpperCase();
  if (verb === 'COPY' && dialect === 'postgresql') {
    const name = nameAt(head, 1);
    const from = head.findIndex((t, i) => i > 0 && isWord(t, 'FROM'));
    if (name && from > 0 && isWord(head[from + 1], 'STDIN'))
      return [{ op: 'copy', table: renderTableName(name.parts, dialect) }];
    return [];
  }
  if (verb === 'USE' && dialect === 'mysql') {
    const name = nameAt(head, 1);
    return name ? [{ op: 'use', database: name.parts[0]! }] : [];
  }
  const roles = dialect === 'postgresql' ? pgRoles(verb, text, head) : [];
  if (verb === 'CREATE') return [...roles, ...classifyCreate(text, head, dialect)];
  if (verb === 'DROP') return classifyDrop(head, dialect);
  if (verb === 'ALTER' && dialect === 'postgresql') return [...roles, ...classifyAlter(head)];
  return roles;
}

const NOT_ROLES = new Set(['PUBLIC', 'CURRENT_USER', 'SESSION_USER', 'CURRENT_ROLE', 'GROUP']);

/**
 * The roles a PostgreSQL statement names: `OWNER TO r`, `OWNER = r`,
 * `GRANT … TO r, s`, `REVOKE … FROM r`, `FOR ROLE r`, `AUTHORIZATION r`;
 * and `CREATE ROLE r`. A restore into a fresh server needs them to exist.
 */
function pgRoles(verb: string, text: string, head: Token[]): StatementAction[] {
  if (verb === 'CREATE' && isWord(head[1], 'ROLE', 'USER', 'GROUP') && head[2]?.t !== 'punct')
    return head[2] ? [{ op: 'createRole', name: head[2].v }] : [];
  if (!['ALTER', 'GRANT', 'REVOKE', 'CREATE'].includes(verb)) return [];
  const tokens = verb === 'CREATE' ? head : tokenize(text, 'postgresql', 400);
  const out: StatementAction[] = [];
  const take = (k: number) => {
    const tok = tokens[k];
    if (tok && tok.t !== 'punct' && !(tok.t === 'word' && NOT_ROLES.has(tok.v.toUpperCase())))
      out.push({ op: 'role', name: tok.v });
  };
  const list = (k: number) => {
    for (let j = k; j < tokens.length; j++) {
      if (isWord(tokens[j], 'GROUP')) continue;
      take(j);
      if (!(tokens[j + 1]?.t === 'punct' && tokens[j + 1]!.v === ',')) break;
      j++;
    }
  };
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (isWord(tok, 'OWNER')) {
      if (isWord(tokens[k + 1], 'TO')) take(k + 2);
      else if (tokens[k + 1]?.t === 'punct' && tokens[k + 1]!.v === '=') take(k + 2);
    } else if (isWord(tok, 'AUTHORIZATION') && verb === 'CREATE') take(k + 1);
    else if (isWord(tok, 'FOR') && isWord(tokens[k + 1], 'ROLE', 'USER')) list(k + 2);
    else if (verb === 'GRANT' && isWord(tok, 'TO')) list(k + 1);
    else if (verb === 'REVOKE' && isWord(tok, 'FROM')) list(k + 1);
    else if (verb === 'ALTER' && isWord(tok, 'GRANT')) {
      // ALTER DEFAULT PRIVILEGES … GRANT … TO r
      const to = tokens.findIndex((t, j) => j > k && isWord(t, 'TO'));
      if (to > 0) list(to + 1);
    } else if (verb === 'ALTER' && isWord(tok, 'REVOKE')) {
      const from = tokens.findIndex((t, j) => j > k && isWord(t, 'FROM'));
      if (from > 0) list(from + 1);
    }
  }
  return out;
}

function classifyCreate(text: string, head: Token[], dialect: SqlDialect): StatementAction[] {
  // The kind is the first kind word before the name: skips OR REPLACE,
  // UNIQUE, TEMPORARY, ALGORITHM=…, DEFINER=`u`@`h`, SQL SECURITY …
  let i = 1;
  let kind: ObjectKind | undefined;
  for (; i < Math.min(head.length, 24); i++) {
    const tok = head[i]!;
    if (tok.t !== 'word') continue;
    const w = tok.v.toUpperCase();
    if (w === 'FOREIGN' || w === 'SCHEMA' || w === 'DATABASE' || w === 'TYPE' || w === 'AS')
      return [];
    if (w === 'MATERIALIZED' && isWord(head[i + 1], 'VIEW')) {
      kind = 'materializedViews';
      i++;
      break;
    }
    if (w === 'EVENT' && isWord(head[i + 1], 'TRIGGER')) {
      kind = 'events';
      i++;
      break;
    }
    if (KIND_WORDS[w]) {
      kind = KIND_WORDS[w];
      break;
    }
  }
  if (!kind) return [];
  i++;
  if (isWord(head[i], 'IF') && isWord(head[i + 1], 'NOT') && isWord(head[i + 2], 'EXISTS')) i += 3;
  if (kind === 'indexes' && isWord(head[i], 'CONCURRENTLY')) i++;
  let name = isWord(head[i], 'ON') ? undefined : nameAt(head, i);
  let k = name ? name.next : i;
  let objectKey = name ? key(name.parts) : '';
  if (dialect === 'postgresql' && (kind === 'triggers' || kind === 'indexes')) {
    // Their names are unique per table (triggers) or schema: key them with their table.
    while (k < head.length && !isWord(head[k], 'ON')) k++;
    if (isWord(head[k + 1], 'ONLY')) k++;
    const on = nameAt(head, k + 1);
    if (on) objectKey += ' ON ' + key(on.parts);
    if (!name) name = on;
  }
  if (!name) return [];
  const out: StatementAction[] = [{ op: 'create', kind, key: objectKey }];
  if (kind === 'tables')
    out[0] = { ...out[0]!, table: renderTableName(name.parts, dialect) } as StatementAction;
  if (kind === 'tables' && dialect === 'mysql') out.push(...mysqlTableIndexes(text, name.parts));
  return out;
}

/** MySQL keeps indexes in CREATE TABLE: `PRIMARY KEY (…)`, `KEY k (…)`, `UNIQUE KEY`, `FULLTEXT`, `SPATIAL`. */
function mysqlTableIndexes(text: string, table: readonly string[]): StatementAction[] {
  const tokens = tokenize(text, 'mysql');
  const out: StatementAction[] = [];
  let depth = 0;
  let elementStart = false;
  let n = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.t === 'punct' && tok.v === '(') {
      depth++;
      if (depth === 1) elementStart = true;
      continue;
    }
    if (tok.t === 'punct' && tok.v === ')') {
      depth--;
      if (depth === 0) break;
      continue;
    }
    if (depth !== 1) continue;
    if (tok.t === 'punct' && tok.v === ',') {
      elementStart = true;
      continue;
    }
    if (!elementStart) continue;
    elementStart = false;
    if (isWord(tok, 'PRIMARY', 'KEY', 'INDEX', 'UNIQUE', 'FULLTEXT', 'SPATIAL')) {
      out.push({ op: 'create', kind: 'indexes', key: `${key(table)}#${n++}` });
    }
  }
  return out;
}

function classifyDrop(head: Token[], dialect: SqlDialect): StatementAction[] {
  let i = 1;
  let kind: ObjectKind | undefined;
  if (isWord(head[i], 'MATERIALIZED') && isWord(head[i + 1], 'VIEW')) {
    kind = 'materializedViews';
    i++;
  } else if (head[i]?.t === 'word') kind = KIND_WORDS[head[i]!.v.toUpperCase()];
  if (!kind || kind === 'indexes' || kind === 'triggers') return [];
  i++;
  if (isWord(head[i], 'IF') && isWord(head[i + 1], 'EXISTS')) i += 2;
  const out: StatementAction[] = [];
  for (;;) {
    const name = nameAt(head, i);
    if (!name) break;
    out.push({
      op: 'drop',
      kind,
      key: key(name.parts),
      ...(kind === 'tables' ? { table: renderTableName(name.parts, dialect) } : {}),
    });
    i = name.next;
    if (head[i]?.t === 'punct' && head[i]!.v === ',') i++;
    else break;
  }
  return out;
}

/**
 * PostgreSQL constraints that are indexes (`ADD CONSTRAINT c PRIMARY KEY |
 * UNIQUE | EXCLUDE`) and identity columns, whose sequence no CREATE
 * SEQUENCE names.
 */
function classifyAlter(head: Token[]): StatementAction[] {
  if (!isWord(head[1], 'TABLE')) return [];
  let i = 2;
  if (isWord(head[i], 'IF') && isWord(head[i + 1], 'EXISTS')) i += 2;
  if (isWord(head[i], 'ONLY')) i++;
  const table = nameAt(head, i);
  if (!table) return [];
  const out: StatementAction[] = [];
  for (let k = table.next; k < head.length; k++) {
    if (isWord(head[k], 'CONSTRAINT') && isWord(head[k - 1], 'ADD')) {
      const c = nameAt(head, k + 1);
      if (c && isWord(head[c.next], 'PRIMARY', 'UNIQUE', 'EXCLUDE'))
        out.push({ op: 'create', kind: 'indexes', key: `${key(c.parts)} ON ${key(table.parts)}` });
    }
    if (isWord(head[k], 'IDENTITY') && isWord(head[k - 1], 'AS')) {
      const seq = head.findIndex(
        (t, j) => j > k && isWord(t, 'SEQUENCE') && isWord(head[j + 1], 'NAME'),
      );
      const s = seq > 0 ? nameAt(head, seq + 2) : undefined;
      out.push({
        op: 'create',
        kind: 'sequences',
        key: s ? key(s.parts) : `${key(table.parts)} identity ${k}`,
      });
    }
  }
  return out;
}
