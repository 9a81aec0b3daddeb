// The chart's PrometheusRule, checked by the real promtool: `check rules` for
// syntax, and `test rules` evaluating every alert against recorded series
// (the metrics exactly as the operator exposes them) at chosen times.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../env/helpers.js';
import { binaries } from '../env/paths.js';
import { minimalValues, one, render } from '../kube/chart-render.js';

let dir: string;
let rulesFile: string;
let groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }>;

beforeAll(async () => {
  const { objects } = await render({
    ...minimalValues(),
    metrics: {
      prometheusRule: {
        enabled: true,
        noSuccessHours: 26,
        restoreTestMaxAgeHours: 30,
        severity: 'critical',
      },
    },
  });
  const rule = one(objects, 'PrometheusRule') as unknown as { spec: { groups: typeof groups } };
  groups = rule.spec.groups;
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-alerts-'));
  rulesFile = join(dir, 'rules.json');
  await writeFile(rulesFile, JSON.stringify({ groups }));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const W = 'namespace="shop",workload="postgres",type="postgresql"';
const W2 = 'namespace="shop",workload="mariadb",type="mariadb"';

function alert(labels: Record<string, string>, annotations: Record<string, string>) {
  return { exp_labels: { severity: 'critical', ...labels }, exp_annotations: annotations };
}

describe('the chart PrometheusRule', () => {
  it('given the rendered rule, then promtool check rules accepts it', async () => {
    const r = await exec(binaries.promtool(), ['check', 'rules', rulesFile]);
    expect(r.stderr + r.stdout.toString()).toContain('SUCCESS: 8 rules found');
    expect(r.code).toBe(0);
  });

  it('has the alerts of the design: no success, failures, missed, shrank, restore test failed / too old, operator down, reconcile errors', () => {
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual([
      'SnapkeeperBackupFailed',
      'SnapkeeperBackupMissed',
      'SnapkeeperBackupShrank',
      'SnapkeeperBackupTooOld',
      'SnapkeeperOperatorDown',
      'SnapkeeperReconcileErrors',
      'SnapkeeperRestoreTestFailed',
      'SnapkeeperRestoreTestTooOld',
    ]);
  });

  it('given the default values, then a restore test is too old after 192 hours', async () => {
    const { objects } = await render({
      ...minimalValues(),
      metrics: { prometheusRule: { enabled: true } },
    });
    const rule = one(objects, 'PrometheusRule') as unknown as { spec: { groups: typeof groups } };
    const tooOld = rule.spec.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'SnapkeeperRestoreTestTooOld')!;
    expect(tooOld.expr.trim()).toBe(
      'time() - snapkeeper_restore_test_last_success_timestamp_seconds > 192 * 3600',
    );
  });

  it('given recorded series, then each alert fires exactly when it should (promtool test rules)', async () => {
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          // postgres last succeeded at t=0 and never again; mariadb's value
          // follows the clock (a fresh success all the time). Scraped every minute.
          interval: '1m',
          input_series: [
            { series: `snapkeeper_backup_last_success_timestamp_seconds{${W}}`, values: '0x1700' },
            {
              series: `snapkeeper_backup_last_success_timestamp_seconds{${W2}}`,
              values: '0+60x1700',
            },
          ],
          alert_rule_test: [
            { eval_time: '25h', alertname: 'SnapkeeperBackupTooOld', exp_alerts: [] },
            // 26h is the threshold; the alert holds 10m before it fires.
            { eval_time: '26h5m', alertname: 'SnapkeeperBackupTooOld', exp_alerts: [] },
            {
              eval_time: '27h',
              alertname: 'SnapkeeperBackupTooOld',
              exp_alerts: [
                alert(
                  { namespace: 'shop', workload: 'postgres', type: 'postgresql' },
                  {
                    summary: 'No successful backup of shop/postgres for more than 26 hours',
                    description:
                      'The last successful postgresql backup of shop/postgres finished 1d 3h 0m 0s ago. ' +
                      "Run `snapkeeper status` and look at the Events of the workload's pod.",
                  },
                ),
              ],
            },
          ],
        },
        {
          // Runs counted from operator start (both series exported at 0).
          interval: '10m',
          input_series: [
            {
              series: `snapkeeper_backup_runs_total{${W},result="success"}`,
              values: '0 1 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3',
            },
            {
              series: `snapkeeper_backup_runs_total{${W},result="failure"}`,
              values: '0 0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1',
            },
            { series: `snapkeeper_backup_runs_total{${W2},result="failure"}`, values: '0x19' },
          ],
          alert_rule_test: [
            { eval_time: '30m', alertname: 'SnapkeeperBackupFailed', exp_alerts: [] },
            {
              eval_time: '50m',
              alertname: 'SnapkeeperBackupFailed',
              exp_alerts: [
                alert(
                  {
                    namespace: 'shop',
                    workload: 'postgres',
                    type: 'postgresql',
                    result: 'failure',
                  },
                  {
                    summary: 'Backup of shop/postgres failed',
                    description:
                      'A postgresql backup of shop/postgres failed within the last hour. The reason is in the ' +
                      "BackupFailed Event on the workload's pod and in `snapkeeper status`.",
                  },
                ),
              ],
            },
            // An hour after the one failure, the alert resolves by itself.
            { eval_time: '3h', alertname: 'SnapkeeperBackupFailed', exp_alerts: [] },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: `snapkeeper_backup_missed{${W}}`, values: '0 0 1x20' },
            { series: `snapkeeper_backup_missed{${W2}}`, values: '0x22' },
            { series: 'up{job="snapkeeper-metrics",instance="a"}', values: '1 1 1 0x40' },
            { series: 'snapkeeper_reconcile_errors_total', values: '0+1x40' },
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'SnapkeeperBackupMissed', exp_alerts: [] },
            {
              eval_time: '8m',
              alertname: 'SnapkeeperBackupMissed',
              exp_alerts: [
                alert(
                  { namespace: 'shop', workload: 'postgres', type: 'postgresql' },
                  {
                    summary: 'Scheduled backup of shop/postgres was missed',
                    description:
                      'The scheduled run of shop/postgres has not succeeded within its grace period ' +
                      "(BackupMissed Event on the workload's pod).",
                  },
                ),
              ],
            },
            { eval_time: '10m', alertname: 'SnapkeeperOperatorDown', exp_alerts: [] },
            {
              eval_time: '20m',
              alertname: 'SnapkeeperOperatorDown',
              exp_alerts: [
                alert(
                  {},
                  {
                    summary: 'The snapkeeper operator is not being scraped',
                    description:
                      'No snapkeeper operator target is up in namespace snapkeeper: new backup results, ' +
                      'Events and the missed-backup check stop while it is down (the CronJobs keep running).',
                  },
                ),
              ],
            },
            // Errors from the start: pending after a few minutes, firing only 15m later.
            { eval_time: '10m', alertname: 'SnapkeeperReconcileErrors', exp_alerts: [] },
            {
              eval_time: '35m',
              alertname: 'SnapkeeperReconcileErrors',
              exp_alerts: [
                alert(
                  {},
                  {
                    summary: 'The snapkeeper operator keeps failing to reconcile workloads',
                    description:
                      "15 reconcile errors in 15 minutes. The operator's logs and the Warning Events on " +
                      'annotated pods say why.',
                  },
                ),
              ],
            },
          ],
        },
      ],
    };
    tests.tests.push(...restoreTestCases(), ...shrankCases());
    const file = join(dir, 'tests.json');
    await writeFile(file, JSON.stringify(tests));
    const r = await exec(binaries.promtool(), ['test', 'rules', file]);
    expect(r.stdout.toString() + r.stderr).toContain('SUCCESS');
    expect(r.code).toBe(0);
  }, 120_000);
});

/**
 * The restore-test alerts over the restore-test series as the operator
 * exports them: failures counted from 0, the last passed test's time. A
 * backup failure (snapkeeper_backup_runs_total) never fires them, and a
 * restore-test failure never fires SnapkeeperBackupFailed.
 */
function restoreTestCases() {
  const failed = alert(
    { namespace: 'shop', workload: 'postgres', type: 'postgresql' },
    {
      summary: 'Restore test of shop/postgres failed',
      description:
        'A scheduled restore test of the newest postgresql backup of shop/postgres failed within the last hour: ' +
        'the backup did not restore, or what was restored differs from what it holds. The first mismatch or the ' +
        "error is in the RestoreTestFailed Event on the workload's pod and in `snapkeeper status`.",
    },
  );
  return [
    {
      interval: '10m',
      input_series: [
        {
          series: `snapkeeper_restore_test_failures_total{${W}}`,
          values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1',
        },
        { series: `snapkeeper_restore_test_failures_total{${W2}}`, values: '0x19' },
        // A backup failure of mariadb at the same time: not a restore-test failure.
        {
          series: `snapkeeper_backup_runs_total{${W2},result="failure"}`,
          values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1',
        },
        { series: `snapkeeper_backup_runs_total{${W},result="failure"}`, values: '0x19' },
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: 'SnapkeeperRestoreTestFailed', exp_alerts: [] },
        { eval_time: '40m', alertname: 'SnapkeeperRestoreTestFailed', exp_alerts: [failed] },
        // The restore-test failure is not a backup failure: only mariadb's backup alert fires.
        {
          eval_time: '40m',
          alertname: 'SnapkeeperBackupFailed',
          exp_alerts: [
            alert(
              { namespace: 'shop', workload: 'mariadb', type: 'mariadb', result: 'failure' },
              {
                summary: 'Backup of shop/mariadb failed',
                description:
                  'A mariadb backup of shop/mariadb failed within the last hour. The reason is in the ' +
                  "BackupFailed Event on the workload's pod and in `snapkeeper status`.",
              },
            ),
          ],
        },
        { eval_time: '3h', alertname: 'SnapkeeperRestoreTestFailed', exp_alerts: [] },
      ],
    },
    {
      // postgres passed its last test at t=0 and never again; mariadb's
      // follows the clock. Scraped every minute.
      interval: '1m',
      input_series: [
        {
          series: `snapkeeper_restore_test_last_success_timestamp_seconds{${W}}`,
          values: '0x1900',
        },
        {
          series: `snapkeeper_restore_test_last_success_timestamp_seconds{${W2}}`,
          values: '0+60x1900',
        },
        // A backup long overdue is not a restore test too old.
        { series: `snapkeeper_backup_last_success_timestamp_seconds{${W2}}`, values: '0x1900' },
      ],
      alert_rule_test: [
        { eval_time: '29h', alertname: 'SnapkeeperRestoreTestTooOld', exp_alerts: [] },
        // 30h is the threshold here; the alert holds 10m before it fires.
        { eval_time: '30h5m', alertname: 'SnapkeeperRestoreTestTooOld', exp_alerts: [] },
        {
          eval_time: '31h',
          alertname: 'SnapkeeperRestoreTestTooOld',
          exp_alerts: [
            alert(
              { namespace: 'shop', workload: 'postgres', type: 'postgresql' },
              {
                summary: 'No passed restore test of shop/postgres for more than 30 hours',
                description:
                  'The last passed restore test of shop/postgres finished 1d 7h 0m 0s ago: its backups are not ' +
                  "proven to restore. Look at the RestoreTest* Events of the workload's pod and the LAST TEST " +
                  'column of `snapkeeper status`.',
              },
            ),
          ],
        },
      ],
    },
  ];
}

/**
 * SnapkeeperBackupShrank over the shrink counter as the operator exports it
 * (from 0, restored after a restart): it fires for a day after a backup that
 * shrank, always as a warning (the backup was stored), whatever severity the
 * other alerts carry; a normal backup never fires it.
 */
function shrankCases() {
  const shrank = alert(
    { namespace: 'shop', workload: 'postgres', type: 'postgresql', severity: 'warning' },
    {
      summary: 'Backup of shop/postgres shrank',
      description:
        'A postgresql backup of shop/postgres within the last 24 hours holds far fewer rows or bytes than the ' +
        'one before it. It was stored; the older backups are still there. What shrank is in the BackupShrank ' +
        "Event on the workload's pod and in `snapkeeper status`; `snapkeeper diff` compares two backups table by table.",
    },
  );
  return [
    {
      // One backup an hour for both; postgres's fourth (t=3h) shrank. Scraped every 10 minutes.
      interval: '10m',
      input_series: [
        { series: `snapkeeper_backup_shrank_total{${W}}`, values: '0x17 1x300' },
        { series: `snapkeeper_backup_runs_total{${W},result="success"}`, values: '0+1x317' },
        // mariadb: normal backups all along, its shrink counter stays at 0.
        { series: `snapkeeper_backup_shrank_total{${W2}}`, values: '0x317' },
        { series: `snapkeeper_backup_runs_total{${W2},result="success"}`, values: '0+1x317' },
      ],
      alert_rule_test: [
        { eval_time: '2h', alertname: 'SnapkeeperBackupShrank', exp_alerts: [] },
        { eval_time: '3h10m', alertname: 'SnapkeeperBackupShrank', exp_alerts: [shrank] },
        { eval_time: '26h', alertname: 'SnapkeeperBackupShrank', exp_alerts: [shrank] },
        // A day after the shrink, with normal backups since, it resolves by itself.
        { eval_time: '28h', alertname: 'SnapkeeperBackupShrank', exp_alerts: [] },
        // Normal backups, even many of them, are neither a shrink nor a failure.
        { eval_time: '3h10m', alertname: 'SnapkeeperBackupFailed', exp_alerts: [] },
      ],
    },
  ];
}
