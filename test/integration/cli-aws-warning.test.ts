// The AWS SDK's Node-version warning (process.emitWarning, 8 lines under
// Node < 22) never reaches a user of the built CLI; the control run, with
// the SDK's switch turned back on, shows the test would see it.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { exec, uniqueName } from '../env/helpers.js';
import { s3Env } from './backup-support.js';
import { buildCli } from './cli-process.js';

const s3 = inject('s3');

let cli: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ cli, remove } = await buildCli()));
afterAll(() => remove());

const list = (env: NodeJS.ProcessEnv) => {
  const clean = { ...process.env };
  delete clean.NODE_NO_WARNINGS;
  delete clean.NODE_OPTIONS;
  delete clean.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return exec(
    'env',
    [
      '-i',
      ...Object.entries({ PATH: clean.PATH, HOME: clean.HOME, ...s3Env(s3), ...env }).map(
        ([k, v]) => `${k}=${v ?? ''}`,
      ),
      process.execPath,
      cli,
      'list',
      '--from',
      `s3://${s3.bucket}/${uniqueName('warn')}`,
      '--endpoint',
      s3.endpoint,
      '--region',
      s3.region,
      '--force-path-style',
    ],
    { timeoutMs: 60_000 },
  );
};

it.skipIf(Number(process.versions.node.split('.')[0]) >= 22)(
  'given an S3 command under Node 20, then no NodeVersionSupportWarning on stderr',
  async () => {
    const r = await list({});
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);

    const control = await list({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    expect(control.code).toBe(0);
    expect(control.stderr).toMatch(/NodeVersionSupportWarning/);
  },
);
