// The annotation table (src/annotations/table.ts): every row says what it
// accepts and refuses its own example with a message that names the
// annotation and the value.
import { describe, expect, it } from 'vitest';
import { isTracked, parseAnnotations } from '../../src/annotations/index.js';
import { annotationTable } from '../../src/annotations/table.js';

const S = 'snapkeeper.io/';
const K = 'ksnapshot.clickandmortar.fr/';
const base = { [`${S}enabled`]: 'true', [`${S}type`]: 'postgresql', [`${S}schedule`]: '0 3 * * *' };
const ctx = {
  workloadKey: 'shop/Deployment/postgres',
  defaults: { recipients: [], encryption: false },
};

describe('the annotation table', () => {
  it('given the table, when its names are listed, then each is unique, and so is each ksnapshot alias', () => {
    const names = annotationTable.map((r) => r.name);
    const aliases = annotationTable.flatMap((r) => (r.ksnapshot ? [r.ksnapshot] : []));
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(aliases).size).toBe(aliases.length);
  });

  it.each(annotationTable.map((r) => [r.name, r] as const))(
    'given the row %s, then its accepted-values text is non-empty',
    (_name, row) => {
      expect(row.accepted.trim()).not.toBe('');
    },
  );

  it.each(annotationTable.filter((r) => r.read).map((r) => [r.name, r] as const))(
    'given the row %s, when its invalid example is set, then one error names the annotation and the value and lists what it accepts',
    (name, row) => {
      const r = parseAnnotations({ ...base, [`${S}${name}`]: row.invalid }, ctx);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const mine = r.errors.filter((e) => e.startsWith(`${S}${name}: `));
      expect(mine).toHaveLength(1);
      expect(mine[0]!.startsWith(`${S}${name}: ${JSON.stringify(row.invalid)} `)).toBe(true);
      expect(mine[0]!.endsWith(`; accepted: ${row.accepted}`)).toBe(true);
    },
  );

  it.each(annotationTable.filter((r) => r.ksnapshot && r.read).map((r) => [r.name, r] as const))(
    'given the row %s, when its invalid example is set under its ksnapshot alias only, then the error names the ksnapshot key',
    (name, row) => {
      const annotations: Record<string, string> = {
        ...base,
        [`${K}${row.ksnapshot!}`]: row.invalid,
      };
      delete annotations[`${S}${name}`];
      const r = parseAnnotations(annotations, ctx);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const prefix = `${K}${row.ksnapshot!}: ${JSON.stringify(row.invalid)} `;
      expect(r.errors.filter((e) => e.startsWith(prefix))).toHaveLength(1);
    },
  );

  it('given the row without a reader (enabled), when its invalid example is set, then the pod is not tracked', () => {
    const rows = annotationTable.filter((r) => !r.read);
    expect(rows.map((r) => r.name)).toEqual(['enabled']);
    expect(isTracked({ [`${S}enabled`]: rows[0]!.invalid })).toBe(false);
  });

  it('given a key that is no row, when parsed, then the warning lists every row, in table order', () => {
    const r = parseAnnotations({ ...base, [`${S}bogus`]: 'x' }, ctx);
    expect(r.warnings).toEqual([
      `${S}bogus: unknown annotation, ignored; known: ${annotationTable.map((x) => x.name).join(', ')}`,
    ]);
  });
});
