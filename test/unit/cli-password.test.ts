// The password prompt's line editing, on a stand-in for a terminal (the
// real terminal is in test/integration/cli-mistakes-terminal.test.ts).
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../src/cli/password.js';
import { InterruptedError, UserError } from '../../src/errors.js';

function terminal() {
  const modes: boolean[] = [];
  const input = Object.assign(new EventEmitter(), {
    setRawMode: (on: boolean) => (modes.push(on), input),
    resume: () => input,
    pause: () => input,
    setEncoding: () => input,
  });
  let shown = '';
  const output = new PassThrough();
  output.on('data', (c: Buffer) => (shown += c.toString()));
  return { input, output, modes, shown: () => shown };
}

describe('readSecret', () => {
  it('given typed keys with a correction, then the password, nothing echoed, raw mode off again', async () => {
    const t = terminal();
    const p = readSecret('Password for u@h:5432: ', t.input as never, t.output);
    t.input.emit('data', 's3cx');
    t.input.emit('data', '\u007fr3t\r');
    expect(await p).toBe('s3cr3t');
    await new Promise((r) => setImmediate(r));
    expect(t.shown()).toBe('Password for u@h:5432: \n');
    expect(t.modes).toEqual([true, false]);
  });

  it.each([
    ['Ctrl-C', '\u0003', InterruptedError],
    ['Ctrl-D', '\u0004', UserError],
    ['an empty line', '\r', UserError],
  ])('given %s, then it gives up', async (_n, key, type) => {
    const t = terminal();
    const p = readSecret('Password: ', t.input as never, t.output);
    t.input.emit('data', key);
    await expect(p).rejects.toBeInstanceOf(type);
    expect(t.modes).toEqual([true, false]);
  });
});
