import type { CoreV1Event } from '@kubernetes/client-node';
import type { Incident, NodeOomDetail } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { eventTime, isAbout } from './event-fields.js';
import { nodeOomIncidentId } from './incident-id.js';
import { asInt, asString, asText, field, fieldAt } from './read-fields.js';
import { EVENT_MESSAGE_BYTES, trimText } from './trim-text.js';

/** "System OOM encountered, victim process: java, pid: 12345" (the kubelet's OOM watcher). */
const VICTIM = /victim process: (.{1,256}?), pid: (\d{1,10})/;

/**
 * The kubelet's Warning event `SystemOOM` on a Node: the kernel OOM killer ran outside pod limits.
 * The event is aggregated; each increment of its count is a new OOM and gets its own id.
 */
export function detectNodeSystemOom(event: CoreV1Event, ctx: DetectContext): Incident[] {
  if (field(event, 'reason') !== 'SystemOOM' || !isAbout(event, 'Node')) return [];
  const node = asText(fieldAt(event, 'involvedObject', 'name')) ?? asText(fieldAt(event, 'source', 'host'));
  if (node === undefined) return [];
  const occurredAt = resolveOccurredAt(eventTime(event), ctx);
  if (occurredAt === undefined) return [];
  const count = positive(field(event, 'count')) ?? positive(fieldAt(event, 'series', 'count')) ?? 1;
  const eventUid = asText(fieldAt(event, 'metadata', 'uid')) ?? asText(fieldAt(event, 'metadata', 'name')) ?? '';

  const nodeOom: NodeOomDetail = { node: node.slice(0, 253), count };
  const message = trimText(asString(field(event, 'message')), EVENT_MESSAGE_BYTES);
  if (message !== undefined) {
    nodeOom.message = message;
    const victim = VICTIM.exec(message);
    if (victim?.[1] !== undefined) nodeOom.victimProcess = victim[1];
    const pid = victim?.[2] === undefined ? undefined : Number(victim[2]);
    if (pid !== undefined && Number.isSafeInteger(pid)) nodeOom.victimPid = pid;
  }
  const id = nodeOomIncidentId(ctx.cluster, nodeOom.node, eventUid, count);
  return [buildIncident('node-oom', id, occurredAt, ctx, { nodeOom })];
}

function positive(value: unknown): number | undefined {
  const n = asInt(value);
  return n !== undefined && n > 0 ? n : undefined;
}
