/**
 * The `resources` annotation and the `SNAPKEEPER_DEFAULT_RESOURCES` setting:
 * `cpu=500m,memory=256Mi`, or explicit `requests.cpu=…,limits.memory=…`.
 *
 * A bare name sets the request; a bare `memory` sets the limit too (a dump
 * that outgrows its request is killed rather than starving its node), while
 * CPU gets no limit by default (a limit only throttles a dump).
 */
export interface DumperResources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

const resourceNames = ['cpu', 'memory', 'ephemeral-storage'] as const;

/** A Kubernetes quantity: `500m`, `1`, `0.5`, `256Mi`, `1G`, `1e3`. No sign. */
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

export const RESOURCES_ACCEPTED =
  'comma list of name=quantity, names cpu, memory, ephemeral-storage (optionally prefixed requests. or limits.), e.g. cpu=500m,memory=256Mi';

export function isQuantity(s: string): boolean {
  return QUANTITY.test(s);
}

/** Parses the resources syntax; on failure returns the reason (without the accepted list). */
export function parseResources(
  value: string,
): { ok: true; resources: DumperResources } | { ok: false; reason: string } {
  const out: DumperResources = { requests: {}, limits: {} };
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) return { ok: false, reason: 'empty' };
  const parsed: { scope: string; name: string; quantity: string }[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, reason: `${JSON.stringify(item)} is not name=quantity` };
    const key = item.slice(0, eq).trim();
    const quantity = item.slice(eq + 1).trim();
    const [scope, name] = key.includes('.')
      ? (key.split('.', 2) as [string, string])
      : (['', key] as const);
    if (
      !(resourceNames as readonly string[]).includes(name) ||
      !['', 'requests', 'limits'].includes(scope)
    ) {
      return { ok: false, reason: `${JSON.stringify(key)} is not a resource name` };
    }
    if (!isQuantity(quantity)) {
      return { ok: false, reason: `${JSON.stringify(quantity)} is not a quantity` };
    }
    parsed.push({ scope, name, quantity });
  }
  // Bare names first, so an explicit requests./limits. entry wins whatever the order.
  parsed.sort((a, b) => (a.scope === '' ? 0 : 1) - (b.scope === '' ? 0 : 1));
  for (const { scope, name, quantity } of parsed) {
    if (scope === 'requests' || scope === '') out.requests[name] = quantity;
    if (scope === 'limits' || (scope === '' && name === 'memory')) out.limits[name] = quantity;
  }
  return { ok: true, resources: out };
}
