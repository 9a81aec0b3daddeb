/**
 * Counting what a plain SQL dump holds while it streams: rows per table
 * (PostgreSQL `COPY … FROM stdin;` blocks up to `\.`, and the row tuples of
 * `INSERT … VALUES (…),(…);` in either dialect) and the schema objects its
 * statements create.
 *
 * A byte-level state machine: the bulk of a dump (COPY lines, INSERT
 * tuples) is walked without allocating anything per row; only the text of
 * the other statements (CREATE …, bounded) is kept and classified when the
 * statement ends (./sql-classify.ts). It lexes what can hide a delimiter or
 * a parenthesis — quoted strings with their escapes, quoted identifiers,
 * PostgreSQL dollar quotes, comments, MySQL executable comments and
 * `DELIMITER` — so binary data, `_binary` literals, quotes and newlines in
 * strings never break a count.
 *
 * Why one file of about 700 lines: it is one state machine. `scan` is one
 * loop over the bytes whose thirteen modes share the position, the carry
 * between chunks and the statement buffer; split into modules, that state
 * would be passed around for every byte. What is not the walk (tokens,
 * names, the statement classification) lives in ./sql-tokens.ts and
 * ./sql-classify.ts.
 */
import { classifyStatement } from './sql-classify.js';
import {
  INSERT_PREFIX,
  parseMetaConnect,
  parseQualifiedName,
  renderTableName,
  valuesKeywordFollows,
  type SqlDialect,
} from './sql-tokens.js';
import { emptyObjects, type DatabaseCounts, type ObjectKind } from './types.js';

export type { SqlDialect };

const enum M {
  Code,
  SQuote,
  DQuote,
  Backtick,
  Dollar,
  LineComment,
  BlockComment,
  ExecDigits,
  CopySkipLine,
  CopyLineStart,
  CopyRow,
  Meta,
  Values,
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const HASH = 0x23;
const BANG = 0x21;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DOT = 0x2e;
const SPACE = 0x20;

/** Statement text kept for classification; longer statements keep their head. */
const STATEMENT_CAP = 1024 * 1024;
/** Bytes of lookahead a decision may need (a dollar-quote tag, a delimiter). */
const MAX_LOOKAHEAD = 128;

function isIdentByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x5f ||
    b === DOLLAR ||
    b >= 0x80
  );
}

function isSpace(b: number): boolean {
  return b === SPACE || b === NL || b === CR || b === 0x09 || b === 0x0c;
}

const WORDS = {
  INSERT: Buffer.from('INSERT'),
  REPLACE: Buffer.from('REPLACE'),
  VALUES: Buffer.from('VALUES'),
  VALUE: Buffer.from('VALUE'),
  COPY: Buffer.from('COPY'),
  DELIMITER: Buffer.from('DELIMITER'),
};

/** Whether buf[start, end) is `word` (ASCII uppercase) in any case. */
function wordIs(buf: Buffer, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    if ((buf[start + k]! & 0xdf) !== word[k]) return false;
  }
  return true;
}

interface TableCount {
  name: string;
  rows: number;
}

interface DatabaseState {
  name: string;
  tables: Map<string, TableCount>;
  objects: Map<ObjectKind, Set<string>>;
}

export class SqlScanner {
  private mode = M.Code;
  /** The mode a quoted string returns to (Code or Values). */
  private ret = M.Code;
  private backslashEscapes = false;
  private commentDepth = 0;
  private inExecComment = false;
  private dollarTag: Buffer = Buffer.alloc(0);
  private delimiter: Buffer = Buffer.from(';');
  private carry: Buffer | undefined;
  private tail1 = 0;
  private tail2 = 0;

  private stmt = Buffer.allocUnsafe(4096);
  private stmtLen = 0;
  /** Index of the statement's current word in `stmt`, -1 outside a word. */
  private wordStart = -1;
  private wordCount = 0;
  private isInsert = false;
  private isCopy = false;
  private depth = 0;
  /** The header (`INSERT INTO t`) of the last INSERT, to reuse its table without decoding. */
  private lastHeader: Buffer = Buffer.alloc(0);
  private lastHeaderTable: TableCount | undefined;
  private current: TableCount | undefined;

  private readonly databases: DatabaseState[] = [];
  private readonly roles = new Set<string>();
  private readonly createdRoles = new Set<string>();
  private db: DatabaseState;

  constructor(
    readonly dialect: SqlDialect,
    database: string,
  ) {
    this.db = this.database(database);
  }

  /** Feeds the next bytes of the dump. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    const stopped = this.scan(buf, false);
    if (stopped < buf.length) this.carry = Buffer.from(buf.subarray(stopped));
    this.keepTail(buf, stopped);
  }

  /** The end of the dump: what it held, per database. */
  end(): DatabaseCounts[] {
    if (this.carry) {
      const buf = this.carry;
      this.carry = undefined;
      this.scan(buf, true);
    }
    if (this.mode === M.Code && this.stmtLen > 0) this.endStatement();
    return this.databases
      .filter((d, _, all) => all.length === 1 || d.tables.size > 0 || this.hasObjects(d))
      .map((d) => {
        const objects = emptyObjects(this.dialect);
        for (const [kind, keys] of d.objects) objects[kind] = keys.size;
        const counts: DatabaseCounts = {
          database: d.name,
          tables: [...d.tables.values()].map((t) => ({ name: t.name, rows: t.rows })),
          objects,
        };
        if (this.dialect === 'postgresql')
          counts.roles = [...this.roles].filter((r) => !this.createdRoles.has(r)).sort();
        return counts;
      });
  }

  /** The last two bytes scanned, for a look behind across chunks. */
  private keepTail(buf: Buffer, stopped: number): void {
    if (stopped >= 2) {
      this.tail1 = buf[stopped - 1]!;
      this.tail2 = buf[stopped - 2]!;
    } else if (stopped === 1) {
      this.tail2 = this.tail1;
      this.tail1 = buf[0]!;
    }
  }

  private hasObjects(d: DatabaseState): boolean {
    for (const s of d.objects.values()) if (s.size > 0) return true;
    return false;
  }

  private database(name: string): DatabaseState {
    const found = this.databases.find((d) => d.name === name);
    if (found) return found;
    const d: DatabaseState = { name, tables: new Map(), objects: new Map() };
    this.databases.push(d);
    return d;
  }

  private table(name: string): TableCount {
    let t = this.db.tables.get(name);
    if (!t) {
      t = { name, rows: 0 };
      this.db.tables.set(name, t);
    }
    return t;
  }

  private append(b: number): void {
    if (this.stmtLen >= STATEMENT_CAP) return;
    if (this.stmtLen === this.stmt.length) {
      const bigger = Buffer.allocUnsafe(Math.min(STATEMENT_CAP, this.stmt.length * 2));
      this.stmt.copy(bigger, 0, 0, this.stmtLen);
      this.stmt = bigger;
    }
    this.stmt[this.stmtLen++] = b;
  }

  private resetStatement(): void {
    this.stmtLen = 0;
    this.wordStart = -1;
    this.wordCount = 0;
    this.isInsert = false;
    this.isCopy = false;
    this.depth = 0;
    this.inExecComment = false;
  }

  /** A word of the statement ended (at stmtLen). */
  private endWord(): void {
    const s = this.wordStart;
    this.wordStart = -1;
    if (s < 0) return;
    const e = this.stmtLen;
    const first = this.wordCount++ === 0;
    if (first) {
      if (wordIs(this.stmt, s, e, WORDS.INSERT) || wordIs(this.stmt, s, e, WORDS.REPLACE))
        this.isInsert = true;
      else if (this.dialect === 'postgresql' && wordIs(this.stmt, s, e, WORDS.COPY))
        this.isCopy = true;
      else if (this.dialect === 'mysql' && wordIs(this.stmt, s, e, WORDS.DELIMITER))
        this.mode = M.Meta;
      return;
    }
    if (
      this.isInsert &&
      (wordIs(this.stmt, s, e, WORDS.VALUES) || wordIs(this.stmt, s, e, WORDS.VALUE)) &&
      this.valuesKeywordAt(s)
    ) {
      this.current = this.insertTable(s);
      this.depth = 0;
      this.mode = M.Values;
    }
  }

  /** Whether the VALUES word at stmt[s] is the keyword, not a name (a schema, table or column called value). */
  private valuesKeywordAt(s: number): boolean {
    const h = this.lastHeader;
    // The same header as the last INSERT's (an extended-insert dump repeats it): already known.
    if (h.length === s && this.lastHeaderTable && this.stmt.compare(h, 0, s, 0, s) === 0)
      return true;
    return valuesKeywordFollows(this.stmt.toString('utf8', 0, s), this.dialect);
  }

  /** The table of the INSERT whose header is stmt[0, end). */
  private insertTable(end: number): TableCount | undefined {
    const h = this.lastHeader;
    if (h.length === end && this.lastHeaderTable && this.stmt.compare(h, 0, end, 0, end) === 0)
      return this.lastHeaderTable;
    const text = this.stmt.toString('utf8', 0, end);
    const m = INSERT_PREFIX.exec(text);
    const parts = m ? parseQualifiedName(text.slice(m[0].length), this.dialect) : undefined;
    this.lastHeader = Buffer.from(this.stmt.subarray(0, end));
    this.lastHeaderTable = parts ? this.table(renderTableName(parts, this.dialect)) : undefined;
    return this.lastHeaderTable;
  }

  private endStatement(): void {
    if (this.mode === M.Values || this.isInsert) {
      this.resetStatement();
      this.mode = M.Code;
      return;
    }
    const text = this.stmt.toString('utf8', 0, this.stmtLen);
    const wasCopy = this.isCopy;
    this.resetStatement();
    this.mode = M.Code;
    for (const a of classifyStatement(text, this.dialect)) {
      if (a.op === 'copy') {
        if (wasCopy) {
          this.current = this.table(a.table);
          this.mode = M.CopySkipLine;
        }
      } else if (a.op === 'use') {
        this.switchTo(a.database);
      } else if (a.op === 'role') {
        this.roles.add(a.name);
      } else if (a.op === 'createRole') {
        this.createdRoles.add(a.name);
      } else if (a.op === 'create' || a.op === 'drop') {
        let keys = this.db.objects.get(a.kind);
        if (!keys) this.db.objects.set(a.kind, (keys = new Set()));
        if (a.op === 'create') keys.add(a.key);
        else keys.delete(a.key);
        // mysqldump writes no INSERT for an empty table: its CREATE says it holds 0 rows.
        // (pg_dump writes a COPY for every table that holds rows, empty ones included.)
        if (a.table && this.dialect === 'mysql') {
          if (a.op === 'create') this.table(a.table);
          else if (this.db.tables.get(a.table)?.rows === 0) this.db.tables.delete(a.table);
        }
      }
    }
  }

  private endMeta(): void {
    const text = this.stmt.toString('utf8', 0, this.stmtLen).trim();
    this.resetStatement();
    this.mode = M.Code;
    if (this.dialect === 'mysql') {
      const m = /^DELIMITER\s+(\S+)/i.exec(text);
      if (m) this.delimiter = Buffer.from(m[1]!);
      return;
    }
    const db = parseMetaConnect(text);
    if (db !== undefined) this.switchTo(db);
  }

  private switchTo(database: string): void {
    this.db = this.database(database);
    // The same INSERT header names another table in another database.
    this.lastHeaderTable = undefined;
  }

  /** Whether the statement delimiter starts at buf[i]; undefined: more bytes needed. */
  private delimiterAt(buf: Buffer, i: number, final: boolean): boolean | undefined {
    const d = this.delimiter;
    if (buf[i] !== d[0]) return false;
    if (d.length === 1) return true;
    if (i + d.length > buf.length) return final ? false : undefined;
    return buf.compare(d, 0, d.length, i, i + d.length) === 0;
  }

  /**
   * One byte of a quoted string or identifier that `close` ends; where
   * `escapes`, a backslash takes the next byte with it. Returns the index
   * after it, or -1 - i to stop at i until more bytes come.
   */
  private quoted(buf: Buffer, i: number, final: boolean, close: number, escapes: boolean): number {
    const b = buf[i]!;
    if (this.ret === M.Code) this.append(b);
    if (b === BACKSLASH && escapes) {
      if (i + 1 >= buf.length && !final) {
        if (this.ret === M.Code) this.stmtLen--;
        return -i - 1;
      }
      if (this.ret === M.Code && i + 1 < buf.length) this.append(buf[i + 1]!);
      return i + 2;
    }
    if (b === close) this.mode = this.ret;
    return i + 1;
  }

  /** Scans buf; returns where it stopped (buf.length, or earlier when it needs more bytes). */
  private scan(buf: Buffer, final: boolean): number {
    const len = buf.length;
    const pg = this.dialect === 'postgresql';
    let i = 0;
    while (i < len) {
      const b = buf[i]!;
      switch (this.mode) {
        case M.CopyRow:
        case M.CopySkipLine: {
          const nl = buf.indexOf(NL, i);
          if (nl < 0) return len;
          i = nl + 1;
          this.mode = M.CopyLineStart;
          continue;
        }
        case M.CopyLineStart: {
          if (b === BACKSLASH) {
            if (i + 2 >= len && !final) return i;
            const n1 = buf[i + 1];
            const n2 = buf[i + 2];
            if (n1 === DOT && (n2 === undefined || n2 === NL || n2 === CR)) {
              this.current = undefined;
              this.mode = M.Code;
              i += 2;
              continue;
            }
          }
          if (this.current) this.current.rows++;
          this.mode = M.CopyRow;
          continue;
        }
        case M.Values: {
          const stopped = this.scanValues(buf, i, final);
          if (stopped < 0) return -stopped - 1;
          i = stopped;
          continue;
        }
        case M.SQuote:
        case M.DQuote: {
          // MySQL escapes with a backslash in both; PostgreSQL in strings
          // only with standard_conforming_strings off, never in identifiers.
          const single = this.mode === M.SQuote;
          const next = this.quoted(
            buf,
            i,
            final,
            single ? QUOTE : DQUOTE,
            single ? this.backslashEscapes : !pg,
          );
          if (next < 0) return -next - 1;
          i = next;
          continue;
        }
        case M.Backtick: {
          if (this.ret === M.Code) this.append(b);
          if (b === BACKTICK) this.mode = this.ret;
          i++;
          continue;
        }
        case M.Dollar: {
          if (b === DOLLAR) {
            const t = this.dollarTag;
            if (i + t.length + 2 > len && !final) return i;
            if (
              buf[i + t.length + 1] === DOLLAR &&
              buf.compare(t, 0, t.length, i + 1, i + 1 + t.length) === 0
            ) {
              for (let k = 0; k < t.length + 2; k++) this.append(buf[i + k]!);
              i += t.length + 2;
              this.mode = M.Code;
              continue;
            }
          }
          this.append(b);
          i++;
          continue;
        }
        case M.LineComment: {
          const nl = buf.indexOf(NL, i);
          if (nl < 0) return len;
          i = nl; // the newline itself is code (it ends a meta command, separates words)
          this.mode = M.Code;
          continue;
        }
        case M.BlockComment: {
          if (i + 1 >= len && !final) return i;
          if (b === STAR && buf[i + 1] === SLASH) {
            i += 2;
            if (--this.commentDepth === 0) {
              this.mode = M.Code;
              this.append(SPACE);
            }
            continue;
          }
          if (pg && b === SLASH && buf[i + 1] === STAR) {
            this.commentDepth++;
            i += 2;
            continue;
          }
          i++;
          continue;
        }
        case M.ExecDigits: {
          if (b >= 0x30 && b <= 0x39) {
            i++;
            continue;
          }
          this.mode = M.Code;
          continue;
        }
        case M.Meta: {
          if (b === NL) {
            this.endMeta();
            i++;
            continue;
          }
          this.append(b);
          i++;
          continue;
        }
        case M.Code:
          break;
      }

      // M.Code
      if (b === DOLLAR && pg && this.wordStart < 0) {
        const tagEnd = this.dollarTagEnd(buf, i, final);
        if (tagEnd === undefined) return i;
        if (tagEnd > 0) {
          this.dollarTag = Buffer.from(buf.subarray(i + 1, tagEnd));
          for (let k = i; k <= tagEnd; k++) this.append(buf[k]!);
          i = tagEnd + 1;
          this.mode = M.Dollar;
          continue;
        }
      }
      const ident = isIdentByte(b);
      if (ident) {
        if (this.wordStart < 0) this.wordStart = this.stmtLen;
        this.append(b);
        i++;
        continue;
      }
      if (this.wordStart >= 0) {
        this.endWord();
        if (this.mode !== M.Code) continue; // VALUES or DELIMITER: re-read b in the new mode
      }
      const d = this.delimiterAt(buf, i, final);
      if (d === undefined) return i;
      if (d) {
        i += this.delimiter.length;
        this.endStatement();
        continue;
      }
      if (isSpace(b)) {
        if (this.stmtLen > 0) this.append(b);
        i++;
        continue;
      }
      if (b === BACKSLASH && this.stmtLen === 0) {
        // psql's `\connect`, the client's `\-` (`/*M!999999\- enable the sandbox mode */`)
        this.mode = M.Meta;
        this.append(b);
        i++;
        continue;
      }
      if (b === DASH || b === SLASH || b === STAR) {
        if (i + 3 >= len && !final) return i;
      }
      if (b === DASH && buf[i + 1] === DASH && (pg || i + 2 >= len || isSpace(buf[i + 2]!))) {
        this.mode = M.LineComment;
        i += 2;
        continue;
      }
      if (b === HASH && !pg) {
        this.mode = M.LineComment;
        i++;
        continue;
      }
      if (b === SLASH && buf[i + 1] === STAR) {
        if (!pg && (buf[i + 2] === BANG || (buf[i + 2] === 0x4d && buf[i + 3] === BANG))) {
          this.inExecComment = true;
          i += buf[i + 2] === BANG ? 3 : 4;
          this.mode = M.ExecDigits;
          if (this.stmtLen > 0) this.append(SPACE);
          continue;
        }
        this.mode = M.BlockComment;
        this.commentDepth = 1;
        i += 2;
        continue;
      }
      if (b === STAR && buf[i + 1] === SLASH && this.inExecComment) {
        this.inExecComment = false;
        if (this.stmtLen > 0) this.append(SPACE);
        i += 2;
        continue;
      }
      if (b === QUOTE) {
        this.backslashEscapes = !pg || this.eStringBefore(buf, i);
        this.ret = M.Code;
        this.mode = M.SQuote;
        this.append(b);
        i++;
        continue;
      }
      if (b === DQUOTE) {
        this.ret = M.Code;
        this.mode = M.DQuote;
        this.append(b);
        i++;
        continue;
      }
      if (b === BACKTICK && !pg) {
        this.ret = M.Code;
        this.mode = M.Backtick;
        this.append(b);
        i++;
        continue;
      }
      this.append(b);
      i++;
    }
    return len;
  }

  /**
   * The tuples of an INSERT, in one tight loop (the bulk of a MySQL dump):
   * counts each `(` at depth 0, walks quoted strings inline. Returns where
   * it left the Values mode (or the end of buf), or -(i + 1) when it needs
   * more bytes from i on.
   */
  private scanValues(buf: Buffer, from: number, final: boolean): number {
    const len = buf.length;
    const pg = this.dialect === 'postgresql';
    const delim = this.delimiter[0]!;
    let depth = this.depth;
    let i = from;
    while (i < len) {
      const b = buf[i]!;
      if (b === QUOTE || b === DQUOTE || (b === BACKTICK && !pg)) {
        const escapes =
          b === BACKTICK ? false : pg ? b === QUOTE && this.eStringBefore(buf, i) : true;
        // The closing quote: the next one not preceded by an odd run of backslashes.
        let k = i + 1;
        for (;;) {
          k = buf.indexOf(b, k);
          if (k < 0) {
            k = len;
            break;
          }
          if (!escapes || buf[k - 1] !== BACKSLASH) break;
          let n = 1;
          while (k - n - 1 > i && buf[k - n - 1] === BACKSLASH) n++;
          if (n % 2 === 0) break;
          k++;
        }
        if (k < len) {
          i = k + 1;
          continue;
        }
        // The string goes on in the next chunk: let the string mode carry on from here.
        this.depth = depth;
        this.ret = M.Values;
        this.backslashEscapes = escapes;
        this.mode = b === QUOTE ? M.SQuote : b === DQUOTE ? M.DQuote : M.Backtick;
        return i + 1;
      }
      if (b === LPAREN) {
        if (depth++ === 0 && this.current) this.current.rows++;
      } else if (b === RPAREN) {
        if (depth > 0) depth--;
      } else if (depth === 0 && b === delim) {
        this.depth = 0;
        const d = this.delimiterAt(buf, i, final);
        if (d === undefined) return -i - 1;
        if (d) {
          this.current = undefined;
          this.endStatement();
          return i + this.delimiter.length;
        }
      }
      i++;
    }
    this.depth = depth;
    return len;
  }

  /** The `'` at buf[i] opens an E'…' string (backslash escapes): the byte before is a lone E. */
  private eStringBefore(buf: Buffer, i: number): boolean {
    const p = i > 0 ? buf[i - 1]! : this.tail1;
    const p2 = i > 1 ? buf[i - 2]! : i === 1 ? this.tail1 : this.tail2;
    return (p === 0x45 || p === 0x65) && !isIdentByte(p2);
  }

  /**
   * A dollar quote opening at buf[i] (`$$`, `$tag$`): the index of its
   * closing `$`; 0 when this `$` opens none (`$1`, `a$b`); undefined when
   * more bytes are needed.
   */
  private dollarTagEnd(buf: Buffer, i: number, final: boolean): number | undefined {
    if (this.wordStart >= 0) return 0;
    const prev = this.stmtLen > 0 ? this.stmt[this.stmtLen - 1]! : 0;
    if (isIdentByte(prev)) return 0;
    for (let k = i + 1; k < buf.length; k++) {
      const c = buf[k]!;
      if (c === DOLLAR) return k;
      const ok = k === i + 1 ? isIdentByte(c) && !(c >= 0x30 && c <= 0x39) : isIdentByte(c);
      if (!ok || k - i > MAX_LOOKAHEAD) return 0;
    }
    return final ? 0 : undefined;
  }
}
