import { DEFAULT_DATA_CHUNK_BYTES } from './archive.js';

/**
 * Cuts a stream of newline-terminated documents into chunks of about
 * `maxBytes`, each ending at a line end. `push` returns the chunks that are
 * complete; `end` the rest.
 */
export class LineChunker {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxBytes = DEFAULT_DATA_CHUNK_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.parts.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    while (this.size >= this.maxBytes) {
      const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      // The last line end at or before the limit; else the first after it (one big document).
      let cut = all.lastIndexOf(0x0a, this.maxBytes - 1);
      if (cut < 0) cut = all.indexOf(0x0a, this.maxBytes);
      if (cut < 0) {
        this.parts = [all];
        break;
      }
      out.push(all.subarray(0, cut + 1));
      const rest = all.subarray(cut + 1);
      this.parts = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }

  end(): Buffer | undefined {
    if (this.size === 0) return undefined;
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    return all[all.length - 1] === 0x0a ? all : Buffer.concat([all, Buffer.from('\n')]);
  }
}
