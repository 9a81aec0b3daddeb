import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of the operator (DESIGN.md §3), in one registry made per
 * process (no module-level global), so tests can make their own.
 */
export function createMetrics(registry: Registry = new Registry()) {
  const backupLabels = ['namespace', 'workload', 'type'] as const;
  return {
    registry,
    workloads: new Gauge({
      name: 'snapkeeper_workloads',
      help: 'Tracked workloads by state (scheduled, invalid, no_service, ambiguous_service, missing_credentials, suspended)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    backupLastSuccess: new Gauge({
      name: 'snapkeeper_backup_last_success_timestamp_seconds',
      help: 'Unix time of the last successful backup of a workload',
      labelNames: backupLabels,
      registers: [registry],
    }),
    backupLastDuration: new Gauge({
      name: 'snapkeeper_backup_last_duration_seconds',
      help: 'Duration of the last finished backup run of a workload',
      labelNames: backupLabels,
      registers: [registry],
    }),
    backupLastSize: new Gauge({
      name: 'snapkeeper_backup_last_size_bytes',
      help: 'Stored size of the last successful backup of a workload',
      labelNames: backupLabels,
      registers: [registry],
    }),
    backupRuns: new Counter({
      name: 'snapkeeper_backup_runs_total',
      help: 'Finished backup runs by result (success, failure)',
      labelNames: [...backupLabels, 'result'] as const,
      registers: [registry],
    }),
    backupShrank: new Counter({
      name: 'snapkeeper_backup_shrank_total',
      help: 'Successful backups that held far fewer rows or bytes than the one before (BackupShrank)',
      labelNames: backupLabels,
      registers: [registry],
    }),
    backupMissed: new Gauge({
      name: 'snapkeeper_backup_missed',
      help: '1 when a workload has had no successful backup within its schedule period plus the grace',
      labelNames: backupLabels,
      registers: [registry],
    }),
    restoreTestLastSuccess: new Gauge({
      name: 'snapkeeper_restore_test_last_success_timestamp_seconds',
      help: 'Unix time of the last passed scheduled restore test of a workload',
      labelNames: backupLabels,
      registers: [registry],
    }),
    restoreTestLastDuration: new Gauge({
      name: 'snapkeeper_restore_test_last_duration_seconds',
      help: 'Duration of the last finished scheduled restore test of a workload',
      labelNames: backupLabels,
      registers: [registry],
    }),
    restoreTestFailures: new Counter({
      name: 'snapkeeper_restore_test_failures_total',
      help: 'Scheduled restore tests that failed (a mismatch, a failed check, or no restore at all)',
      labelNames: backupLabels,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'snapkeeper_reconcile_duration_seconds',
      help: 'Time to reconcile one workload',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'snapkeeper_reconcile_errors_total',
      help: 'Reconciles that ended in an error (and were requeued)',
      registers: [registry],
    }),
    kubeApiRequests: new Counter({
      name: 'snapkeeper_kube_api_requests_total',
      help: 'Requests made to the Kubernetes API, by verb',
      labelNames: ['verb'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
