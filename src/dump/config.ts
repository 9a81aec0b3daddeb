/**
 * The `dump` command's environment: what the operator sets on the CronJob
 * container (docs/architecture.md, docs/dump-environment.md). Declared once
 * here, validated with zod; every problem is one `VARIABLE: message` line.
 */
import { z } from 'zod';
import type { DumpTarget } from '../../dumpers/types.js';
import { isAgeRecipient, showNotRecipient } from '../crypto/age.js';
import { DEFAULT_PORTS, parseDatabaseList } from '../dburl.js';
import { ConfigError, UserError } from '../errors.js';
import {
  COMPRESSION_ACCEPTED,
  DEFAULT_COMPRESSION,
  parseCompression,
  type Compression,
} from '../pipeline/compression.js';
import { engineTypes, type EngineType } from '../manifest.js';
import { DEFAULT_SHRINK_THRESHOLD, parseThreshold } from '../contents/shrink.js';
import { parseRetention } from '../retention/policy.js';
import { DEFAULT_STALE_UPLOAD_AGE_MS, parseAge } from '../retention/stale.js';
import { DEFAULT_KEY_TEMPLATE, checkKeyTemplate } from './key.js';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Unset and empty are the same thing for an environment variable. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    schema.optional(),
  );

const port = z
  .string()
  .regex(/^\d+$/, 'expected a port number')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, 'expected a port between 1 and 65535');

const envSchema = z.object({
  SNAPKEEPER_TYPE: z.enum(engineTypes, { error: `expected one of ${engineTypes.join(', ')}` }),
  SNAPKEEPER_HOST: z.string().trim().min(1, 'required: the database Service address'),
  SNAPKEEPER_PORT: optional(port),
  SNAPKEEPER_USERNAME: optional(z.string()),
  SNAPKEEPER_PASSWORD: optional(z.string()),
  SNAPKEEPER_DATABASES: optional(z.string()),
  SNAPKEEPER_CLIENT_VERSION: optional(
    z.string().regex(/^\d+(\.\d+)?$/, 'expected a major version such as 16 or 8.0'),
  ),
  SNAPKEEPER_DUMP_OPTIONS: optional(
    z.string().transform((s, ctx) => {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of strings' });
        return z.NEVER;
      }
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of strings' });
        return z.NEVER;
      }
      return v as string[];
    }),
  ),
  SNAPKEEPER_ES_LIMIT: optional(
    z
      .string()
      .regex(/^\d+$/, 'expected a positive integer')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 10000, 'expected 1 to 10000'),
  ),
  SNAPKEEPER_RECIPIENTS: optional(
    z.string().transform((s, ctx) => {
      const list = s
        .split(/[\s,]+/)
        .map((r) => r.trim())
        .filter(Boolean);
      const bad = list.filter((r) => !isAgeRecipient(r));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `not an age recipient (age1…): ${bad.map(showNotRecipient).join(', ')}`,
        });
        return z.NEVER;
      }
      return [...new Set(list)];
    }),
  ),
  SNAPKEEPER_COMPRESSION: optional(
    z.string().transform((s, ctx) => {
      const c = parseCompression(s);
      if (c.ok) return c.compression;
      ctx.addIssue({ code: 'custom', message: `${c.reason}; accepted: ${COMPRESSION_ACCEPTED}` });
      return z.NEVER;
    }),
  ),
  SNAPKEEPER_RETENTION: optional(
    z.string().superRefine((s, ctx) => {
      const r = parseRetention(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    }),
  ),
  SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN: optional(
    z.string().transform((s, ctx) => {
      const age = parseAge(s);
      if (age.ok) return age.ms;
      ctx.addIssue({ code: 'custom', message: age.error });
      return z.NEVER;
    }),
  ),
  SNAPKEEPER_SHRINK_THRESHOLD: optional(
    z.string().transform((s, ctx) => {
      const v = parseThreshold(s);
      if (v !== undefined) return v;
      ctx.addIssue({ code: 'custom', message: 'expected a fraction (0.5) or a percentage (50%)' });
      return z.NEVER;
    }),
  ),
  SNAPKEEPER_STORAGE: z.string().trim().min(1, 'required: s3://bucket/prefix or a directory'),
  // The same check as the operator's (src/config/operator.ts), on the same
  // trimmed value: what the operator accepts, the dumper runs with.
  SNAPKEEPER_KEY_TEMPLATE: optional(
    z
      .string()
      .trim()
      .superRefine((s, ctx) => {
        const problems = checkKeyTemplate(s);
        if (problems.length > 0) ctx.addIssue({ code: 'custom', message: problems.join('; ') });
      }),
  ),
  SNAPKEEPER_WORKLOAD_NAMESPACE: z.string().trim().min(1, 'required'),
  SNAPKEEPER_WORKLOAD_KIND: optional(z.string().trim()),
  SNAPKEEPER_WORKLOAD_NAME: z.string().trim().min(1, 'required'),
  SNAPKEEPER_S3_FORCE_PATH_STYLE: optional(
    z.enum(['true', 'false'], { error: 'expected true or false' }),
  ),
  SNAPKEEPER_TERMINATION_MESSAGE_PATH: optional(z.string()),
});

export interface DumpConfig {
  engine: EngineType;
  target: DumpTarget;
  recipients: string[];
  compression: Compression;
  /** Retention policy string; '' keeps everything. */
  retention: string;
  /** Incomplete uploads under the workload's prefix older than this are aborted after a backup. */
  staleUploadAgeMs: number;
  /** BackupShrank: lost more than this fraction of rows or bytes (SNAPKEEPER_SHRINK_THRESHOLD). */
  shrinkThreshold: number;
  storage: string;
  keyTemplate: string;
  workload: { namespace: string; kind: string; name: string };
  terminationMessagePath: string;
}

/** Reads and validates the dumper's environment; throws ConfigError listing every problem. */
export function loadDumpConfig(env: NodeJS.ProcessEnv = process.env): DumpConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      const msg = i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message;
      return `${name}: ${msg}`;
    });
    throw new ConfigError(problems, 'invalid dumper environment');
  }
  const e = parsed.data;
  const problems: string[] = [];
  let databases: string[] | '*' = e.SNAPKEEPER_TYPE === 'elasticsearch' ? '*' : [];
  if (e.SNAPKEEPER_DATABASES !== undefined) {
    try {
      databases = parseDatabaseList(e.SNAPKEEPER_DATABASES);
    } catch (err) {
      problems.push(
        `SNAPKEEPER_DATABASES: ${(err as UserError).message.replace(/^databases: /, '')}`,
      );
    }
  } else if (e.SNAPKEEPER_TYPE !== 'elasticsearch') {
    problems.push('SNAPKEEPER_DATABASES: required: a comma list of databases, or *');
  }
  if (problems.length > 0) throw new ConfigError(problems, 'invalid dumper environment');

  const target: DumpTarget = {
    host: e.SNAPKEEPER_HOST,
    port: e.SNAPKEEPER_PORT ?? DEFAULT_PORTS[e.SNAPKEEPER_TYPE],
    databases,
    extraArgs: e.SNAPKEEPER_DUMP_OPTIONS ?? [],
  };
  if (e.SNAPKEEPER_USERNAME !== undefined) target.username = e.SNAPKEEPER_USERNAME;
  if (e.SNAPKEEPER_PASSWORD !== undefined) target.password = e.SNAPKEEPER_PASSWORD;
  if (e.SNAPKEEPER_CLIENT_VERSION !== undefined) target.clientVersion = e.SNAPKEEPER_CLIENT_VERSION;
  if (e.SNAPKEEPER_TYPE === 'elasticsearch') target.esLimit = e.SNAPKEEPER_ES_LIMIT ?? 1000;

  return {
    engine: e.SNAPKEEPER_TYPE,
    target,
    recipients: e.SNAPKEEPER_RECIPIENTS ?? [],
    compression: e.SNAPKEEPER_COMPRESSION ?? DEFAULT_COMPRESSION,
    retention: e.SNAPKEEPER_RETENTION ?? '',
    staleUploadAgeMs: e.SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN ?? DEFAULT_STALE_UPLOAD_AGE_MS,
    shrinkThreshold: e.SNAPKEEPER_SHRINK_THRESHOLD ?? DEFAULT_SHRINK_THRESHOLD,
    storage: e.SNAPKEEPER_STORAGE,
    keyTemplate: e.SNAPKEEPER_KEY_TEMPLATE ?? DEFAULT_KEY_TEMPLATE,
    workload: {
      namespace: e.SNAPKEEPER_WORKLOAD_NAMESPACE,
      kind: e.SNAPKEEPER_WORKLOAD_KIND ?? 'Deployment',
      name: e.SNAPKEEPER_WORKLOAD_NAME,
    },
    terminationMessagePath:
      e.SNAPKEEPER_TERMINATION_MESSAGE_PATH ?? DEFAULT_TERMINATION_MESSAGE_PATH,
  };
}
