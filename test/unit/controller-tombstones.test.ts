import { describe, expect, it } from 'vitest';
import { Tombstones } from '../../src/controller/cleanup.js';

describe('Tombstones', () => {
  it('given a deleted uid, then it is remembered for the ttl and forgotten after', () => {
    let now = 1_000;
    const t = new Tombstones(60_000, () => now);
    t.add('uid-a');
    t.add(undefined);
    expect(t.has('uid-a')).toBe(true);
    expect(t.has('uid-b')).toBe(false);
    expect(t.has(undefined)).toBe(false);
    now += 60_000;
    expect(t.has('uid-a')).toBe(true);
    now += 1;
    expect(t.has('uid-a')).toBe(false);
  });
});
