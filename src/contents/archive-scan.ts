/**
 * Counting what an Elasticsearch archive (dumpers/elasticsearch/archive.ts)
 * holds while it streams: documents per index from the data entries (one
 * JSON document per line, `{"_index":"name",…}`), indices from the settings
 * entries, aliases from alias.json. A plain tar walk: 512-byte headers, the
 * entry's bytes, padding; nothing is allocated per document.
 */
import { classifyEntry } from '../../dumpers/elasticsearch/archive.js';
import { parseDumpedJson } from '../../dumpers/elasticsearch/elasticdump-output.js';
import type { DatabaseCounts } from './types.js';

const BLOCK = 512;
const NL = 0x0a;
const INDEX_PREFIX = Buffer.from('{"_index":"');
/** Bytes of a document's start kept to read its index name. */
const HEAD_CAP = 512;

interface IndexCount {
  name: string;
  rows: number;
}

export class ArchiveScanner {
  private header = Buffer.alloc(BLOCK);
  private headerLen = 0;
  /** Bytes left of the current entry, then of its padding. */
  private remaining = 0;
  private padding = 0;
  private entry: 'data' | 'alias' | 'other' = 'other';
  private small: Buffer[] = [];
  private lineStart = true;
  private head = Buffer.alloc(HEAD_CAP);
  private headLen = 0;
  private headDone = false;
  private lastIndex: IndexCount | undefined;
  private lastBytes = Buffer.alloc(0);
  private readonly indices = new Map<string, IndexCount>();
  private readonly settings = new Set<string>();
  private aliases = 0;
  private ended = false;

  constructor(readonly database: string) {}

  push(chunk: Buffer): void {
    let i = 0;
    const len = chunk.length;
    while (i < len && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, len - i);
        this.entryBytes(chunk, i, i + n);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.endEntry();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, len - i);
        this.padding -= n;
        i += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerLen, len - i);
      chunk.copy(this.header, this.headerLen, i, i + n);
      this.headerLen += n;
      i += n;
      if (this.headerLen === BLOCK) {
        this.headerLen = 0;
        this.startEntry();
      }
    }
  }

  end(): DatabaseCounts[] {
    const tables = [...this.indices.values()].map((x) => ({ name: x.name, rows: x.rows }));
    for (const index of this.settings)
      if (!this.indices.has(index)) tables.push({ name: index, rows: 0 });
    return [
      {
        database: this.database,
        tables,
        objects: { indexes: this.settings.size, aliases: this.aliases },
      },
    ];
  }

  private startEntry(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const field = (start: number, length: number) => {
      const end = h.indexOf(0, start);
      return h.toString('utf8', start, end < 0 || end > start + length ? start + length : end);
    };
    const prefix = field(345, 155);
    const name = (prefix ? prefix + '/' : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const kind = classifyEntry(name);
    this.entry = kind?.kind === 'data' ? 'data' : kind?.kind === 'alias' ? 'alias' : 'other';
    if (kind?.kind === 'settings') this.settings.add(kind.index);
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.lineStart = true;
    this.small = [];
    if (size === 0) this.endEntry();
  }

  private endEntry(): void {
    if (this.entry === 'data' && !this.lineStart) this.endLine();
    if (this.entry === 'alias') {
      try {
        const all = parseDumpedJson(Buffer.concat(this.small).toString('utf8'), 'alias');
        for (const v of Object.values(all as Record<string, { aliases?: object }>))
          this.aliases += Object.keys(v.aliases ?? {}).length;
      } catch {
        // An alias entry that cannot be read is restore's problem, not the count's.
      }
    }
    this.entry = 'other';
    this.small = [];
  }

  private entryBytes(buf: Buffer, from: number, to: number): void {
    if (this.entry === 'alias') this.small.push(Buffer.from(buf.subarray(from, to)));
    if (this.entry !== 'data') return;
    let i = from;
    while (i < to) {
      if (this.lineStart) {
        this.lineStart = false;
        this.headLen = 0;
        this.headDone = false;
      }
      const nl = buf.indexOf(NL, i);
      const end = nl < 0 || nl >= to ? to : nl;
      if (!this.headDone) {
        const n = Math.min(end - i, HEAD_CAP - this.headLen);
        buf.copy(this.head, this.headLen, i, i + n);
        this.headLen += n;
        if (this.headLen === HEAD_CAP) this.headDone = true;
      }
      if (end === to && nl !== end) return;
      this.endLine();
      i = end + 1;
    }
  }

  /** One document ended: count it under its index. */
  private endLine(): void {
    this.lineStart = true;
    const h = this.head;
    const len = this.headLen;
    if (len === 0) return;
    if (
      len < INDEX_PREFIX.length ||
      h.compare(INDEX_PREFIX, 0, INDEX_PREFIX.length, 0, INDEX_PREFIX.length) !== 0
    )
      return this.count('(unknown index)');
    const start = INDEX_PREFIX.length;
    const q = h.indexOf(0x22, start);
    if (q < 0 || q >= len) return this.count('(unknown index)');
    const last = this.lastIndex;
    const lb = this.lastBytes;
    if (last && lb.length === q - start && h.compare(lb, 0, lb.length, start, q) === 0) {
      last.rows++;
      return;
    }
    this.count(h.toString('utf8', start, q));
    this.lastBytes = Buffer.from(h.subarray(start, q));
  }

  private count(index: string): void {
    let c = this.indices.get(index);
    if (!c) this.indices.set(index, (c = { name: index, rows: 0 }));
    c.rows++;
    this.lastIndex = c;
    this.lastBytes = Buffer.alloc(0);
  }
}
