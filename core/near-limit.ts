/**
 * The queued record of a near-limit warning: a workload's container is at or above OOMBOT_WARN_AT of
 * its memory limit and rising (or no longer is). The sampler queues it next to incidents (job name
 * NEAR_LIMIT_JOB); the worker posts, updates or resolves the workload's one warning message from it.
 * Neutral and versioned like an incident: never a Slack message.
 */
export const NEAR_LIMIT_VERSION = 1 as const;
export const NEAR_LIMIT_JOB = 'near-limit';

export interface NearLimitJob {
  v: typeof NEAR_LIMIT_VERSION;
  cluster: string;
  namespace: string;
  pod: string;
  container: string;
  /** "Deployment/api", "StatefulSet/db", "Pod/debug". */
  workload: string;
  state: 'rising' | 'resolved';
  /** When the sample was taken, ISO 8601. */
  at: string;
  workingSetBytes: number;
  limitBytes: number;
  /** Seconds to the limit at the current slope (rising only). */
  etaSeconds?: number;
}
