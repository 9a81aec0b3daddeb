import type * as annotations from '../annotations/index.js';
import type * as credentials from '../discovery/credentials.js';
import type * as owner from '../discovery/owner.js';
import type * as workload from '../workload.js';
import type * as service from '../discovery/service.js';
import type * as cronjob from '../desired/cronjob.js';
import type * as names from '../desired/names.js';
import type * as restoreTest from '../desired/restore-test.js';
import type * as secret from '../desired/secret.js';

export type { OwnerLookup } from '../discovery/owner.js';

/**
 * The pure decisions the reconciler calls (annotations, discovery, desired
 * state) as one injectable bundle: `defaultLogic` binds the real modules;
 * unit tests may pass their own.
 */
export interface Logic {
  isTracked: typeof annotations.isTracked;
  parseAnnotations: typeof annotations.parseAnnotations;
  resolveWorkload: typeof owner.resolveWorkload;
  workloadKey: typeof workload.workloadKey;
  selectService: typeof service.selectService;
  resolveCredentials: typeof credentials.resolveCredentials;
  objectName: typeof names.objectName;
  desiredCronJob: typeof cronjob.desiredCronJob;
  desiredSecret: typeof secret.desiredSecret;
  restoreTestObjectName: typeof restoreTest.restoreTestObjectName;
  desiredRestoreTestCronJob: typeof restoreTest.desiredRestoreTestCronJob;
}
