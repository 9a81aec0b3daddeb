// The operator environment the desired-object tests build with: S3 behind an
// endpoint, with credentials and path-style addressing, one dumper image set.
import type { BackupSpec } from '../../src/annotations/index.js';
import { loadOperatorConfig } from '../../src/config/operator.js';

export const operatorEnv = {
  SNAPKEEPER_CONTROL_NAMESPACE: 'snapkeeper',
  SNAPKEEPER_WATCH_NAMESPACES: 'shop',
  SNAPKEEPER_STORAGE: 's3://backups/prod',
  SNAPKEEPER_S3_ENDPOINT: 'http://minio.minio.svc:9000',
  SNAPKEEPER_S3_REGION: 'us-east-1',
  SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
  SNAPKEEPER_S3_CREDENTIALS_SECRET: 's3-creds',
  SNAPKEEPER_IMAGE_POSTGRESQL: 'registry.local/dumper-postgresql:1.2.3',
};

export const operatorConfig = loadOperatorConfig(operatorEnv);

/** Where the backup CronJob of shop/postgres finds its database, and the pod its spec came from. */
export const postgresSource = {
  target: { host: 'postgres.shop.svc', port: 5432 },
  credentials: { hasUsername: true, hasDatabase: true },
  sourcePod: 'postgres-5d9c-abcde',
};

/** A PostgreSQL backup at 03:17 Paris time: no encryption, no extra dump options. */
export const postgresSpec: BackupSpec = {
  type: 'postgresql',
  schedule: '17 3 * * *',
  timezone: 'Europe/Paris',
  recipients: [],
  dumpOptions: [],
  suspend: false,
};
