// Workload identity: the key and its parse, and which workload an owned
// object is for, on objects as the desired builders make them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredSecret } from '../../src/desired/secret.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import {
  isOwnedBy,
  ownerOf,
  parseKubernetesWorkloadName,
  parseWorkloadKey,
  parseWorkloadName,
  WORKLOAD_KINDS,
  workloadKey,
  type WorkloadRef,
} from '../../src/workload.js';

const config = loadOperatorConfig({
  SNAPKEEPER_CONTROL_NAMESPACE: 'snapkeeper',
  SNAPKEEPER_WATCH_NAMESPACES: 'shop',
  SNAPKEEPER_STORAGE: 's3://backups/prod',
});
const owned = (w: WorkloadRef) =>
  desiredSecret({ workload: w, credentials: { username: 'u', password: 'p' }, config });

/** Kubernetes names: DNS subdomains (a namespace is a DNS label, a subset). */
const dnsName = fc.stringMatching(/^[a-z0-9]([-.a-z0-9]{0,60}[a-z0-9])?$/);
const workload = fc.record({
  namespace: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/),
  kind: fc.constantFrom(...WORKLOAD_KINDS),
  name: fc.oneof(dnsName, fc.stringMatching(/^[a-z0-9][-a-z0-9]{100,200}[a-z0-9]$/)),
});

describe('workloadKey and parseWorkloadKey', () => {
  it('given any workload, when its key is parsed, then the same workload comes back', () => {
    fc.assert(
      fc.property(workload, (w) => {
        expect(parseWorkloadKey(workloadKey(w))).toEqual(w);
      }),
    );
  });

  it.each([
    ['', 'empty'],
    ['shop', 'one part'],
    ['shop/Deployment', 'two parts'],
    ['shop/Deployment/', 'no name'],
    ['/Deployment/pg', 'no namespace'],
    ['shop//pg', 'no kind'],
    ['shop/Operator/pg', 'a kind snapkeeper does not back up'],
    ['shop/deployment/pg', 'a kind in the wrong case'],
    ['shop/Deployment/pg/extra', 'a slash in the name'],
  ])('given %j (%s), then it is not a workload key', (key) => {
    expect(parseWorkloadKey(key)).toBeUndefined();
  });

  it('given any string, then parsing never throws and gives a workload only for its own key', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const w = parseWorkloadKey(s);
        if (w) expect(workloadKey(w)).toBe(s);
      }),
    );
  });
});

describe('ownerOf', () => {
  it('given objects as the builders make them, then their workload comes back, long names included', () => {
    fc.assert(
      fc.property(workload, (w) => {
        expect(ownerOf(owned(w))).toEqual(w);
        expect(isOwnedBy(owned(w), w)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('given a malformed annotation, then the labels decide (short name), or nothing (cut name)', () => {
    const short: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'postgres' };
    const obj = owned(short);
    for (const bad of ['', 'shop/Operator/postgres', 'postgres', 'shop/Deployment/']) {
      obj.metadata!.annotations!['snapkeeper.io/workload'] = bad;
      expect(ownerOf(obj)).toEqual(short);
    }
    const long: WorkloadRef = { namespace: 'shop', kind: 'StatefulSet', name: 'p'.repeat(100) };
    const cut = owned(long);
    cut.metadata!.annotations!['snapkeeper.io/workload'] = 'garbage';
    expect(ownerOf(cut)).toBeUndefined();
  });

  it('given labels that are incomplete or name an unknown kind, and no annotation, then no workload', () => {
    const l = {
      'snapkeeper.io/workload-namespace': 'shop',
      'snapkeeper.io/workload-kind': 'Deployment',
      'snapkeeper.io/workload-name': 'postgres',
    };
    expect(ownerOf({ metadata: { labels: l } })).toEqual({
      namespace: 'shop',
      kind: 'Deployment',
      name: 'postgres',
    });
    for (const drop of Object.keys(l)) {
      const { [drop]: _gone, ...rest } = l as Record<string, string>;
      expect(ownerOf({ metadata: { labels: rest } })).toBeUndefined();
    }
    expect(
      ownerOf({ metadata: { labels: { ...l, 'snapkeeper.io/workload-kind': 'Operator' } } }),
    ).toBeUndefined();
    expect(ownerOf({})).toBeUndefined();
  });

  it('given an object of another workload, then it is not owned by this one', () => {
    const a: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'pg' };
    expect(isOwnedBy(owned(a), { ...a, kind: 'StatefulSet' })).toBe(false);
    expect(isOwnedBy(owned(a), { ...a, namespace: 'other' })).toBe(false);
  });
});

describe('parseWorkloadName', () => {
  it.each([
    ['shop/postgres', { namespace: 'shop', name: 'postgres' }],
    [' shop/pg.primary ', { namespace: 'shop', name: 'pg.primary' }],
    ['Shop/Postgres', { namespace: 'Shop', name: 'Postgres' }],
  ])('parses %j', (s, want) => expect(parseWorkloadName(s)).toEqual(want));

  it.each(['shop', 'shop/', '/pg', 'sh op/pg', 'a/b/c', ''])('rejects %j', (s) => {
    expect(parseWorkloadName(s)).toBeUndefined();
  });

  it.each(['Shop/postgres', 'shop/Postgres', 'shop/-pg', 'sh.op/pg', 'shop/pg_1'])(
    'rejects %j as a Kubernetes name',
    (s) => {
      expect(parseWorkloadName(s.trim())).toBeDefined();
      expect(parseKubernetesWorkloadName(s)).toBeUndefined();
    },
  );
});
