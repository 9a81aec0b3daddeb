// values.schema.json is closed: a misspelt key at any level of the values
// (`metrics.prometheusRule.enable` for `enabled`) is refused by `helm lint`
// and `helm template` with a message that names it, instead of being
// silently ignored; only maps meant to hold anything (annotations, labels,
// resources, nodeSelector, affinity) take any key. Every key values.yaml
// documents, its commented examples included, is accepted. The levels come
// from values.yaml itself, so a new section is covered without editing this.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { chartDir, helm, minimalValues } from './chart-render.js';

type Values = Record<string, unknown>;

/** Maps meant to be open: whatever Kubernetes (or the user's tooling) accepts there. */
const OPEN = new Set([
  'operator.serviceAccount.annotations',
  'operator.resources',
  'operator.podAnnotations',
  'operator.podLabels',
  'operator.nodeSelector',
  'operator.affinity',
  'dumper.serviceAccount.annotations',
  'metrics.service.annotations',
  'metrics.serviceMonitor.labels',
  'metrics.prometheusRule.labels',
  'metrics.dashboard.labels',
  'metrics.dashboard.annotations',
]);

/** Lists of objects with a fixed shape, and an example item (values.yaml shows it commented). */
const CLOSED_ITEMS: Record<string, Values> = {
  imagePullSecrets: { name: 'my-registry' },
};

const isObject = (v: unknown): v is Values =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** values.yaml, with the commented examples filled in and the required values set. */
async function documentedValues(): Promise<Values> {
  const text = await readFile(join(chartDir, 'values.yaml'), 'utf8');
  const values = loadYaml<Values>(text);
  for (const [path, item] of Object.entries(CLOSED_ITEMS)) values[path] = [item];
  return { ...values, ...minimalValues() };
}

/** Every object level of the values (by dotted path, '' for the top), open maps aside. */
function closedLevels(values: Values, path = ''): string[] {
  if (OPEN.has(path)) return [];
  const levels = [path];
  for (const [k, v] of Object.entries(values)) {
    const p = path ? `${path}.${k}` : k;
    if (isObject(v)) levels.push(...closedLevels(v, p));
  }
  return levels;
}

function openLevels(values: Values, path = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const p = path ? `${path}.${k}` : k;
    if (OPEN.has(p)) out.push(p);
    else if (isObject(v)) out.push(...openLevels(v, p));
  }
  return out;
}

function at(values: Values, path: string): Values {
  let level = values;
  for (const k of path ? path.split('.') : []) level = level[k] as Values;
  return level;
}

/** A plausible typo of a key of that level: its first key with the last letter dropped. */
function misspelt(level: Values): { key: string; typo: string } {
  const key = Object.keys(level)[0]!;
  let typo = key.length > 3 ? key.slice(0, -1) : `${key}x`;
  while (typo in level) typo += 'x';
  return { key, typo };
}

/** A deep copy of `values` with `typo` added at `path`, holding the value of `key`. */
function withTypo(values: Values, path: string, key: string, typo: string): Values {
  const copy = structuredClone(values);
  const level = at(copy, path);
  level[typo] = structuredClone(level[key]);
  return copy;
}

/** `/a/b`, as the schema validator names a location. */
const pointer = (path: string) => (path ? `/${path.split('.').join('/')}` : '');

async function helmBoth(values: Values) {
  const out = [];
  for (const command of [
    ['template', 'snapkeeper'],
    ['lint', '--strict'],
  ]) {
    const r = await helm([...command, chartDir], values);
    out.push({ command: command[0]!, code: r.code, text: r.stderr + r.stdout.toString() });
  }
  return out;
}

const documented = await documentedValues();

describe('chart: values.schema.json is closed', () => {
  it('given every key values.yaml documents (commented examples included), then helm lint and helm template accept them', async () => {
    for (const r of await helmBoth(documented)) {
      expect(r.code, `${r.command}: ${r.text}`).toBe(0);
    }
  });

  const levels = closedLevels(documented);
  it('covers every level of values.yaml', () => {
    expect(levels).toEqual(
      expect.arrayContaining([
        '',
        'operator',
        'operator.image',
        'dumper.job',
        'storage',
        'metrics.prometheusRule',
        'metrics.dashboard',
      ]),
    );
  });

  it.each(levels.map((path) => ({ path, ...misspelt(at(documented, path)) })))(
    'given $typo for $key at $path, then helm lint and helm template refuse it by name',
    async ({ path, key, typo }) => {
      for (const r of await helmBoth(withTypo(documented, path, key, typo))) {
        expect(r.code, `${r.command} accepted ${path}.${typo}`).not.toBe(0);
        expect(r.text).toContain("values don't meet the specifications of the schema");
        expect(r.text).toContain(
          `at '${pointer(path)}': additional properties '${typo}' not allowed`,
        );
      }
    },
  );

  it.each(Object.entries(CLOSED_ITEMS).map(([path, item]) => ({ path, item })))(
    'given a misspelt key in an item of $path, then it is refused by name',
    async ({ path, item }) => {
      const { key, typo } = misspelt(item);
      const values = { ...documented, [path]: [{ [typo]: item[key] }] };
      for (const r of await helmBoth(values)) {
        expect(r.code, `${r.command} accepted ${path}[0].${typo}`).not.toBe(0);
        expect(r.text).toContain(`additional properties '${typo}' not allowed`);
      }
    },
  );

  it.each(openLevels(documented))(
    'given any key in the open map %s, then it is accepted',
    async (path) => {
      const values = structuredClone(documented);
      const level = at(values, path);
      // A key shaped like a label or annotation; a string value where a map
      // of strings is expected, an object where resources or affinity are.
      level['example.com/any-key'] =
        path.endsWith('resources') || path.endsWith('affinity') ? {} : 'x';
      for (const r of await helmBoth(values)) expect(r.code, `${r.command}: ${r.text}`).toBe(0);
    },
  );
});
