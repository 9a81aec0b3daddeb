// Whether a workload without pods is gone, from its own object (read fresh
// by the reconcile): missing, being deleted, or its pod template no longer
// annotated. Anything else keeps it, whatever its pods do.
import { describe, expect, it } from 'vitest';
import { isTracked } from '../../src/annotations/index.js';
import { podTemplateAnnotations, whyGone } from '../../src/controller/presence.js';
import type { WorkloadObject } from '../../src/kube/api.js';
import type { WorkloadRef } from '../../src/workload.js';

const on = { 'snapkeeper.io/enabled': 'true', 'snapkeeper.io/type': 'postgresql' };
const legacy = { 'ksnapshot.clickandmortar.fr/enabled': 'true' };
const template = (annotations?: Record<string, string>) => ({
  template: { metadata: annotations ? { annotations } : {}, spec: { containers: [] } },
});
const ref = (kind: WorkloadRef['kind']): WorkloadRef => ({ namespace: 'shop', kind, name: 'db' });

describe('whyGone', () => {
  const cases: [string, WorkloadRef, WorkloadObject | undefined, RegExp | undefined][] = [
    [
      'a StatefulSet still annotated',
      ref('StatefulSet'),
      { spec: template(on) } as WorkloadObject,
      undefined,
    ],
    [
      'a Deployment annotated the ksnapshot way',
      ref('Deployment'),
      { spec: template(legacy) } as WorkloadObject,
      undefined,
    ],
    [
      'a CronJob whose job template is annotated',
      ref('CronJob'),
      { spec: { schedule: '* * * * *', jobTemplate: { spec: template(on) } } } as WorkloadObject,
      undefined,
    ],
    [
      'a bare pod still annotated',
      ref('Pod'),
      { metadata: { annotations: on } } as WorkloadObject,
      undefined,
    ],
    [
      'a StatefulSet that does not exist',
      ref('StatefulSet'),
      undefined,
      /StatefulSet shop\/db does not exist/,
    ],
    [
      'a Deployment being deleted',
      ref('Deployment'),
      { metadata: { deletionTimestamp: new Date() }, spec: template(on) } as WorkloadObject,
      /being deleted/,
    ],
    [
      'a DaemonSet whose template lost the annotation',
      ref('DaemonSet'),
      { spec: template({ 'snapkeeper.io/type': 'postgresql' }) } as WorkloadObject,
      /pod template of DaemonSet shop\/db is no longer annotated/,
    ],
    [
      'a Job whose template has no annotations',
      ref('Job'),
      { spec: template() } as WorkloadObject,
      /no longer annotated/,
    ],
    [
      'a bare pod whose annotation was removed',
      ref('Pod'),
      { metadata: { annotations: {} } } as WorkloadObject,
      /Pod shop\/db is no longer annotated/,
    ],
  ];
  for (const [what, w, obj, expected] of cases) {
    it(`given ${what}, then ${expected ? 'gone' : 'kept'}`, () => {
      const why = whyGone(w, obj, isTracked);
      if (expected) expect(why).toMatch(expected);
      else expect(why).toBeUndefined();
    });
  }
});

describe('podTemplateAnnotations', () => {
  it('given each kind, then the annotations its pods get', () => {
    expect(podTemplateAnnotations('ReplicaSet', { spec: template(on) } as WorkloadObject)).toEqual(
      on,
    );
    expect(
      podTemplateAnnotations('CronJob', {
        spec: { schedule: '', jobTemplate: { spec: template(legacy) } },
      } as WorkloadObject),
    ).toEqual(legacy);
    expect(
      podTemplateAnnotations('Pod', { metadata: { annotations: on } } as WorkloadObject),
    ).toEqual(on);
  });
});
