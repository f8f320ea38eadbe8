/**
 * Reads a container's working set from Prometheus (PROMETHEUS_URL): `container_memory_working_set_bytes`
 * from the kubelet's cAdvisor, through the HTTP API's query_range. Gives oombot a memory curve that
 * reaches back before oombot started.
 */
import { OombotError, errorMessage } from './errors.js';

export interface WorkingSetPoint {
  /** Epoch seconds. */
  at: number;
  bytes: number;
}

/** A PromQL string literal: backslashes and double quotes escaped, newlines refused by the caller's names. */
function label(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The PromQL for one container's working set (the largest series, should several scrapes report it). */
export function workingSetQuery(namespace: string, pod: string, container: string): string {
  return `max(container_memory_working_set_bytes{namespace=${label(namespace)},pod=${label(pod)},container=${label(container)}})`;
}

export class PrometheusClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The working set of a container from `fromSec` to `toSec` at about 240 points (at least 15 s apart). */
  async workingSet(namespace: string, pod: string, container: string, fromSec: number, toSec: number): Promise<WorkingSetPoint[]> {
    const step = Math.max(15, Math.ceil((toSec - fromSec) / 240));
    const url = new URL('api/v1/query_range', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const body = new URLSearchParams({ query: workingSetQuery(namespace, pod, container), start: String(fromSec), end: String(toSec), step: `${step}s` });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new OombotError('UNKNOWN', `cannot reach Prometheus at ${url.origin}: ${errorMessage(err)}`, { retryable: true, hint: 'check PROMETHEUS_URL' });
    }
    const json = (await res.json().catch(() => undefined)) as
      | { status?: string; error?: string; data?: { resultType?: string; result?: { values?: [number, string][] }[] } }
      | undefined;
    if (!res.ok || json?.status !== 'success') {
      throw new OombotError('UNKNOWN', `Prometheus query_range failed: ${json?.error ?? `HTTP ${res.status}`}`, { hint: 'check PROMETHEUS_URL' });
    }
    const values = json.data?.result?.[0]?.values ?? [];
    return values.flatMap(([t, v]) => {
      const bytes = Number(v);
      return Number.isFinite(bytes) && Number.isFinite(t) ? [{ at: Math.round(t), bytes }] : [];
    });
  }
}
