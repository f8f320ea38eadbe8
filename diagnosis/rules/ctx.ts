/** What every diagnosis rule reads: the incident, its container's limit, request, uptime and usage, the caps (built by context.ts). */
import type { Incident } from '../../core/incident.js';
import type { ContainerSnapshot, EnrichedIncident, OwnerChain } from '../enriched.js';
import type { Caps } from '../propose-limit.js';

export interface Ctx {
  e: EnrichedIncident;
  incident: Incident;
  namespace: string;
  containerName?: string;
  container?: ContainerSnapshot;
  limitBytes?: number;
  limitText?: string;
  requestBytes?: number;
  requestText?: string;
  /** Whether the container spec (or the record) says there is no memory limit, and no pod-level one bounds it. */
  limitKnownAbsent: boolean;
  /**
   * Which limit `limitBytes` is: the container's own, or the pod-level limit (spec.resources, KEP-2837)
   * when that is what bounds the container.
   */
  limitScope: 'container' | 'pod';
  /** The pod-level memory limit, when the pod has one. */
  podLimitBytes?: number;
  podLimitText?: string;
  /** The pod-level memory request, when the pod has one. */
  podRequestBytes?: number;
  podRequestText?: string;
  /** The pod's status.qosClass. */
  qosClass?: string;
  uptimeSeconds?: number;
  usageAtKill?: number;
  /** How long before the kill the usage sample was taken (seconds), when it came from metrics. */
  usageSampleAgeSeconds?: number;
  usageNow?: { bytes: number; afterSeconds?: number; source: string };
  caps: Caps;
  owner?: OwnerChain;
  podGone: boolean;
}
