/**
 * The mirrored Secret: one per workload, in the control namespace, with only
 * the keys the dumper reads (username, password, database). Written as
 * `data` (base64) so that it compares with what the API returns.
 *
 * Its spec-hash annotation is a hash over the data; it lives on the Secret
 * itself, so it tells nothing to anyone who cannot already read the Secret.
 * It is never copied anywhere else.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/operator.js';
import type { Credentials } from '../discovery/engines.js';
import type { WorkloadRef } from '../workload.js';
import { SPEC_HASH_ANNOTATION } from '../labels.js';
import { specHash } from './hash.js';
import { ownedAnnotations, ownedLabels, ownerReferences } from './labels.js';
import { objectName } from './names.js';
import type { EngineType } from '../manifest.js';

export function desiredSecret(input: {
  workload: WorkloadRef;
  credentials: Credentials;
  config: OperatorConfig;
  type?: EngineType;
}): V1Secret {
  const { workload, credentials, config } = input;
  const data: Record<string, string> = {};
  for (const key of ['username', 'password', 'database'] as const) {
    const value = credentials[key];
    if (value !== undefined) data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: objectName(workload),
      namespace: config.controlNamespace,
      labels: ownedLabels(workload, input.type),
      annotations: ownedAnnotations(workload),
      ...ownerReferences(config),
    },
    type: 'Opaque',
    data,
  };
  secret.metadata!.annotations![SPEC_HASH_ANNOTATION] = specHash(secret);
  return secret;
}
