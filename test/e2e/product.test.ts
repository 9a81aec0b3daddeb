// The whole product on a real node: `helm install` of charts/snapkeeper with
// the built images (2 replicas, leader election, the chart's ServiceAccount
// only), a PostgreSQL StatefulSet, a MariaDB Deployment and an Elasticsearch
// API Deployment (OpenSearch) annotated for snapkeeper, backups run by the CronJob controller and by `snapkeeper
// trigger --wait` in dumper pods the kubelet starts, restores that compare
// identical, the scheduled restore test (a pass, and a damaged backup caught),
// status from real Jobs, real failures, and the life events of a cluster.
// The tests run in order and build on each other (one release).
import { BatchV1Api, CoordinationV1Api, type V1CronJob, type V1Job } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MANAGED_SELECTOR } from '../../src/labels.js';
import {
  isRestoreTestObject,
  WORKLOAD_NAME_LABEL,
  WORKLOAD_NAMESPACE_LABEL,
} from '../../src/labels.js';
import type { StatusRow } from '../../src/cli/status-table.js';
import { parseReport } from '../../src/contract/restore-test-report.js';
import {
  ageKeypair,
  exec,
  listAllObjects,
  mariadbDumpText,
  mariadbEnv,
  mariadbArgs,
  mariadbExec,
  mariadbUrl,
  pgDumpText,
  pgUrl,
  psql,
  uniqueName,
  type MariaInfo,
  type PgInfo,
} from '../env/helpers.js';
import { mariadbBinDir, postgresBinDir, repoRoot } from '../env/paths.js';
import {
  N_EVENTS,
  N_PRODUCTS,
  esClient,
  esIndices,
  esSnapshot,
  loadEsContent,
} from '../env/es-content.js';
import { fetchDecryptGunzip, leftovers, snapkeeper } from '../integration/backup-support.js';
import { damageBackup, finishedJob, type FinishedJob } from './restore-test-job.js';
import {
  apply,
  chartValues,
  core,
  eventually,
  helm,
  kc,
  kubeName,
  kubectl,
  MY_CONTENT,
  PG_CONTENT,
  readyPod,
  readyPods,
  sleep,
  valuesFile,
} from './support.js';
import {
  ES_PASSWORD,
  MY_PASSWORD,
  PG_PASSWORD,
  TARGET_PASSWORD,
  mariadbObjects,
  postgresObjects,
  restoreTargets,
  searchObjects,
} from './workloads.js';

const kube = inject('kube');
const s3 = inject('s3');
const opensearch = inject('opensearch');
const pgBin = postgresBinDir();
const myBin = mariadbBinDir();

const control = 'snapkeeper';
const shop = 'shop';
const release = 'snapkeeper';
const prefix = uniqueName('e2e');
const chart = join(repoRoot, 'charts', 'snapkeeper');
const operatorSelector = 'app.kubernetes.io/component=operator';
// this run's indices in the (possibly shared) OpenSearch
const esPrefix = uniqueName('e2e');
const esIndex = esIndices(esPrefix);

const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const s3Env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
const from = ['--from', `s3://${s3.bucket}/${prefix}`];
const cluster = ['--kubeconfig', kube.kubeconfig, '-n', control];

let identityFile: string;
let recipient: string;
let podPg: PgInfo;
let podMy: MariaInfo;
let targetPg: PgInfo;
let targetMy: MariaInfo;
/** the search proxy pod, as the host reaches it: <pod IP>:9200 */
let searchHost: string;
/** when PostgreSQL held its fixture: a backup from before that holds nothing */
let pgLoadedAt: number;

const batch = () => kc().makeApiClient(BatchV1Api);

/** The Secret holding the age identity the restore-test pods open encrypted backups with. */
const identitySecret = 'restore-test-identity';

function values(extra: Record<string, unknown> = {}) {
  return chartValues({
    watchNamespaces: [shop],
    prefix,
    recipients: [recipient],
    extra: {
      restoreTest: {
        // small enough for the one node; the fixtures restore in well under 1 GiB
        resources: 'cpu=100m,memory=768Mi,ephemeral-storage=1Gi',
        identitySecret: { name: identitySecret, key: 'identity' },
      },
      ...extra,
    },
  });
}

/** The workload's backup CronJob, or its restore-test CronJob. */
async function cronJobOf(
  workload: string,
  kind: 'backup' | 'restore-test' = 'backup',
): Promise<V1CronJob | undefined> {
  const list = await batch().listNamespacedCronJob({
    namespace: control,
    labelSelector: `${MANAGED_SELECTOR},${WORKLOAD_NAMESPACE_LABEL}=${shop},${WORKLOAD_NAME_LABEL}=${workload}`,
  });
  const items = list.items.filter((cj) => isRestoreTestObject(cj) === (kind === 'restore-test'));
  expect(items.length, `${kind} CronJobs of ${shop}/${workload}`).toBeLessThanOrEqual(1);
  return items[0];
}

async function jobsOf(cj: V1CronJob): Promise<V1Job[]> {
  const list = await batch().listNamespacedJob({ namespace: control });
  return list.items.filter((j) =>
    j.metadata?.ownerReferences?.some((o) => o.uid === cj.metadata?.uid),
  );
}

async function managed() {
  const [cronJobs, secrets] = await Promise.all([
    batch().listNamespacedCronJob({ namespace: control, labelSelector: MANAGED_SELECTOR }),
    core().listNamespacedSecret({ namespace: control, labelSelector: MANAGED_SELECTOR }),
  ]);
  return { cronJobs: cronJobs.items, secrets: secrets.items };
}

async function status(workload: string): Promise<StatusRow | undefined> {
  const r = await snapkeeper(['status', '-o', 'json', ...cluster]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as StatusRow[]).find((row) => row.workload === workload);
}

async function events(pod: string, reason: string) {
  const list = await core().listNamespacedEvent({
    namespace: shop,
    fieldSelector: `involvedObject.name=${pod},reason=${reason}`,
  });
  return list.items;
}

async function metrics(): Promise<string[]> {
  const pods = await readyPods(control, operatorSelector);
  return Promise.all(
    pods.map(async (p) => (await fetch(`http://${p.status!.podIP}:8080/metrics`)).text()),
  );
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await kc()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: 'snapkeeper-leader', namespace: control });
  return lease.spec?.holderIdentity ?? undefined;
}

/**
 * Two dumps of one database compare equal but for the server's version lines
 * and `pg_attver`, an attribute option that Debian's PostgreSQL 15.20 build
 * here stamps on every column it creates, with a value of its own per server:
 * a restore gets the target server's stamp, whatever the dump said.
 */
const unversioned = (dump: string) =>
  dump
    .replace(
      /^-- (Server version|Dumped from database version|Dumped by pg_dump version).*$/gm,
      '-- <version>',
    )
    .replace(/\(pg_attver=\d+\)/g, '(pg_attver=<server>)');

async function keys(workload: string): Promise<string[]> {
  return (await listAllObjects(s3, `${prefix}/${shop}/${workload}/`)).map((o) => o.Key!).sort();
}

beforeAll(async () => {
  ({ identityFile, recipient } = await ageKeypair());
  await core().createNamespace({ body: { metadata: { name: shop } } });
  const install = await helm([
    'install',
    release,
    chart,
    '-n',
    control,
    '--create-namespace',
    '-f',
    await valuesFile(values()),
    '--wait',
    '--timeout',
    '240s',
  ]);
  if (install.code !== 0) throw new Error(`helm install: ${install.stderr}`);
  await core().createNamespacedSecret({
    namespace: control,
    body: {
      metadata: { name: identitySecret },
      stringData: { identity: await readFile(identityFile, 'utf8') },
    },
  });

  const annotations = (schedule: string, type: string) => ({
    'snapkeeper.io/enabled': 'true',
    'snapkeeper.io/type': type,
    'snapkeeper.io/schedule': schedule,
  });
  // A restore test on a schedule that does not come round during the suite:
  // its Jobs are started from the CronJob.
  const restoreTest = { 'snapkeeper.io/restore-test': '0 4 1 1 *' };
  // PostgreSQL: every minute, so the CronJob controller starts a backup soon.
  await apply(
    ...postgresObjects(shop, {
      ...annotations('* * * * *', 'postgresql'),
      ...restoreTest,
      'snapkeeper.io/restore-test-checks': `select count(*) = 3002 from "Übersicht ""quoted""".notes`,
    }),
  );
  // MariaDB: at night; its backups are triggered.
  await apply(...mariadbObjects(shop, { ...annotations('0 3 * * *', 'mariadb'), ...restoreTest }));
  // Elasticsearch: triggered too; this run's three indices only (the
  // OpenSearch may hold other suites' indices).
  await apply(
    ...searchObjects(shop, {
      ...annotations('0 3 * * *', 'elasticsearch'),
      'snapkeeper.io/databases': Object.values(esIndex).join(','),
    }),
  );
  await core().createNamespace({ body: { metadata: { name: 'restore' } } });
  await apply(...restoreTargets('restore'));

  // Each server is filled as soon as it answers (initdb / install-db done),
  // all at once: the every-minute CronJob may run before its data is there,
  // so the PostgreSQL test takes a Job created after pgLoadedAt.
  await Promise.all([
    (async () => {
      const pg = await readyPod(shop, 'postgres-0');
      podPg = {
        host: pg.status!.podIP!,
        port: 5432,
        user: 'postgres',
        password: PG_PASSWORD,
        binDir: pgBin,
      };
      await eventually(
        'PostgreSQL in its pod to answer',
        () => psql(podPg, 'app', 'SELECT 1'),
        120_000,
      );
      await psql(podPg, 'app', PG_CONTENT);
      pgLoadedAt = Date.now();
    })(),
    (async () => {
      const [my] = await eventually('the MariaDB pod Ready', async () => {
        const pods = await readyPods(shop, 'app=mariadb');
        return pods.length === 1 ? pods : undefined;
      });
      podMy = {
        host: my!.status!.podIP!,
        port: 3306,
        user: 'root',
        password: MY_PASSWORD,
        binDir: myBin,
      };
      await eventually(
        'MariaDB in its pod to answer',
        () => mariadbExec(podMy, 'shop', 'SELECT 1'),
        120_000,
      );
      await mariadbExec(podMy, 'shop', MY_CONTENT);
    })(),
    (async () => {
      const [search] = await eventually('the search proxy pod Ready', async () => {
        const pods = await readyPods(shop, 'app=search');
        return pods.length === 1 ? pods : undefined;
      });
      searchHost = `${search!.status!.podIP!}:9200`;
    })(),
    loadEsContent(opensearch.url, esPrefix),
    (async () => {
      const [tp, tm] = await Promise.all([
        readyPod('restore', 'pg-target'),
        readyPod('restore', 'my-target'),
      ]);
      targetPg = {
        host: tp.status!.podIP!,
        port: 5432,
        user: 'postgres',
        password: TARGET_PASSWORD,
        binDir: pgBin,
      };
      targetMy = {
        host: tm.status!.podIP!,
        port: 3306,
        user: 'root',
        password: TARGET_PASSWORD,
        binDir: myBin,
      };
      await eventually(
        'the restore targets to answer',
        async () => {
          await psql(targetPg, 'postgres', 'SELECT 1');
          return mariadbExec(targetMy, '', 'SELECT 1');
        },
        120_000,
      );
    })(),
  ]);
});

describe('the chart on a real node', () => {
  it('runs the operator in-cluster: 2 replicas Ready, one holds the Lease', async () => {
    const pods = await eventually('2 operator pods Ready', async () => {
      const p = await readyPods(control, operatorSelector);
      return p.length === 2 ? p : undefined;
    });
    for (const p of pods) {
      expect(p.spec?.serviceAccountName).toBe(release);
      expect(p.spec?.containers[0]?.image).toBe(
        `${inject('node').images.repository}/operator:${inject('node').images.tag}`,
      );
    }
    const holder = await eventually('a Lease holder', leaseHolder, 60_000);
    expect(pods.map((p) => p.metadata!.name)).toContain(holder);
  });

  it('writes a CronJob for each annotated workload', async () => {
    const pg = await eventually('the PostgreSQL CronJob', () => cronJobOf('postgres'));
    const my = await eventually('the MariaDB CronJob', () => cronJobOf('mariadb'));
    const es = await eventually('the Elasticsearch CronJob', () => cronJobOf('search'));
    expect(pg.spec?.schedule).toBe('* * * * *');
    expect(my.spec?.schedule).toBe('0 3 * * *');
    expect(es.spec?.schedule).toBe('0 3 * * *');
  });
});

// MariaDB and Elasticsearch first: their triggered backups run while the
// every-minute PostgreSQL schedule comes round.
describe('MariaDB: a backup by `snapkeeper trigger --wait`', () => {
  it('succeeds, and restores into a fresh server identical', async () => {
    const before = await keys('mariadb');
    const r = await snapkeeper([
      'trigger',
      `${shop}/mariadb`,
      '--wait',
      '--timeout',
      '240',
      ...cluster,
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/succeeded/);
    const after = await keys('mariadb');
    expect(after.length).toBeGreaterThan(before.length);

    const target = uniqueName('myrestore');
    await mariadbExec(targetMy, '', `CREATE DATABASE \`${target}\``);
    const restore = await snapkeeper(
      [
        'restore',
        ...from,
        ...s3Flags,
        '--workload',
        `${shop}/mariadb`,
        '-i',
        identityFile,
        '--to',
        mariadbUrl(targetMy, target),
      ],
      s3Env,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(unversioned(await mariadbDumpText(targetMy, target))).toBe(
      unversioned(await mariadbDumpText(podMy, 'shop')),
    );
  });
});

describe('Elasticsearch (OpenSearch): a backup by `snapkeeper trigger --wait`', () => {
  const es = esClient(opensearch.url);
  const indices = Object.values(esIndex);
  let before: Record<string, Awaited<ReturnType<typeof esSnapshot>>>;

  it('succeeds through the authenticating Service; S3 holds a tar per index that age -d, gunzip and tar open', async () => {
    before = {};
    for (const i of indices) before[i] = await esSnapshot(opensearch.url, esPrefix, i);
    expect(before[esIndex.products]!.docs).toHaveLength(N_PRODUCTS);
    expect(before[esIndex.events]!.docs).toHaveLength(N_EVENTS);
    const r = await snapkeeper([
      'trigger',
      `${shop}/search`,
      '--wait',
      '--timeout',
      '240',
      ...cluster,
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/succeeded/);

    const all = await keys('search');
    const dumps = all.filter((k) => k.endsWith('.tar.gz.age'));
    expect(dumps.map((k) => k.replace(/^.*\//, '')).sort()).toEqual(
      indices.map((i) => `${i}.tar.gz.age`).sort(),
    );
    expect(all).toContain(dumps[0]!.replace(/[^/]+$/, 'manifest.json'));
    const products = dumps.find((k) => k.endsWith(`/${esIndex.products}.tar.gz.age`))!;
    const { plain } = await fetchDecryptGunzip(s3, products, identityFile);
    const listing = await exec('tar', ['-t'], { input: plain });
    expect(listing.code, listing.stderr.toString()).toBe(0);
    expect(listing.stdout.toString().trim().split('\n')).toEqual(
      expect.arrayContaining([
        'snapkeeper-elasticsearch.json',
        `settings/${esIndex.products}.json`,
        'mapping.json',
        'alias.json',
        'data/000000.json',
      ]),
    );
    const docs = await exec('tar', ['-xO', '--wildcards', 'data/*'], { input: plain });
    expect(docs.stdout.toString().trim().split('\n')).toHaveLength(N_PRODUCTS);
  });

  it('restores with `snapkeeper restore --to` into the emptied cluster, identical', async () => {
    await es('DELETE', `/${indices.join(',')}`);
    await expect(es('GET', `/${esIndex.products}`)).rejects.toThrow(/404/);
    const r = await snapkeeper(
      [
        'restore',
        ...from,
        ...s3Flags,
        '--workload',
        `${shop}/search`,
        '-i',
        identityFile,
        '--to',
        `http://elastic@${searchHost}`,
      ],
      { ...s3Env, SNAPKEEPER_PASSWORD: ES_PASSWORD },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const i of indices) {
      await es('POST', `/${i}/_refresh`);
      expect(await esSnapshot(opensearch.url, esPrefix, i), i).toEqual(before[i]);
    }
  });
});

describe('PostgreSQL: a backup started by the CronJob controller', () => {
  let job: V1Job;
  let dumpKey: string;

  it('runs on its schedule in a dumper pod with the CronJob exact security context', async () => {
    const cj = (await cronJobOf('postgres'))!;
    job = await eventually(
      'a scheduled Job of the PostgreSQL CronJob to succeed',
      async () =>
        (await jobsOf(cj)).find(
          (j) =>
            /-\d+$/.test(j.metadata!.name!) &&
            j.metadata!.creationTimestamp!.getTime() > pgLoadedAt &&
            (j.status?.succeeded ?? 0) > 0,
        ) ??
        // a failed scheduled run fails the test at once, with its reason
        (await jobsOf(cj).then((js) => {
          const failed = js.find((j) => (j.status?.failed ?? 0) > 0);
          if (failed) throw new Error(`scheduled Job failed: ${JSON.stringify(failed.status)}`);
          return undefined;
        })),
      180_000,
      2000,
    );
    const pods = await core().listNamespacedPod({
      namespace: control,
      labelSelector: `job-name=${job.metadata!.name}`,
    });
    const pod = pods.items[0]!;
    const tmpl = cj.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.spec?.securityContext).toEqual(tmpl.securityContext);
    expect(pod.spec?.containers[0]?.securityContext).toEqual(tmpl.containers[0]?.securityContext);
    expect(pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(term?.exitCode).toBe(0);
    expect(term?.message, 'the dumper reports through its termination message').toBeTruthy();
  });

  it('stores the dump and its manifest in S3; age -d and gunzip open the dump', async () => {
    const all = await keys('postgres');
    // complete backups (the manifest is written last; the every-minute
    // CronJob may be half-way through one), the newest: earlier scheduled
    // runs may predate the fixture
    const dumps = all.filter(
      (k) => k.endsWith('.sql.gz.age') && all.includes(k.replace(/[^/]+$/, 'manifest.json')),
    );
    expect(dumps.length).toBeGreaterThan(0);
    dumpKey = dumps[dumps.length - 1]!;
    const { plain } = await fetchDecryptGunzip(s3, dumpKey, identityFile);
    expect(plain.toString()).toContain('CREATE TABLE "Übersicht ""quoted""".notes');
  });

  it('restores with `snapkeeper restore --to` into a fresh server (a pod), identical', async () => {
    const target = uniqueName('pgrestore');
    await psql(targetPg, 'postgres', `CREATE DATABASE "${target}"`);
    const r = await snapkeeper(
      [
        'restore',
        ...from,
        ...s3Flags,
        '--workload',
        `${shop}/postgres`,
        '-i',
        identityFile,
        '--to',
        pgUrl(targetPg, target),
      ],
      s3Env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(unversioned(await pgDumpText(targetPg, target))).toBe(
      unversioned(await pgDumpText(podPg, 'app')),
    );
  });

  it('reports it: BackupSucceeded on the source pod, status, metrics of the operator pod', async () => {
    const succeeded = await eventually('BackupSucceeded on postgres-0', async () => {
      const e = await events('postgres-0', 'BackupSucceeded');
      return e.length > 0 ? e : undefined;
    });
    expect(succeeded[0]!.type).toBe('Normal');
    const row = await eventually('status with a last success', async () => {
      const r = await status('postgres');
      return r?.lastSuccess ? r : undefined;
    });
    expect(row.namespace).toBe(shop);
    expect(row.engine).toBe('postgresql');
    expect(row.lastSizeBytes).toBeGreaterThan(0);
    const scraped = await eventually('the success metric on an operator pod', async () => {
      const texts = await metrics();
      return texts.find((t) =>
        /snapkeeper_backup_last_success_timestamp_seconds\{[^}]*workload="postgres"[^}]*\} [1-9]/.test(
          t,
        ),
      );
    });
    expect(scraped).toMatch(
      /snapkeeper_backup_runs_total\{[^}]*workload="postgres"[^}]*result="success"[^}]*\} [1-9]/,
    );
  });
});

// The scheduled restore test: the operator's restore-test CronJobs (the
// workloads ask for one on a schedule that does not come round during the
// suite), each started the way docs/restore.md says to by hand (`kubectl
// create job --from=cronjob/…`), both at once: PostgreSQL's newest backup
// (encrypted: the chart's identity Secret) restores into the scratch server
// of the dumper image and passes its check; MariaDB's, damaged on purpose
// first, fails naming the table. Then the Events the operator makes of them.
describe('the scheduled restore test', () => {
  let pgRun: Promise<FinishedJob>;
  let myRun: Promise<FinishedJob>;
  let damaged: string;

  async function runFromCronJob(workload: string): Promise<FinishedJob> {
    const cj = await eventually(`the ${workload} restore-test CronJob`, () =>
      cronJobOf(workload, 'restore-test'),
    );
    const name = kubeName(`rt-${workload}`);
    await kubectl(['create', 'job', name, `--from=cronjob/${cj.metadata!.name}`, '-n', control]);
    return finishedJob(control, name);
  }

  beforeAll(async () => {
    // the newest MariaDB backup (triggered above): one row of orders cut out
    const manifests = (await keys('mariadb')).filter((k) => k.endsWith('/manifest.json'));
    damaged = manifests[manifests.length - 1]!.slice(prefix.length + 1);
    await damageBackup({
      root: prefix,
      manifestKey: damaged,
      identityFile,
      recipient,
      cut: (sql) => sql.replace(/(INSERT INTO `orders` VALUES\s*)\([^\n]*?\),\s*/, '$1'),
    });
    pgRun = runFromCronJob('postgres');
    myRun = runFromCronJob('mariadb');
    // awaited by the tests; a failure is reported there
    pgRun.catch(() => {});
    myRun.catch(() => {});
  });

  it('beside each backup CronJob, a restore-test CronJob: same image and security context, no database credential', async () => {
    for (const w of ['postgres', 'mariadb']) {
      const rt = (await cronJobOf(w, 'restore-test'))!;
      const backup = (await cronJobOf(w))!;
      expect(rt.metadata!.name).not.toBe(backup.metadata!.name);
      const pod = rt.spec!.jobTemplate.spec!.template.spec!;
      const dumper = backup.spec!.jobTemplate.spec!.template.spec!;
      expect(pod.containers[0]!.image).toBe(dumper.containers[0]!.image);
      expect(pod.securityContext).toEqual(dumper.securityContext);
      expect(pod.containers[0]!.securityContext).toEqual(dumper.containers[0]!.securityContext);
      expect(pod.containers[0]!.args!.slice(0, 5)).toEqual([
        'restore-test',
        '--workload',
        `${shop}/${w}`,
        '--output',
        'json',
      ]);
      const env = pod.containers[0]!.env!.map((e) => e.name);
      expect(env).not.toContain('SNAPKEEPER_PASSWORD');
      expect(env).not.toContain('SNAPKEEPER_HOST');
    }
  });

  it('restores the newest PostgreSQL backup into a scratch server in the dumper pod (uid 65532, read-only root): exit 0, its report, RestoreTestSucceeded', async () => {
    const { pod, terminated } = await pgRun;
    expect(terminated.exitCode, terminated.message).toBe(0);
    expect(pod.spec?.securityContext?.runAsUser).toBe(65532);
    expect(pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const report = parseReport(terminated.message);
    expect(report).toMatchObject({ kind: 'restore-test', ok: true, checks: 1, mismatches: [] });
    expect(report!.backup).toMatch(/^shop\/postgres\/.+\/manifest\.json$/);
    expect(report!.tables).toBeGreaterThan(0);
    // restore-test.json beside the manifest it tested
    expect(await keys('postgres')).toContain(
      `${prefix}/${report!.backup!.replace(/manifest\.json$/, 'restore-test.json')}`,
    );
    const ok = await eventually(
      'RestoreTestSucceeded on postgres-0',
      async () => {
        const e = await events('postgres-0', 'RestoreTestSucceeded');
        return e.length > 0 ? e : undefined;
      },
      60_000,
    );
    expect(ok[0]!.type).toBe('Normal');
  });

  it('fails on the MariaDB backup with rows cut out and re-signed: exit 1, the table named in the termination message and in RestoreTestFailed', async () => {
    const { job, terminated } = await myRun;
    expect(job.status?.failed).toBe(1);
    expect(terminated.exitCode, terminated.message).toBe(1);
    expect(parseReport(terminated.message)).toMatchObject({
      kind: 'restore-test',
      ok: false,
      backup: damaged,
      mismatches: ['orders: 3002 rows in the backup, 3001 restored'],
    });
    const pod = (await readyPods(shop, 'app=mariadb'))[0]!.metadata!.name!;
    const failed = await eventually(
      `RestoreTestFailed on ${pod}`,
      async () => {
        const e = await events(pod, 'RestoreTestFailed');
        return e.length > 0 ? e : undefined;
      },
      60_000,
    );
    expect(failed[0]!.type).toBe('Warning');
    expect(failed[0]!.message).toContain('orders: 3002 rows in the backup, 3001 restored');
  });
});

describe('real failures', () => {
  async function mirrorOf(workload: string): Promise<string> {
    const { secrets } = await managed();
    const s = secrets.find((x) => x.metadata?.labels?.[WORKLOAD_NAME_LABEL] === workload);
    return JSON.stringify(s?.data ?? {});
  }

  it('a wrong password in the source Secret: failed Job, BackupFailed with the dumper reason, no object', async () => {
    const mirrorBefore = await mirrorOf('mariadb');
    const before = await keys('mariadb');
    await core().patchNamespacedSecret({
      name: 'mariadb-env',
      namespace: shop,
      body: [
        {
          op: 'replace',
          path: '/data/MARIADB_ROOT_PASSWORD',
          value: Buffer.from('wrong').toString('base64'),
        },
      ],
    });
    try {
      await eventually(
        'the credential change to reach the mirror Secret',
        async () => (await mirrorOf('mariadb')) !== mirrorBefore,
        180_000,
        2000,
      );
      const r = await snapkeeper([
        'trigger',
        `${shop}/mariadb`,
        '--wait',
        '--timeout',
        '240',
        ...cluster,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Access denied/i);
      const pod = (await readyPods(shop, 'app=mariadb'))[0]!.metadata!.name!;
      const failed = await eventually(`BackupFailed on ${pod}`, async () => {
        const e = await events(pod, 'BackupFailed');
        return e.length > 0 ? e : undefined;
      });
      expect(failed[0]!.type).toBe('Warning');
      expect(failed[0]!.message).toMatch(/Access denied/i);
      expect(await keys('mariadb')).toEqual(before);
      expect((await leftovers(s3, `${prefix}/${shop}/mariadb/`)).uploads).toEqual([]);
    } finally {
      await core().patchNamespacedSecret({
        name: 'mariadb-env',
        namespace: shop,
        body: [
          {
            op: 'replace',
            path: '/data/MARIADB_ROOT_PASSWORD',
            value: Buffer.from(MY_PASSWORD).toString('base64'),
          },
        ],
      });
      await eventually(
        'the mirror Secret back',
        async () => (await mirrorOf('mariadb')) === mirrorBefore,
        180_000,
        2000,
      );
    }
  });

  it('a backup killed by activeDeadlineSeconds leaves no object and no open multipart upload', async () => {
    const before = await keys('mariadb');
    // A session holding a write lock: mariadb-dump waits for it until the deadline.
    const locker: ChildProcess = spawn(join(myBin, 'mariadb'), [...mariadbArgs(podMy), 'shop'], {
      env: { ...process.env, ...mariadbEnv(podMy) },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    locker.stdin!.write('LOCK TABLES orders WRITE;\nDO SLEEP(600);\n');
    try {
      await sleep(2000);
      const started = Date.now();
      const r = await snapkeeper([
        'trigger',
        `${shop}/mariadb`,
        '--wait',
        '--timeout',
        '240',
        ...cluster,
      ]);
      expect(r.code).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(55_000);
      const name = r.stdout.trim().split('\n')[0]!;
      const job = await batch().readNamespacedJob({ name, namespace: control });
      expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe(
        'DeadlineExceeded',
      );
      expect(await keys('mariadb')).toEqual(before);
      expect((await leftovers(s3, `${prefix}/${shop}/mariadb/`)).uploads).toEqual([]);
    } finally {
      locker.kill('SIGKILL');
    }
  });
});

describe('life events of a cluster', () => {
  it('the database pod deleted and recreated: same CronJob, history and status', async () => {
    const cj = (await cronJobOf('postgres'))!;
    const jobs = (await jobsOf(cj)).map((j) => j.metadata!.name!);
    const row = (await status('postgres'))!;
    const old = await core().readNamespacedPod({ name: 'postgres-0', namespace: shop });
    await core().deleteNamespacedPod({ name: 'postgres-0', namespace: shop });
    await eventually('postgres-0 recreated and Ready', async () => {
      const p = await readyPod(shop, 'postgres-0', 5000).catch(() => undefined);
      return p && p.metadata!.uid !== old.metadata!.uid ? p : undefined;
    });
    // long enough for the operator to have seen the gap and the new pod
    await sleep(20_000);
    const now = (await cronJobOf('postgres'))!;
    expect(now.metadata!.uid).toBe(cj.metadata!.uid);
    const jobsNow = (await jobsOf(now)).map((j) => j.metadata!.name!);
    for (const j of jobs.slice(-1)) expect(jobsNow).toContain(j);
    const rowNow = (await status('postgres'))!;
    expect(rowNow.lastSuccess).not.toBeNull();
    expect(Date.parse(rowNow.lastSuccess!)).toBeGreaterThanOrEqual(Date.parse(row.lastSuccess!));
  });

  it('the leader pod deleted: the other replica takes over, nothing is created twice', async () => {
    const before = await managed();
    const holder = (await leaseHolder())!;
    await core().deleteNamespacedPod({ name: holder, namespace: control });
    const next = await eventually(
      'another replica to hold the Lease',
      async () => {
        const h = await leaseHolder();
        return h && h !== holder ? h : undefined;
      },
      120_000,
    );
    expect(next).not.toBe(holder);
    await sleep(15_000);
    const after = await managed();
    const uids = (o: { metadata?: { uid?: string } }[]) => o.map((x) => x.metadata!.uid).sort();
    expect(uids(after.cronJobs)).toEqual(uids(before.cronJobs));
    expect(uids(after.secrets)).toEqual(uids(before.secrets));
  });

  it('helm upgrade with a changed value rolls the CronJobs to the new spec', async () => {
    const up = await helm([
      'upgrade',
      release,
      chart,
      '-n',
      control,
      '-f',
      await valuesFile(
        values({
          dumper: {
            ...(values().dumper as object),
            job: { activeDeadlineSeconds: 120, backoffLimit: 0 },
          },
        }),
      ),
      '--wait',
      '--timeout',
      '240s',
    ]);
    expect(up.code, up.stderr).toBe(0);
    for (const w of ['postgres', 'mariadb', 'search']) {
      await eventually(
        `the ${w} CronJob with activeDeadlineSeconds 120`,
        async () => (await cronJobOf(w))?.spec?.jobTemplate.spec?.activeDeadlineSeconds === 120,
        180_000,
        2000,
      );
    }
  });

  it('helm uninstall leaves no CronJob or Secret behind', async () => {
    const un = await helm(['uninstall', release, '-n', control, '--wait', '--timeout', '120s']);
    expect(un.code, un.stderr).toBe(0);
    const left = await eventually(
      'no managed CronJob or Secret',
      async () => {
        const m = await managed();
        return m.cronJobs.length + m.secrets.length === 0 ? m : undefined;
      },
      90_000,
      2000,
    ).catch(async () => managed());
    expect(left.cronJobs.map((c) => c.metadata!.name)).toEqual([]);
    expect(left.secrets.map((s) => s.metadata!.name)).toEqual([]);
  });
});
