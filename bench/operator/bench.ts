// The operator scale benchmark (not a test). On the test environment's
// control plane (etcd + kube-apiserver + kube-controller-manager, no nodes)
// it creates BENCH_WORKLOADS annotated PostgreSQL workloads (Deployment →
// ReplicaSet → Pod, a Service, a credentials Secret) across BENCH_NAMESPACES
// namespaces, then starts `snapkeeper operator` as a child process and
// measures:
//
//   - time from start to ready (caches synced) and to the desired state
//     (every workload scheduled; then every CronJob and Secret listed);
//   - API requests it made (snapkeeper_kube_api_requests_total by verb);
//   - its RSS (sampled, and the kernel's peak VmHWM);
//   - write requests over a steady period of several resyncs (must be 0).
//
// Prints a Markdown report on stdout; progress on stderr. Run with
// bench/operator/run.sh.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startKube } from '../../test/env/servers/kube.js';
import { freePort } from '../../test/env/servers/process.js';
import { repoRoot } from '../../test/env/paths.js';
import {
  createDeploymentChain,
  createNamespace,
  createSupport,
  PASSWORD,
  type ApiClients,
} from '../../test/kube/workloads.js';
import { GeneratedClients as KubeClients } from '../../src/kube/generated.js';

const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 1000);
const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 20);
const RESYNC_SECONDS = Number(process.env.BENCH_RESYNC_SECONDS ?? 10);
const RESYNCS = Number(process.env.BENCH_RESYNCS ?? 3);
const CREATE_CONCURRENCY = 24;
const ROTATIONS = 10;
/**
 * The CLI bundle to run; BENCH_CLI compares another build (e.g. of an older
 * commit), named in the report by BENCH_CLI_LABEL (never by its path).
 */
const CLI = process.env.BENCH_CLI ?? join(repoRoot, 'dist', 'cli.js');
const CLI_LABEL = process.env.BENCH_CLI ? (process.env.BENCH_CLI_LABEL ?? 'another build') : '';
/**
 * Flags of the operator's node command (BENCH_NODE_FLAGS, space-separated),
 * as the chart passes the heap limit (`node --max-old-space-size=N cli.js`);
 * also --cpu-prof / --heap-prof, which NODE_OPTIONS refuses. Named in the report.
 */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').trim();
const CONTROL = 'snapkeeper';

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Number(n.toFixed(d));

async function pool<T>(items: T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

/**
 * One workload as the kube suites build it (test/kube/workloads.ts): its
 * Secret, a headless Service, and the Deployment → ReplicaSet → Pod chain.
 */
async function createWorkload(clients: ApiClients, namespace: string, app: string): Promise<void> {
  await createSupport(clients, namespace, app, { headless: true });
  await createDeploymentChain(clients, namespace, app, {
    'snapkeeper.io/enabled': 'true',
    'snapkeeper.io/type': 'postgresql',
    'snapkeeper.io/schedule': '@daily',
    'snapkeeper.io/retention': 'keep-daily=7',
  });
}

type Counters = Map<string, number>;

/** The operator's /metrics, as `name{labels}` → value. */
async function scrape(port: number): Promise<Counters> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Counters = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
const WRITES = new Set(['create', 'update', 'patch', 'delete']);
const requests = (m: Counters) =>
  Object.fromEntries(
    VERBS.map((v) => [v, m.get(`snapkeeper_kube_api_requests_total{verb="${v}"}`) ?? 0]),
  );
const writes = (m: Counters) =>
  VERBS.filter((v) => WRITES.has(v)).reduce((n, v) => n + (requests(m)[v] ?? 0), 0);
const reconciles = (m: Counters) => m.get('snapkeeper_reconcile_duration_seconds_count') ?? 0;

function procStatus(pid: number): { rssKiB: number; hwmKiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

function machine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? '?';
  return `${cpus().length} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM; Node ${process.version}`;
}

const started = new Date();
progress(`starting the control plane`);
const kube = await startKube();
let operator: ReturnType<typeof spawn> | undefined;
try {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);

  const namespaces = Array.from(
    { length: NAMESPACES },
    (_, i) => `bench-${String(i).padStart(2, '0')}`,
  );
  for (const name of [CONTROL, ...namespaces]) await createNamespace(kc, name);
  const work = Array.from({ length: WORKLOADS }, (_, i) => ({
    namespace: namespaces[i % NAMESPACES]!,
    app: `db-${String(i).padStart(4, '0')}`,
  }));
  progress(`creating ${WORKLOADS} workloads in ${NAMESPACES} namespaces`);
  const t0 = Date.now();
  let done = 0;
  const setupClients = new KubeClients(kc, CREATE_CONCURRENCY);
  const pooled: ApiClients = { makeApiClient: (api) => setupClients.make(api) };
  await pool(work, CREATE_CONCURRENCY, async (w) => {
    await createWorkload(pooled, w.namespace, w.app);
    if (++done % 100 === 0) progress(`  ${done} workloads`);
  });
  setupClients.close();
  const createSeconds = (Date.now() - t0) / 1000;
  progress(`created in ${round(createSeconds)} s`);

  // The operator, as a user runs it.
  const port = await freePort();
  const logs: string[] = [];
  const tStart = Date.now();
  const nodeFlags = NODE_FLAGS ? NODE_FLAGS.split(/\s+/) : [];
  const argv = [...nodeFlags, CLI, 'operator', '--kubeconfig', kube.kubeconfig];
  operator = spawn(process.execPath, argv, {
    env: {
      PATH: process.env.PATH,
      SNAPKEEPER_CONTROL_NAMESPACE: CONTROL,
      SNAPKEEPER_WATCH_NAMESPACES: namespaces.join(','),
      SNAPKEEPER_STORAGE: 's3://backups/cluster',
      SNAPKEEPER_HTTP_ADDRESS: `127.0.0.1:${port}`,
      SNAPKEEPER_LEADER_ELECTION: 'false',
      SNAPKEEPER_RESYNC_SECONDS: String(RESYNC_SECONDS),
      SNAPKEEPER_LOG_FORMAT: 'json',
      SNAPKEEPER_LOG_LEVEL: 'info',
      POD_NAME: 'snapkeeper-bench-0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = operator.pid!;
  for (const s of [operator.stdout!, operator.stderr!]) {
    s.setEncoding('utf8');
    let rest = '';
    s.on('data', (c: string) => {
      const lines = (rest + c).split('\n');
      rest = lines.pop() ?? '';
      logs.push(...lines);
    });
  }
  const exited = new Promise<number | null>((r) => operator!.on('exit', (code) => r(code)));
  let peakSampled = 0;
  const sampler = setInterval(() => {
    try {
      peakSampled = Math.max(peakSampled, procStatus(pid).rssKiB);
    } catch {
      /* exited */
    }
  }, 200);

  const until = async (
    what: string,
    check: () => Promise<boolean>,
    timeoutMs: number,
    everyMs = 100,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (operator!.exitCode !== null)
        throw new Error(`operator exited ${operator!.exitCode}:\n${logs.slice(-20).join('\n')}`);
      if (await check().catch(() => false)) return (Date.now() - tStart) / 1000;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(everyMs);
    }
  };
  const readySeconds = await until(
    'ready',
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
    10 * 60_000,
  );
  progress(`ready after ${round(readySeconds)} s`);
  const scheduled = async () =>
    (await scrape(port)).get('snapkeeper_workloads{state="scheduled"}') ?? 0;
  // /metrics grows with the workloads (several series each: megabytes at
  // 5,000), and rendering it is the operator's work: scraped every 100 ms,
  // that was a tenth of its CPU at 5,000 (a CPU profile), far beyond any
  // Prometheus. So the poll interval grows with the size: 100 ms at 1,000.
  const desiredSeconds = await until(
    'desired state',
    async () => (await scheduled()) >= WORKLOADS,
    30 * 60_000,
    Math.max(100, WORKLOADS / 10),
  );
  const atDesired = await scrape(port);
  const rssAtDesired = procStatus(pid).rssKiB;
  progress(`desired state after ${round(desiredSeconds)} s`);

  const owned = 'app.kubernetes.io/managed-by=snapkeeper';
  const cronJobs = (await batch.listNamespacedCronJob({ namespace: CONTROL, labelSelector: owned }))
    .items;
  const secrets = (await core.listNamespacedSecret({ namespace: CONTROL, labelSelector: owned }))
    .items;
  if (cronJobs.length !== WORKLOADS || secrets.length !== WORKLOADS) {
    throw new Error(
      `expected ${WORKLOADS} CronJobs and Secrets, found ${cronJobs.length} and ${secrets.length}`,
    );
  }

  // Steady state: let the first reconciles' echoes settle, then count writes over several resyncs.
  await sleep(5000);
  const before = await scrape(port);
  const tSteady = Date.now();
  progress(`steady period: ${RESYNCS} resyncs of ${RESYNC_SECONDS} s`);
  await sleep((RESYNCS * RESYNC_SECONDS + 2) * 1000);
  const after = await scrape(port);
  const steadySeconds = (Date.now() - tSteady) / 1000;
  const rssSteady = procStatus(pid).rssKiB;
  const { hwmKiB } = procStatus(pid);

  // A password change in a source Secret: how long until the mirror has it
  // (goal ≤ 2 s). Measured after the steady period, one Secret at a time.
  const mirrorOf = new Map(
    secrets.map((s) => [
      s.metadata?.annotations?.['snapkeeper.io/workload'] ?? '',
      s.metadata!.name!,
    ]),
  );
  const rotations: number[] = [];
  for (const w of work.slice(0, ROTATIONS)) {
    const mirror = mirrorOf.get(`${w.namespace}/Deployment/${w.app}`);
    if (!mirror) throw new Error(`no mirrored Secret for ${w.namespace}/${w.app}`);
    const rotated = `${PASSWORD}-rotated-${rotations.length}`;
    const t = Date.now();
    await core.replaceNamespacedSecret({
      namespace: w.namespace,
      name: `${w.app}-creds`,
      body: { metadata: { name: `${w.app}-creds` }, stringData: { password: rotated } },
    });
    const want = Buffer.from(rotated).toString('base64');
    for (;;) {
      const m = await core.readNamespacedSecret({ namespace: CONTROL, name: mirror });
      if (m.data?.password === want) break;
      if (Date.now() - t > 60_000)
        throw new Error(`the mirror of ${w.app} never got the new password`);
      await sleep(20);
    }
    rotations.push((Date.now() - t) / 1000);
  }
  rotations.sort((a, b) => a - b);
  clearInterval(sampler);

  operator.kill('SIGTERM');
  const code = await exited;
  operator = undefined;

  const reqDesired = requests(atDesired);
  const reqSteady = Object.fromEntries(
    VERBS.map((v) => [v, (requests(after)[v] ?? 0) - (requests(before)[v] ?? 0)]),
  );
  const steadyWrites = writes(after) - writes(before);
  const steadyReconciles = reconciles(after) - reconciles(before);
  const leaked =
    logs.some((l) => l.includes(PASSWORD)) ||
    cronJobs.some((c) => JSON.stringify(c).includes(PASSWORD));
  const mib = (kib: number) => round(kib / 1024, 0);
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const fmt = (r: Record<string, number>) =>
    VERBS.filter((v) => r[v])
      .map((v) => `${v} ${r[v]}`)
      .join(', ');

  const date = started.toISOString().slice(0, 10);
  const report = [
    `### ${date} — ${WORKLOADS} workloads in ${NAMESPACES} namespaces${CLI_LABEL ? ` (${CLI_LABEL})` : ''}${NODE_FLAGS ? ` (node ${NODE_FLAGS})` : ''}`,
    '',
    `Machine: ${machine()}; control plane: etcd + kube-apiserver ${kube.version} + kube-controller-manager on the same machine, no nodes.`,
    '',
    `Setup (not the operator): ${WORKLOADS * 5} objects (Deployment, ReplicaSet, Pod, headless Service, Secret per workload) created in ${round(createSeconds)} s, ${CREATE_CONCURRENCY} at a time.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| start → ready (caches listed, ${WORKLOADS} pods mapped to workloads) | ${round(readySeconds)} s |`,
    `| start → desired state (${WORKLOADS} CronJobs + ${WORKLOADS} Secrets, all workloads scheduled) | ${round(desiredSeconds)} s |`,
    `| API requests up to the desired state | ${total(reqDesired)} (${fmt(reqDesired)}) |`,
    `| RSS at the desired state / peak (VmHWM) | ${mib(rssAtDesired)} MiB / ${mib(Math.max(hwmKiB, peakSampled))} MiB |`,
    `| steady period | ${round(steadySeconds, 0)} s, resync every ${RESYNC_SECONDS} s, ${steadyReconciles} reconciles (${round(steadyReconciles / WORKLOADS)} per workload) |`,
    `| **write requests in the steady period** | **${steadyWrites}** |`,
    `| other requests in the steady period | ${total(reqSteady) - steadyWrites} (${fmt(reqSteady) || 'none'}) |`,
    `| RSS at the end of the steady period | ${mib(rssSteady)} MiB |`,
    `| password change in a source Secret → in the mirrored Secret (${ROTATIONS} changes, one at a time) | median ${round(rotations[Math.floor(rotations.length / 2)]!, 2)} s, max ${round(rotations.at(-1)!, 2)} s |`,
    `| password in a CronJob or a log line | ${leaked ? '**yes**' : 'no'} (${logs.length} log lines) |`,
    `| exit on SIGTERM | ${code} |`,
    '',
  ].join('\n');
  process.stdout.write(report + '\n');
  if (steadyWrites !== 0 || leaked) process.exitCode = 1;
} finally {
  operator?.kill('SIGKILL');
  await kube.stop();
}
