import createDebug from 'debug';
import { UserError } from './errors.js';

/**
 * Structured logging: JSON lines where nobody is watching a terminal (in the
 * cluster, in CI), readable text on a terminal. `SNAPKEEPER_LOG_FORMAT=json|text`
 * overrides the choice, `SNAPKEEPER_LOG_LEVEL=debug|info|warn|error` the level.
 * The CLI's -q / -v / --log-format take precedence and reject values these
 * variables should not hold (see configuredLog in cli.ts); createLogger
 * itself falls back to the defaults. `debug` namespaces
 * (`DEBUG=snapkeeper:*`) remain for tracing.
 *
 * Never pass a secret in a message or field: callers log names and keys, not
 * values, and URLs go through redactUrl first.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
  /** The same logger (destination, fields) at another level or in another format. */
  reconfigure(options: { level?: Level; format?: LogFormat }): Logger;
}

export type LogFormat = 'json' | 'text';
export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** A log level as a user gives it (any case); `source` names where, for the error. */
export function parseLevel(value: string, source: string): Level {
  const v = value.trim().toLowerCase();
  if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  throw new UserError(
    `invalid ${source} ${JSON.stringify(value)}: expected one of ${LEVELS.join(', ')}`,
  );
}

/** A log format as a user gives it (any case); `source` names where, for the error. */
export function parseFormat(value: string, source: string): LogFormat {
  const v = value.trim().toLowerCase();
  if ((LOG_FORMATS as readonly string[]).includes(v)) return v as LogFormat;
  throw new UserError(
    `invalid ${source} ${JSON.stringify(value)}: expected one of ${LOG_FORMATS.join(', ')}`,
  );
}

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: Level;
  format?: LogFormat;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, base: Fields = {}): Logger {
  const envLevel = process.env.SNAPKEEPER_LOG_LEVEL as Level | undefined;
  const level: Level = options.level ?? (envLevel && envLevel in order ? envLevel : 'info');
  const envFormat = process.env.SNAPKEEPER_LOG_FORMAT;
  const format =
    options.format ??
    (envFormat === 'json' || envFormat === 'text'
      ? envFormat
      : process.stderr.isTTY
        ? 'text'
        : 'json');
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());

  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (order[lvl] < order[level]) return;
    const all = { ...base, ...fields };
    if (format === 'json') {
      write(JSON.stringify({ time: now().toISOString(), level: lvl, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${lvl.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
    }
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, format, write, now }, { ...base, ...fields }),
    reconfigure: (o) =>
      createLogger({ level: o.level ?? level, format: o.format ?? format, write, now }, base),
  };
}

/** A URL safe to print: the password (if any) is replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}

/** `debug` tracing under the snapkeeper namespace. */
export const trace = (ns: string) => createDebug(`snapkeeper:${ns}`);
