// A real terminal for the CLI: a tmux session (its own server socket) whose
// pane runs the command under `script`, so a test can read both the screen
// as a person sees it (tmux capture-pane) and the raw bytes the command
// wrote to its terminal (the `script` log: \r, escape sequences and all),
// and type into it (tmux send-keys).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../env/helpers.js';
import { trackPair } from '../env/servers/forward.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Terminal {
  /** The visible screen, one string (trailing blank lines dropped). */
  screen(): Promise<string>;
  /** Everything the command wrote to its terminal so far, raw. */
  raw(): Promise<string>;
  /** The command's exit status once it has ended; undefined before. */
  exitCode(): Promise<number | undefined>;
  /** Waits for the command's end; its exit status. */
  exited(timeoutMs?: number): Promise<number>;
  /** Types `text` (tmux key names allowed, e.g. `Enter`). */
  keys(...keys: string[]): Promise<void>;
  /** Polls the screen every 50 ms until `test` holds; returns that screen. */
  waitFor(what: string, test: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts `argv` in a `cols`×`rows` terminal, with `env` added to this process's environment. */
export async function startTerminal(
  dir: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  size = { cols: 120, rows: 30 },
): Promise<Terminal> {
  const id = randomBytes(4).toString('hex');
  const socket = `snapkeeper-test-${id}`;
  const cmd = join(dir, `cmd-${id}.sh`);
  const outer = join(dir, `term-${id}.sh`);
  const rawFile = join(dir, `raw-${id}.log`);
  const exitFile = join(dir, `exit-${id}`);
  const exports = Object.entries({ ...process.env, ...env })
    .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${quote(v!)}`)
    .join('\n');
  await writeFile(cmd, `${exports}\nexec ${argv.map(quote).join(' ')}\n`);
  // `script -e` exits with the command's status; the pane stays open for reading.
  await writeFile(
    outer,
    `script -q -f -e -c ${quote(`bash ${cmd}`)} ${quote(rawFile)}\n` +
      `echo $? > ${quote(exitFile)}\nsleep 3600\n`,
  );
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, '-f', '/dev/null', ...args]);
  await tmux(
    'new-session',
    '-d',
    '-x',
    String(size.cols),
    '-y',
    String(size.rows),
    `bash ${quote(outer)}`,
  );
  const screen = async () =>
    (await tmux('capture-pane', '-p', '-t', '0')).replace(/\s+$/, '').replace(/[ ]+\n/g, '\n');
  const exitCode = async () => {
    const text = await readFile(exitFile, 'utf8').catch(() => undefined);
    return text === undefined || text.trim() === '' ? undefined : Number(text.trim());
  };
  return {
    screen,
    raw: () => readFile(rawFile, 'utf8').catch(() => ''),
    exitCode,
    async exited(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const code = await exitCode();
        if (code !== undefined) return code;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for the end; screen:\n${await screen()}`);
        await sleep(50);
      }
    },
    keys: async (...keys) => void (await tmux('send-keys', '-t', '0', ...keys)),
    async waitFor(what, test, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await screen();
        if (test(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
        await sleep(50);
      }
    },
    close: async () => void (await tmux('kill-server').catch(() => '')),
  };
}

/**
 * A TCP proxy to `target` (`http://host:port`) that delivers the answers at
 * about `bytesPerSecond`: a slow network, so that a short phase lasts long
 * enough to be seen. Returns its http:// URL and a close function.
 */
export async function slowProxy(
  target: string,
  bytesPerSecond: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    trackPair(client, upstream, sockets);
    client.pipe(upstream);
    upstream
      .pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            setTimeout(() => done(null, chunk), (chunk.length / bytesPerSecond) * 1000);
          },
        }),
      )
      .pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
