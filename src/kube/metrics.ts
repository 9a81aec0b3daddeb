import type { Metrics } from '../metrics/registry.js';
import type { RequestListener } from './api.js';

/** Feeds snapkeeper_kube_api_requests_total{verb}, then calls `next` (tests count writes with it). */
export function countRequests(metrics: Metrics, next?: RequestListener): RequestListener {
  return (verb, resource) => {
    metrics.kubeApiRequests.inc({ verb });
    next?.(verb, resource);
  };
}
