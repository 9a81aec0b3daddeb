import { createHash } from 'node:crypto';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { MANAGED_BY } from '../labels.js';
import type { EventApi } from '../kube/api.js';
import { isConflict } from '../kube/errors.js';

export const REPORTING_COMPONENT = MANAGED_BY;

export const EventReasons = {
  BackupScheduled: 'BackupScheduled',
  InvalidAnnotation: 'InvalidAnnotation',
  AnnotationWarning: 'AnnotationWarning',
  ConflictingAnnotations: 'ConflictingAnnotations',
  NoService: 'NoService',
  AmbiguousService: 'AmbiguousService',
  MissingCredentials: 'MissingCredentials',
  RestoreTestScheduled: 'RestoreTestScheduled',
  RestoreTestNoIdentity: 'RestoreTestNoIdentity',
} as const;
export type EventReason = (typeof EventReasons)[keyof typeof EventReasons];
export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  api: EventApi;
  log: Logger;
  /** Leader identity, as reportingInstance. */
  instance: string;
  /** Same pod, type, reason and message within this window: no new write. */
  windowMs?: number;
  now?: () => Date;
}

/** The longest message the API keeps in full. */
const MAX_MESSAGE = 1024;

/**
 * Events on the source pod (core/v1, what `kubectl describe pod` shows).
 * Deduplicated: the same (pod uid, type, reason, message) is written once per
 * window; after the window, the same Event's count goes up instead of a new
 * one appearing (its name is derived from that tuple). The window survives a
 * restart: `seed` reads back the Events snapkeeper wrote in a namespace.
 *
 * Callers pass messages built from names only, never credential values.
 * Writing an Event is best effort: a failure is logged, not thrown.
 */
export class EventRecorder {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly now: () => Date;
  private lastSweep = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.windowMs = options.windowMs ?? 60 * 60 * 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** Learn which Events exist already (after a restart or a leader change). */
  async seed(namespace: string): Promise<void> {
    try {
      const events = await this.options.api.list(
        namespace,
        `reportingComponent=${REPORTING_COMPONENT}`,
      );
      for (const ev of events) {
        const uid = ev.involvedObject?.uid;
        if (!uid || !ev.reason || !ev.type) continue;
        const at = ev.lastTimestamp ?? ev.eventTime ?? ev.firstTimestamp;
        const key = dedupKey(uid, ev.type, ev.reason, ev.message ?? '');
        const t = at ? new Date(at).getTime() : 0;
        if (t > (this.seen.get(key) ?? -1)) this.seen.set(key, t);
      }
    } catch (err) {
      this.options.log.warn('cannot read existing events; duplicates are possible', {
        namespace,
        error: describeError(err),
      });
    }
  }

  /** True when this event would be written now (not within the window). */
  wouldWrite(pod: V1Pod, type: EventType, reason: string, message: string): boolean {
    const key = dedupKey(pod.metadata?.uid ?? '', type, reason, truncate(message));
    const last = this.seen.get(key);
    return last === undefined || this.now().getTime() - last >= this.windowMs;
  }

  async record(pod: V1Pod, type: EventType, reason: string, message: string): Promise<void> {
    const msg = truncate(message);
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const podName = pod.metadata?.name ?? '';
    const key = dedupKey(uid, type, reason, msg);
    const nowDate = this.now();
    const now = nowDate.getTime();
    this.sweep(now);
    const last = this.seen.get(key);
    if (last !== undefined && now - last < this.windowMs) return;
    this.seen.set(key, now);

    const name = `${podName.slice(0, 200)}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    const api = this.options.api;
    try {
      await api.create(namespace, {
        metadata: { name, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: podName, namespace, uid },
        type,
        reason,
        message: msg,
        count: 1,
        firstTimestamp: nowDate,
        lastTimestamp: nowDate,
        source: { component: REPORTING_COMPONENT },
        reportingComponent: REPORTING_COMPONENT,
        reportingInstance: this.options.instance,
      });
    } catch (err) {
      if (!isConflict(err)) return this.failed(err, namespace, podName, reason);
      // Written before (an earlier window): count it again.
      try {
        const existing = await api.get(namespace, name);
        if (!existing) return;
        const updated: CoreV1Event = {
          ...existing,
          count: (existing.count ?? 1) + 1,
          lastTimestamp: nowDate,
        };
        await api.replace(namespace, updated);
      } catch (err2) {
        this.failed(err2, namespace, podName, reason);
      }
    }
  }

  private failed(err: unknown, namespace: string, pod: string, reason: string): void {
    this.options.log.warn('cannot write event', {
      namespace,
      pod,
      reason,
      error: describeError(err),
    });
  }

  /** Forget entries older than the window, so the map stays bounded. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [k, t] of this.seen) if (now - t >= this.windowMs) this.seen.delete(k);
  }
}

function dedupKey(uid: string, type: string, reason: string, message: string): string {
  return `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE ? message : message.slice(0, MAX_MESSAGE - 1) + '…';
}
