/**
 * The one Service the dumper connects to: a selector-based Service of the
 * workload's namespace whose selector matches every pod of the workload.
 *
 * Headless Services (clusterIP: None) are set aside when a regular one also
 * matches: charts commonly ship both (`postgresql` and `postgresql-hl`), and
 * the regular one is the address clients use. Two regular Services, or two
 * headless ones and no regular one, are ambiguous.
 *
 * The port: by name (postgresql, postgres, tcp-postgresql …), else the one
 * whose port or targetPort is the engine's default, else the only port.
 */
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { EngineType } from '../manifest.js';

export type ServiceSelection =
  | { ok: true; service: string; host: string; port: number }
  | { ok: false; reason: 'NoService' | 'AmbiguousService'; message: string };

export const defaultPorts: Record<EngineType, number> = {
  postgresql: 5432,
  mysql: 3306,
  mariadb: 3306,
  elasticsearch: 9200,
};

const portNames: Record<EngineType, readonly string[]> = {
  postgresql: ['postgresql', 'postgres', 'tcp-postgresql', 'pg', 'psql', 'tcp-postgres'],
  mysql: ['mysql', 'tcp-mysql', 'mariadb', 'db'],
  mariadb: ['mariadb', 'mysql', 'tcp-mariadb', 'tcp-mysql', 'db'],
  elasticsearch: [
    'http',
    'elasticsearch',
    'rest',
    'tcp-rest-api',
    'https',
    'opensearch',
    'http-api',
  ],
};

export function selectService(
  pods: V1Pod[],
  services: V1Service[],
  type: EngineType,
): ServiceSelection {
  const namespace = pods[0]?.metadata?.namespace;
  const matching = services.filter((svc) => {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return false;
    if (
      namespace !== undefined &&
      svc.metadata?.namespace !== undefined &&
      svc.metadata.namespace !== namespace
    ) {
      return false;
    }
    return (
      pods.length > 0 &&
      pods.every((pod) =>
        Object.entries(selector).every(([k, v]) => pod.metadata?.labels?.[k] === v),
      )
    );
  });
  const names = (list: V1Service[]) => list.map((s) => s.metadata?.name ?? '?').join(', ');
  if (matching.length === 0) {
    return {
      ok: false,
      reason: 'NoService',
      message: `no Service in namespace ${namespace ?? '?'} selects these pods; create one whose selector matches the pod labels`,
    };
  }
  const regular = matching.filter((s) => s.spec?.clusterIP !== 'None');
  const candidates = regular.length > 0 ? regular : matching;
  if (candidates.length > 1) {
    return {
      ok: false,
      reason: 'AmbiguousService',
      message: `${candidates.length} Services select these pods (${names(candidates)}); exactly one must, so the backup address is unambiguous`,
    };
  }
  const svc = candidates[0]!;
  const name = svc.metadata?.name ?? '';
  const port = choosePort(svc.spec?.ports ?? [], type);
  if (port === undefined) {
    const listed = (svc.spec?.ports ?? [])
      .map((p) => (p.name ? `${p.name}:${p.port}` : String(p.port)))
      .join(', ');
    return {
      ok: false,
      reason: 'AmbiguousService',
      message: `Service ${name} has ports ${listed || '(none)'}; none is named ${portNames[type].slice(0, 3).join('/')} or is ${defaultPorts[type]}`,
    };
  }
  return {
    ok: true,
    service: name,
    host: `${name}.${svc.metadata?.namespace ?? namespace}.svc`,
    port,
  };
}

function choosePort(ports: V1ServicePort[], type: EngineType): number | undefined {
  for (const wanted of portNames[type]) {
    const byName = ports.find((p) => p.name?.toLowerCase() === wanted);
    if (byName) return byName.port;
  }
  const byNumber = ports.find(
    (p) => p.port === defaultPorts[type] || p.targetPort === defaultPorts[type],
  );
  if (byNumber) return byNumber.port;
  return ports.length === 1 ? ports[0]!.port : undefined;
}
