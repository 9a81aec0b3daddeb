import { isTracked, parseAnnotations } from '../annotations/index.js';
import { resolveCredentials } from '../discovery/credentials.js';
import { resolveWorkload } from '../discovery/owner.js';
import { selectService } from '../discovery/service.js';
import { desiredCronJob } from '../desired/cronjob.js';
import { objectName } from '../desired/names.js';
import { desiredSecret } from '../desired/secret.js';
import { desiredRestoreTestCronJob, restoreTestObjectName } from '../desired/restore-test.js';
import { workloadKey } from '../workload.js';
import type { Logic } from './logic.js';

export const defaultLogic: Logic = {
  isTracked,
  parseAnnotations,
  resolveWorkload,
  workloadKey,
  selectService,
  resolveCredentials,
  objectName,
  desiredCronJob,
  desiredSecret,
  restoreTestObjectName,
  desiredRestoreTestCronJob,
};
