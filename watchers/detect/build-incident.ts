import { INCIDENT_VERSION, type Incident, type IncidentKind } from '../../core/incident.js';
import { safeIso, type DetectContext } from './context.js';

type Details = Omit<Incident, 'v' | 'id' | 'kind' | 'cluster' | 'occurredAt' | 'detectedAt'>;

/** The common envelope of every incident; `details` adds the pod and what happened to it. */
export function buildIncident(kind: IncidentKind, id: string, occurredAt: string, ctx: DetectContext, details: Details): Incident {
  return {
    v: INCIDENT_VERSION,
    id,
    kind,
    cluster: ctx.cluster,
    occurredAt,
    detectedAt: safeIso(ctx.now) ?? occurredAt,
    ...details,
  };
}
