// The CLI run in-process, as the unit tests of its commands use it: argv in,
// exit code, stdout and stderr out; logs are discarded, no environment.
import { Writable } from 'node:stream';
import { run } from '../../src/cli.js';
import { createLogger } from '../../src/log.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        f(String(c));
        cb();
      },
    });
  const code = await run(argv, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env: {},
    log: createLogger({ level: 'error', write: () => {} }),
    signal: new AbortController().signal,
  });
  return { code, out, err };
}
