/**
 * The `dump` command's environment: what the operator sets on the CronJob
 * container (docs/architecture.md, docs/dump-environment.md). The names are
 * the contract's (src/contract/dumper-env.ts); their validation is declared
 * once here, with zod; every problem is one `VARIABLE: message` line.
 */
import { z } from 'zod';
import type { DumpTarget } from '../../dumpers/types.js';
import { isAgeRecipient, showNotRecipient } from '../crypto/age-keys.js';
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
import { DUMPER_ENV as E, TERMINATION_MESSAGE_PATH } from '../contract/dumper-env.js';
import { DEFAULT_KEY_TEMPLATE, checkKeyTemplate } from '../contract/key-template.js';

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
  [E.type]: z.enum(engineTypes, { error: `expected one of ${engineTypes.join(', ')}` }),
  [E.host]: z.string().trim().min(1, 'required: the database Service address'),
  [E.port]: optional(port),
  [E.username]: optional(z.string()),
  [E.password]: optional(z.string()),
  [E.databases]: optional(z.string()),
  [E.clientVersion]: optional(
    z.string().regex(/^\d+(\.\d+)?$/, 'expected a major version such as 16 or 8.0'),
  ),
  [E.dumpOptions]: optional(
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
  [E.esLimit]: optional(
    z
      .string()
      .regex(/^\d+$/, 'expected a positive integer')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 10000, 'expected 1 to 10000'),
  ),
  [E.recipients]: optional(
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
  [E.compression]: optional(
    z.string().transform((s, ctx) => {
      const c = parseCompression(s);
      if (c.ok) return c.compression;
      ctx.addIssue({ code: 'custom', message: `${c.reason}; accepted: ${COMPRESSION_ACCEPTED}` });
      return z.NEVER;
    }),
  ),
  [E.retention]: optional(
    z.string().superRefine((s, ctx) => {
      const r = parseRetention(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
    }),
  ),
  [E.abortUploadsOlderThan]: optional(
    z.string().transform((s, ctx) => {
      const age = parseAge(s);
      if (age.ok) return age.ms;
      ctx.addIssue({ code: 'custom', message: age.error });
      return z.NEVER;
    }),
  ),
  [E.shrinkThreshold]: optional(
    z.string().transform((s, ctx) => {
      const v = parseThreshold(s);
      if (v !== undefined) return v;
      ctx.addIssue({ code: 'custom', message: 'expected a fraction (0.5) or a percentage (50%)' });
      return z.NEVER;
    }),
  ),
  [E.storage]: z.string().trim().min(1, 'required: s3://bucket/prefix or a directory'),
  // The same check as the operator's (src/config/operator.ts), on the same
  // trimmed value: what the operator accepts, the dumper runs with.
  [E.keyTemplate]: optional(
    z
      .string()
      .trim()
      .superRefine((s, ctx) => {
        const problems = checkKeyTemplate(s);
        if (problems.length > 0) ctx.addIssue({ code: 'custom', message: problems.join('; ') });
      }),
  ),
  [E.workloadNamespace]: z.string().trim().min(1, 'required'),
  [E.workloadKind]: optional(z.string().trim()),
  [E.workloadName]: z.string().trim().min(1, 'required'),
  [E.s3ForcePathStyle]: optional(z.enum(['true', 'false'], { error: 'expected true or false' })),
  [E.terminationMessagePath]: optional(z.string()),
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
  const databaseList = e[E.databases];
  let databases: string[] | '*' = e[E.type] === 'elasticsearch' ? '*' : [];
  if (databaseList !== undefined) {
    try {
      databases = parseDatabaseList(databaseList);
    } catch (err) {
      problems.push(`${E.databases}: ${(err as UserError).message.replace(/^databases: /, '')}`);
    }
  } else if (e[E.type] !== 'elasticsearch') {
    problems.push(`${E.databases}: required: a comma list of databases, or *`);
  }
  if (problems.length > 0) throw new ConfigError(problems, 'invalid dumper environment');

  const target: DumpTarget = {
    host: e[E.host],
    port: e[E.port] ?? DEFAULT_PORTS[e[E.type]],
    databases,
    extraArgs: e[E.dumpOptions] ?? [],
  };
  const { [E.username]: username, [E.password]: password, [E.clientVersion]: clientVersion } = e;
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  if (clientVersion !== undefined) target.clientVersion = clientVersion;
  if (e[E.type] === 'elasticsearch') target.esLimit = e[E.esLimit] ?? 1000;

  return {
    engine: e[E.type],
    target,
    recipients: e[E.recipients] ?? [],
    compression: e[E.compression] ?? DEFAULT_COMPRESSION,
    retention: e[E.retention] ?? '',
    staleUploadAgeMs: e[E.abortUploadsOlderThan] ?? DEFAULT_STALE_UPLOAD_AGE_MS,
    shrinkThreshold: e[E.shrinkThreshold] ?? DEFAULT_SHRINK_THRESHOLD,
    storage: e[E.storage],
    keyTemplate: e[E.keyTemplate] ?? DEFAULT_KEY_TEMPLATE,
    workload: {
      namespace: e[E.workloadNamespace],
      kind: e[E.workloadKind] ?? 'Deployment',
      name: e[E.workloadName],
    },
    terminationMessagePath: e[E.terminationMessagePath] ?? TERMINATION_MESSAGE_PATH,
  };
}
