// The Grafana dashboard: valid JSON, every query valid PromQL (promtool parses
// each as a recording rule, Grafana variables replaced), and only metrics the
// operator actually exports.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';
import { exec } from '../env/helpers.js';
import { binaries, repoRoot } from '../env/paths.js';
import { minimalValues, one, render } from '../kube/chart-render.js';

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

const file = join(repoRoot, 'charts', 'snapkeeper', 'dashboards', 'snapkeeper.json');

async function dashboard() {
  return JSON.parse(await readFile(file, 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; query: unknown }> };
  };
}

function queries(d: Awaited<ReturnType<typeof dashboard>>): string[] {
  const fromPanels = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const fromVars = d.templating.list
    .map((v) => (v.query as { query?: string })?.query)
    .filter((q): q is string => typeof q === 'string' && q.startsWith('label_values('))
    // label_values(metric{...}, label) → metric{...}
    .map((q) => q.slice('label_values('.length, q.lastIndexOf(',')));
  return [...fromPanels, ...fromVars];
}

describe('the Grafana dashboard', () => {
  it('shows per workload: last success age, size and duration over time, failures, missed', async () => {
    const d = await dashboard();
    const all = queries(d).join('\n');
    for (const m of [
      'time() - snapkeeper_backup_last_success_timestamp_seconds',
      'snapkeeper_backup_last_size_bytes',
      'snapkeeper_backup_last_duration_seconds',
      'snapkeeper_backup_runs_total{namespace=~"$namespace",workload=~"$workload",result="failure"}',
      'snapkeeper_backup_missed',
    ]) {
      expect(all).toContain(m);
    }
  });

  it('shows per workload the scheduled restore test: last passed test age, failures, duration', async () => {
    const d = await dashboard();
    const all = queries(d).join('\n');
    for (const m of [
      'time() - max by (namespace, workload, type) (snapkeeper_restore_test_last_success_timestamp_seconds{',
      'increase(snapkeeper_restore_test_failures_total{namespace=~"$namespace",workload=~"$workload"}[24h])',
      'time() - snapkeeper_restore_test_last_success_timestamp_seconds',
      'snapkeeper_restore_test_last_duration_seconds',
    ]) {
      expect(all).toContain(m);
    }
    const table = d.panels.find((p) => p.title.startsWith('Workloads:'))!;
    expect(table.targets!.map((t) => t.expr).join('\n')).toContain('snapkeeper_restore_test_');
  });

  it('uses only metrics the operator exports', async () => {
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    const used = new Set(
      queries(await dashboard()).flatMap((q) => q.match(/snapkeeper_[a-z_]+/g) ?? []),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(exported).toContain(name);
  });

  it('has queries promtool accepts as PromQL', async () => {
    const exprs = queries(await dashboard()).map((q) =>
      q.replace(/\$namespace|\$workload/g, '.*').replace(/\$__[a-z_]+/g, '5m'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-dashboard-'));
    try {
      const rules = join(dir, 'rules.json');
      await writeFile(
        rules,
        JSON.stringify({
          groups: [
            {
              name: 'dashboard',
              rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })),
            },
          ],
        }),
      );
      const r = await exec(binaries.promtool(), ['check', 'rules', rules]);
      expect(r.stdout.toString() + r.stderr).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is shipped verbatim in the chart ConfigMap when enabled', async () => {
    const { objects } = await render({
      ...minimalValues(),
      metrics: { dashboard: { enabled: true } },
    });
    const cm = one(objects, 'ConfigMap', 'snapkeeper-dashboard') as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm.data['snapkeeper.json']!)).toEqual(await dashboard());
    const off = await render(minimalValues());
    expect(off.objects.filter((o) => o.metadata.name === 'snapkeeper-dashboard')).toEqual([]);
  });
});
