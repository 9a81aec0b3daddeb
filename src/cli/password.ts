/**
 * A password asked on the terminal, without echo: when the database wants
 * one, none was given (URL, SNAPKEEPER_PASSWORD, PGPASSWORD, MYSQL_PWD) and
 * a person is at the keyboard (stdin is a terminal), as psql and mysql do.
 */
import type { ReadStream } from 'node:tty';
import type { DumpTarget, Engine } from '../../dumpers/types.js';
import { InterruptedError, UserError, describeError } from '../errors.js';
import type { CliContext } from './context.js';

/** The server's way of saying a password is missing (PostgreSQL, MySQL / MariaDB). */
const PASSWORD_NEEDED = /no password supplied|\(using password: NO\)/i;

/**
 * Sets `target.password` from the terminal when the server refuses to go
 * on without one. Tries the server once (its version); anything but "a
 * password is needed" is left to the command, which meets it again.
 */
export async function askPasswordIfNeeded(
  engine: Engine,
  target: DumpTarget,
  ctx: CliContext,
): Promise<void> {
  const stdin = ctx.stdin;
  if (target.password !== undefined || !stdin?.isTTY) return;
  try {
    await engine.serverVersion(target, { signal: ctx.signal, log: ctx.log });
    return;
  } catch (err) {
    if (!PASSWORD_NEEDED.test(describeError(err))) return;
  }
  const who = `${target.username ? `${target.username}@` : ''}${target.host}:${target.port}`;
  target.password = await readSecret(`Password for ${who}: `, stdin, ctx.stderr);
}

/** Reads one line from a terminal in raw mode (nothing echoed); Ctrl-C interrupts, Ctrl-D gives up. */
export function readSecret(
  prompt: string,
  input: Pick<ReadStream, 'setRawMode' | 'on' | 'off' | 'resume' | 'pause' | 'setEncoding'>,
  output: NodeJS.WritableStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n')
          return finish(value === '' ? new UserError('no password given') : undefined);
        if (ch === '\u0003') return finish(new InterruptedError('SIGINT'));
        if (ch === '\u0004' && value === '') return finish(new UserError('no password given'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    output.write(prompt);
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}
