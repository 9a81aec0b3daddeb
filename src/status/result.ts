import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { dumpResultReadSchema, type DumpResultAsRead } from '../contract/dump-result.js';

/**
 * What a finished backup Job tells us: the dumper's termination message
 * (docs/architecture.md, "The dumper's result"), read back from the pod, with
 * the Job's own conditions as the ground truth for success or failure.
 */

/** Longest reason kept anywhere (annotation, Event message, table cell). */
export const MAX_REASON_LENGTH = 512;

/**
 * The parsed termination message. `readable: false` means the text was not a
 * dumper result (missing, truncated, or something else wrote it); `error` then
 * says why, and the result counts as a failure unless the Job itself says
 * otherwise.
 */
export type TerminationMessage =
  ({ readable: true } & DumpResultAsRead) | { readable: false; ok: false; error: string };

export function clip(text: string, max = MAX_REASON_LENGTH): string {
  const one = text.replace(/\s*\n\s*/g, ' ').trim();
  return one.length <= max ? one : one.slice(0, max - 1) + '…';
}

/**
 * Parses the dumper's one-line JSON result with the contract's schema
 * (src/contract/dump-result.ts, read leniently). Never throws. Tolerates a message
 * that carries log lines before the result (terminationMessagePolicy
 * FallbackToLogsOnError) by trying the last line that looks like JSON.
 */
export function parseTerminationMessage(text: string | undefined | null): TerminationMessage {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { readable: false, ok: false, error: 'no termination message' };
  const candidates = [
    trimmed,
    ...trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('{'))
      .reverse(),
  ];
  let sawJson = false;
  for (const candidate of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    sawJson = true;
    const parsed = dumpResultReadSchema.safeParse(value);
    if (parsed.success) return { readable: true, ...parsed.data };
  }
  if (!sawJson && trimmed.startsWith('{')) {
    return {
      readable: false,
      ok: false,
      error: `termination message truncated: ${clip(trimmed, 200)}`,
    };
  }
  return {
    readable: false,
    ok: false,
    error: `termination message is not a snapkeeper result: ${clip(trimmed, 200)}`,
  };
}

/** One finished backup run, as the status controller, the Events and `status` see it. */
export interface BackupResult {
  ok: boolean;
  /** Why it failed, or a note on a success whose details are missing. */
  reason?: string;
  /** Stored bytes (after compression and encryption). */
  bytes?: number;
  durationSeconds?: number;
  finishedAt: Date;
  /** The manifest key (or the first object's key) of a successful run. */
  key?: string;
  /** BackupShrank: a success that holds far less than the backup before (the dumper's sentence). */
  shrank?: string;
  jobName: string;
  jobUid: string;
}

/** The Job's condition of this type when it is True. */
export function condition(job: V1Job, type: string): V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** 'succeeded' / 'failed' once the Job has its final condition; undefined while it runs. */
export function jobOutcome(job: V1Job): 'succeeded' | 'failed' | undefined {
  if (condition(job, 'Complete')) return 'succeeded';
  if (condition(job, 'Failed')) return 'failed';
  return undefined;
}

/** A Kubernetes time (Date or RFC 3339 string) as a Date; undefined when absent or invalid. */
export function toDate(value: Date | string | undefined | null): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The pods of this Job, newest first. */
export function podsOfJob(job: V1Job, pods: readonly V1Pod[]): V1Pod[] {
  const uid = job.metadata?.uid;
  return pods
    .filter((p) =>
      (p.metadata?.ownerReferences ?? []).some(
        (o) => o.kind === 'Job' && (uid ? o.uid === uid : o.name === job.metadata?.name),
      ),
    )
    .sort(
      (a, b) =>
        (toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0) -
        (toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0),
    );
}

/** How a container ended, from its pod's status (its current state, else its last one). */
export interface ContainerEnd {
  /** The termination message as the kubelet kept it. */
  message?: string;
  exitCode?: number;
  reason?: string;
  finishedAt?: Date;
}

/**
 * The pods walker of finished Jobs (backup and restore test): the terminated
 * containers of `pods`, in the order given (podsOfJob: newest pod first),
 * each message read with `read`; the first whose reading is `wanted` wins
 * over any other container's; when none is, the first terminated container,
 * with what `read` made of it. undefined when no container has terminated.
 */
export function findTermination<T>(
  pods: readonly V1Pod[],
  read: (message: string | undefined) => T,
  wanted: (reading: T) => boolean,
): { end: ContainerEnd; reading: T } | undefined {
  let fallback: { end: ContainerEnd; reading: T } | undefined;
  for (const pod of pods) {
    for (const s of pod.status?.containerStatuses ?? []) {
      const t = s.state?.terminated ?? s.lastState?.terminated;
      if (!t) continue;
      const found = {
        end: {
          message: t.message,
          exitCode: t.exitCode,
          reason: t.reason,
          finishedAt: toDate(t.finishedAt),
        },
        reading: read(t.message),
      };
      if (wanted(found.reading)) return found;
      fallback ??= found;
    }
  }
  return fallback;
}

interface PodTermination extends Omit<ContainerEnd, 'message'> {
  message: TerminationMessage;
}

/** A backup pod's end: its dumper result, which wins over any other container's message. */
function terminationOf(pod: V1Pod): PodTermination | undefined {
  const found = findTermination([pod], parseTerminationMessage, (m) => m.readable);
  return found && { ...found.end, message: found.reading };
}

/**
 * The result of a finished Job (undefined while it runs). The Job's condition
 * decides success; the newest pod's termination message supplies size,
 * duration and key, or the reason of a failure; when the message is missing,
 * the container's exit code and the Job condition explain the failure.
 */
export function jobResult(job: V1Job, pods: readonly V1Pod[]): BackupResult | undefined {
  const outcome = jobOutcome(job);
  if (!outcome) return undefined;
  const jobName = job.metadata?.name ?? '';
  const jobUid = job.metadata?.uid ?? jobName;
  const terminations = podsOfJob(job, pods)
    .map(terminationOf)
    .filter((t): t is PodTermination => t !== undefined);
  const final = condition(job, outcome === 'succeeded' ? 'Complete' : 'Failed');
  const conditionTime = toDate(final?.lastTransitionTime);
  const started = toDate(job.status?.startTime);

  if (outcome === 'succeeded') {
    const t = terminations.find((x) => x.message.readable && x.message.ok) ?? terminations[0];
    const m = t?.message.readable && t.message.ok ? t.message : undefined;
    const finishedAt =
      toDate(m?.finishedAt) ??
      toDate(job.status?.completionTime) ??
      conditionTime ??
      t?.finishedAt ??
      new Date(0);
    const durationSeconds =
      m?.durationSeconds ??
      (started ? Math.max(0, (finishedAt.getTime() - started.getTime()) / 1000) : undefined);
    return {
      ok: true,
      ...(m
        ? {}
        : {
            reason: clip(
              t && !t.message.ok ? (t.message.error ?? 'failed') : 'no pod result found',
            ),
          }),
      bytes: m?.bytes ?? m?.objects?.reduce((n, o) => n + (o.bytes ?? 0), 0),
      durationSeconds,
      finishedAt,
      key: m?.manifestKey ?? m?.objects?.[0]?.key,
      ...(m?.shrank?.trim() ? { shrank: clip(m.shrank) } : {}),
      jobName,
      jobUid,
    };
  }

  const t = terminations[0];
  let reason: string;
  if (t?.message.readable && !t.message.ok && t.message.error) {
    reason = t.message.error;
  } else if (t && t.exitCode !== undefined && t.exitCode !== 0) {
    reason = `dumper exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
    if (!t.message.readable && t.message.error !== 'no termination message') {
      reason += `; ${t.message.error}`;
    }
  } else if (final?.reason || final?.message) {
    reason = [final.reason, final.message].filter(Boolean).join(': ');
  } else {
    reason = 'job failed';
  }
  const m = t?.message.readable ? t.message : undefined;
  const finishedAt =
    toDate(m?.finishedAt) ?? conditionTime ?? t?.finishedAt ?? started ?? new Date(0);
  const durationSeconds =
    m?.durationSeconds ??
    (started ? Math.max(0, (finishedAt.getTime() - started.getTime()) / 1000) : undefined);
  return { ok: false, reason: clip(reason), durationSeconds, finishedAt, jobName, jobUid };
}
