/**
 * The dumper's result: one JSON line (docs/architecture.md, "The dumper's
 * result") that `snapkeeper dump` writes to stdout and to the
 * termination-message path, and that the operator's status controller reads
 * back from the finished Job's pod (src/status/result.ts). One schema for
 * both sides, as the restore-test report has (./restore-test-report.ts):
 * the writer builds a `DumpResult` (the schema's type), formatResult makes
 * it one line of at most 4096 bytes, the kubelet's cap on a termination
 * message, and the reader parses with `dumpResultReadSchema`, the same
 * schema read leniently.
 */
import { z } from 'zod';
import { byteSize as size, largestFitting } from './line.js';

export const MAX_RESULT_BYTES = 4096;

const storedObjectSchema = z.object({
  key: z.string(),
  bytes: z.number(),
  sha256: z.string(),
});

const successSchema = z.object({
  ok: z.literal(true),
  manifestKey: z.string(),
  objects: z.array(storedObjectSchema),
  /** True when `objects` was cut to fit the line (the manifest has them all). */
  objectsTruncated: z.literal(true).optional(),
  /** Stored bytes (after compression and encryption). */
  bytes: z.number().nonnegative(),
  rawBytes: z.number().nonnegative(),
  durationSeconds: z.number().nonnegative(),
  serverVersion: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** BackupShrank: why this backup holds far less than the one before (absent: it does not). */
  shrank: z.string().optional(),
  /** What retention did after the backup (absent: no policy). */
  retention: z
    .union([z.object({ kept: z.number(), removed: z.number() }), z.object({ error: z.string() })])
    .optional(),
});

const failureSchema = z.object({
  ok: z.literal(false),
  error: z.string(),
  durationSeconds: z.number().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

/** The line as the dumper writes it. */
export const dumpResultSchema = z.discriminatedUnion('ok', [successSchema, failureSchema]);

export type SuccessResult = z.infer<typeof successSchema>;
export type FailureResult = z.infer<typeof failureSchema>;
export type DumpResult = z.infer<typeof dumpResultSchema>;

/**
 * The line as the status controller reads it: the same fields, each one
 * optional but `ok` (a dumper of another version, a message that lost
 * fields), an object needing its key only; a field of the wrong type makes
 * the line no result. The fields the status controller does not use
 * (`retention`, `objectsTruncated`) are not checked, so a line is never
 * unreadable for one of them.
 */
export const dumpResultReadSchema = z.discriminatedUnion('ok', [
  successSchema
    .omit({ retention: true, objectsTruncated: true })
    .partial()
    .extend({
      ok: z.literal(true),
      objects: z.array(storedObjectSchema.partial().required({ key: true })).optional(),
    }),
  failureSchema.partial().extend({ ok: z.literal(false) }),
]);

export type DumpResultAsRead = z.infer<typeof dumpResultReadSchema>;

/**
 * The result as one line of at most `max` bytes: a long error is cut (with
 * `…`), a long object list is shortened to what fits (the manifest has all).
 */
export function formatResult(result: DumpResult, max = MAX_RESULT_BYTES): string {
  let line = JSON.stringify(result);
  if (size(line) <= max) return line;
  if (!result.ok) {
    // The longest prefix (whole code points) that fits, by bisection.
    const points = Array.from(result.error);
    const cut = (n: number) =>
      JSON.stringify({ ...result, error: points.slice(0, n).join('') + '…' });
    return cut(largestFitting(0, points.length, (n) => size(cut(n)) <= max));
  }
  const objects = [...result.objects];
  while (size(line) > max && objects.length > 0) {
    objects.pop();
    line = JSON.stringify({ ...result, objects, objectsTruncated: true });
  }
  return line;
}
