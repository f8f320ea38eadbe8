import type { RedisClient } from '../core/queue.js';
import type { Incident } from '../core/incident.js';
import type { Logger } from '../core/logger.js';
import { KEY_PREFIX } from '../core/queue.js';
import { errorMessage } from '../core/errors.js';
import { formatMemoryApprox } from '../core/quantity.js';
import type { WorkingSetHistory } from '../investigate/working-set-history.js';
import { chartWindow, memoryChartSvg, sparkline, windowLabel } from '../alert/memory-chart.js';
import type { PreviousIncident } from '../diagnosis/enriched.js';
import { renderPng } from './render-chart-png.js';
import type { AlertTransport } from './transport.js';

export interface ChartDeps {
  redis: RedisClient;
  queueName: string;
  transport: AlertTransport;
  log: Logger;
  /** Where the curve comes from (Prometheus or the sampler's history). */
  history: (cluster: string) => WorkingSetHistory;
  /** How long a chart is remembered as sent (the dedupe window). */
  onceMs: number;
}

const WINDOW_S = 3600;

/**
 * Puts the memory curve of the killed container's last hour (working set, limit, restarts, the kill) in
 * the alert's thread: a PNG in Slack, a sparkline and the PNG's path on the console. Only when there
 * are at least two samples of it (Prometheus, or the sampler's history); at most once per incident (a retried job does not
 * upload it again). Best effort: the alert is out already, a failure here is only logged.
 */
export async function attachChart(
  deps: ChartDeps,
  incident: Incident,
  at: { channel: string; ts: string },
  facts: { limitBytes?: number; previous: PreviousIncident[] },
): Promise<'uploaded' | 'skipped'> {
  const t = incident.termination;
  const pod = incident.pod;
  if (!deps.transport.uploadFile || !pod || !t) return 'skipped';
  const killAt = Math.floor((Date.parse(t.finishedAt ?? incident.occurredAt) || Date.now()) / 1000);
  const container = `${pod.namespace}/${pod.name}/${t.container}`;
  try {
    const points = (await deps.history(incident.cluster).read(container, killAt - WINDOW_S, killAt + 60)).filter((p) => p.at <= killAt + 60);
    if (points.length < 2) return 'skipped';
    const once = await deps.redis.set(`${KEY_PREFIX}:${deps.queueName}:chart:${incident.id}`, '1', 'PX', deps.onceMs, 'NX');
    if (once !== 'OK') return 'skipped';
    const restarts = [
      ...(t.restartCount > 0 && t.startedAt ? [Date.parse(t.startedAt) / 1000] : []),
      ...facts.previous.filter((p) => p.container === t.container && p.startedAt).map((p) => Date.parse(p.startedAt!) / 1000),
    ].filter((s) => Number.isFinite(s));
    const { from, to } = chartWindow(points, killAt, WINDOW_S);
    const span = windowLabel(from, to);
    const title = `${pod.namespace}/${pod.name} (${t.container}): working set, ${span}`;
    const svg = memoryChartSvg({ title, points, limitBytes: facts.limitBytes, restarts, killAt, from, to });
    const peak = Math.max(...points.map((p) => p.bytes));
    const line = sparkline(points, facts.limitBytes);
    const limit = facts.limitBytes ? ` of its ${formatMemoryApprox(facts.limitBytes)} limit` : '';
    const comment = `Memory of ${t.container}, ${span} before the kill: peak ${formatMemoryApprox(peak)}${limit}, ${points.length} samples.`;
    const file = {
      filename: `memory-${pod.name}-${t.container}.png`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200),
      title: `Memory of ${t.container} in ${pod.name}`,
      bytes: renderPng(svg),
      altText: `${comment} ${line}`,
      comment,
      consoleLine: `memory, ${span}: ${line} peak ${formatMemoryApprox(peak)}${limit}`,
    };
    await deps.transport.uploadFile(at.channel, at.ts, file);
    return 'uploaded';
  } catch (err) {
    deps.log.warn({ incident: incident.id, err: errorMessage(err) }, 'cannot put the memory chart in the alert thread (the files:write scope is needed)');
    return 'skipped';
  }
}
