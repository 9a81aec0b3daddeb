/**
 * `snapkeeper backup <url>`: a one-shot backup from a workstation or CI, the
 * same artefacts (dumps + manifest) as the CronJob writes.
 */
import { getEngine } from '../../dumpers/index.js';
import { parseRecipients } from '../crypto/age-keys.js';
import { parseDatabaseList, parseDbUrl, withPasswordFromEnv } from '../dburl.js';
import { validateKeyTemplate } from '../dump/key.js';
import { formatResult } from '../contract/dump-result.js';
import { runBackup } from '../dump/run.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import { COMPRESSION_ACCEPTED, parseCompression } from '../pipeline/compression.js';
import { parseRetention } from '../retention/policy.js';
import { openStorage } from '../storage/open.js';
import { progressOf, type CliContext } from './context.js';
import { readRecipientsFiles } from './key-files.js';
import { askPasswordIfNeeded } from './password.js';
import { formatTable } from './storage-flags.js';

export interface BackupFlags {
  to: string;
  recipient: string[];
  recipientsFile: string[];
  name?: string;
  retention?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  databases?: string;
  dumpOption: string[];
  clientVersion?: string;
  keyTemplate: string;
  compression: string;
  output: 'table' | 'json';
}

export async function backup(url: string, flags: BackupFlags, ctx: CliContext): Promise<void> {
  // Every user mistake is found before anything is contacted.
  const { engine: type, target } = withPasswordFromEnv(parseDbUrl(url), ctx.env);
  if (flags.databases !== undefined) target.databases = parseDatabaseList(flags.databases);
  target.extraArgs = flags.dumpOption;
  if (flags.clientVersion) target.clientVersion = flags.clientVersion;
  const recipients = [
    ...new Set([
      ...parseRecipients(flags.recipient),
      ...(await readRecipientsFiles(flags.recipientsFile ?? [])),
    ]),
  ];
  const name = flags.name ?? `local/${target.host}`;
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(name);
  if (!m) throw new UserError(`--name ${JSON.stringify(name)}: expected <namespace>/<workload>`);
  if (flags.retention !== undefined) {
    const r = parseRetention(flags.retention);
    if (!r.ok) throw new UserError(`--retention: ${r.error}`);
  }
  if (flags.output !== 'table' && flags.output !== 'json') {
    throw new UserError(`--output ${JSON.stringify(flags.output)}: expected table or json`);
  }
  const keyTemplate = validateKeyTemplate(flags.keyTemplate);
  const compression = parseCompression(flags.compression);
  if (!compression.ok)
    throw new UserError(
      `--compression ${JSON.stringify(flags.compression)}: ${compression.reason}; accepted: ${COMPRESSION_ACCEPTED}`,
    );
  const engine = getEngine(type);
  engine.output(target);
  const storage = openStorage(flags.to, {
    endpoint: flags.endpoint,
    region: flags.region,
    forcePathStyle: flags.forcePathStyle,
    env: ctx.env,
  });

  await askPasswordIfNeeded(engine, target, ctx);
  const result = await runBackup({
    engine,
    target,
    storage,
    recipients,
    compression: compression.compression,
    keyTemplate,
    workload: { namespace: m[1]!, kind: 'Local', name: m[2]! },
    log: ctx.log,
    signal: ctx.signal,
    retention: flags.retention,
    progress: progressOf(ctx),
  });

  if (flags.output === 'json') {
    ctx.stdout.write(formatResult(result, Number.MAX_SAFE_INTEGER) + '\n');
    return;
  }
  ctx.stdout.write(
    formatTable(
      ['KEY', 'SIZE', 'SHA256'],
      result.objects.map((o) => [o.key, formatBytes(o.bytes), o.sha256]),
    ),
  );
  ctx.stdout.write(`manifest: ${storage.description}${result.manifestKey}\n`);
}
