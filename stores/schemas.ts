/**
 * What a record read from Redis must look like before oombot acts on it. Redis is a trust boundary: a
 * record that does not fit is refused (and logged by its store), never half-used.
 */
import { z } from 'zod';

/** A Kubernetes object or container name (DNS-1123 subdomain or label). */
const kubeName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
/** A memory quantity as Kubernetes writes it, or "none" (an undo back to no value). */
const quantity = z.string().regex(/^(none|\d+(\.\d+)?([EPTGMK]i?|[mkMGTPE]|e\d+)?)$/);
const bytes = z.number().finite().nonnegative();
const text = (max: number) => z.string().max(max);
const isoTime = z
  .string()
  .max(40)
  .refine((s) => Number.isFinite(Date.parse(s)), 'not a time');

const proposalBase = {
  container: kubeName,
  owner: z.object({
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'ReplicaSet', 'ReplicationController', 'Job', 'Pod']),
    name: kubeName,
    namespace: kubeName,
  }),
  fromRequest: quantity.optional(),
  toRequest: quantity.optional(),
  fromRequestBytes: bytes.optional(),
  toRequestBytes: bytes.optional(),
  reason: text(2000),
  cappedBy: z.enum(['policy', 'node', 'limit-range']).optional(),
  managedBy: z.object({ tool: z.enum(['argocd', 'flux', 'helm']), name: text(253).optional() }).optional(),
  revertWarning: text(2000).optional(),
  requestNote: text(2000).optional(),
};

export const ProposalSchema = z.discriminatedUnion('target', [
  z.object({
    ...proposalBase,
    target: z.literal('limit'),
    scope: z.literal('pod').optional(),
    fromLimit: quantity,
    toLimit: quantity,
    fromLimitBytes: bytes,
    toLimitBytes: bytes,
  }),
  z.object({ ...proposalBase, target: z.literal('request'), toRequest: quantity, toRequestBytes: bytes }),
]);

export const StoredProposalSchema = z.object({
  id: z.string().regex(/^p_[A-Za-z0-9_-]{22}$/),
  incidentId: text(200),
  cluster: text(253),
  proposal: ProposalSchema,
  createdAt: isoTime,
  expiresAt: isoTime,
  channel: text(40).optional(),
  ts: text(40).optional(),
  group: text(1000).optional(),
});

export const SnoozeSchema = z.object({ until: isoTime, by: text(40) });

/** A kernel OOM kill as the node agent reported it (process-oom incidents and their history). */
const ProcessOomSchema = z.looseObject({
  node: z.string().min(1).max(253),
  container: z.string().max(253).optional(),
  containerId: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  process: z.string().max(64),
  pid: z.number().int().nonnegative(),
  constraint: z.enum(['memcg', 'global', 'cpuset', 'mempolicy']),
  bootId: z.string().max(64),
  seq: z.number().int().nonnegative(),
});

/** A workload's change between two revisions, or `none` (its first revision, or nothing to say). */
export const WorkloadChangeSchema = z.union([
  z.object({ none: z.literal(true) }),
  z.object({
    sourceKind: z.enum(['ReplicaSet', 'ControllerRevision']),
    sourceName: kubeName,
    revision: z.number().int().nonnegative(),
    previousRevision: z.number().int().nonnegative(),
    at: isoTime,
    by: z.object({ manager: text(128), operation: text(20) }).optional(),
    changes: z
      .array(
        z.object({
          container: kubeName.optional(),
          field: z.enum(['image', 'memory limit', 'memory request', 'env', 'command', 'args', 'added', 'removed']),
          from: text(600).optional(),
          to: text(600).optional(),
          fromBytes: bytes.optional(),
          toBytes: bytes.optional(),
        }),
      )
      .max(50),
  }),
]);

export const HistoryRecordSchema = z.looseObject({
  id: text(200),
  kind: text(40),
  cluster: text(253),
  namespace: text(253).optional(),
  pod: text(253).optional(),
  workload: text(600).optional(),
  occurredAt: isoTime,
  alert: z.object({ channel: text(40), ts: text(40), group: text(1000).optional() }).optional(),
  processOom: ProcessOomSchema.optional(),
});

/** What a repeat can bring that its alert has not shown (alert-groups.ts): each kind a facet. */
export const FACET_KINDS = ['node', 'container', 'process', 'cause', 'image'] as const;
export type FacetKind = (typeof FACET_KINDS)[number];

/** What a repeat is about, compared with what its alert already showed (alert-groups.ts). */
export const RepeatFacetsSchema = z.object({
  node: text(300).optional(),
  container: text(300).optional(),
  /** The process the kernel killed (process-oom incidents from the node agent). */
  process: text(64).optional(),
  cause: text(100).optional(),
  image: text(600).optional(),
});
export const RepeatNoteSchema = z.object({ incidentId: text(200), at: text(60), line: text(2000), facets: RepeatFacetsSchema.optional() });
/** A repeat that brought something new, shown on its alert (see handlers/publisher.ts). */
export const RepeatNewsSchema = z.object({
  note: RepeatNoteSchema,
  news: z.array(z.object({ kind: z.enum(FACET_KINDS), value: text(600) })).max(FACET_KINDS.length),
});
/** The facets an alert and its thread showed so far, by kind. */
export const SeenFacetsSchema = z.object({
  node: z.array(text(300)).max(100).optional(),
  container: z.array(text(300)).max(100).optional(),
  process: z.array(text(64)).max(100).optional(),
  cause: z.array(text(100)).max(100).optional(),
  image: z.array(text(600)).max(100).optional(),
});

/** A change shown on an alert: its audit line, and the Undo button (one of ours, carrying a proposal id). */
export const AlertChangeSchema = z.object({
  id: text(100),
  text: text(3000),
  undo: z
    .looseObject({
      type: z.literal('button'),
      action_id: z.literal('oom_undo'),
      value: z.string().regex(/^p_[A-Za-z0-9_-]{22}$/),
    })
    .optional(),
});

/** At most this many events travel with a job (the watcher keeps fewer). */
const MAX_OBSERVED_EVENTS = 64;

/**
 * A queued job's incident, as far as the worker relies on it to read the cluster: its identity and the
 * pod or node it names. Details the diagnosis reads defensively pass through unchanged.
 */
export const IncidentSchema = z.looseObject({
  v: z.literal(1),
  id: z.string().min(1).max(200),
  kind: z.enum(['container-oom', 'child-oom', 'sigkill', 'evicted', 'disruption', 'node-oom', 'process-oom']),
  cluster: text(253),
  occurredAt: isoTime,
  detectedAt: isoTime,
  // Names as the API server sent them (escaped wherever they are shown): bounded, not pattern-checked,
  // so that an odd name from a proxy or a future field still gets its alert.
  pod: z.looseObject({ namespace: z.string().min(1).max(253), name: z.string().min(1).max(253), uid: text(64) }).optional(),
  nodeOom: z.looseObject({ node: z.string().min(1).max(253) }).optional(),
  // The pod and events as the watcher saw them: read defensively by enrichment, like an API answer.
  observed: z
    .looseObject({
      pod: z.looseObject({ metadata: z.looseObject({ uid: text(64) }) }).optional(),
      events: z.array(z.looseObject({})).max(MAX_OBSERVED_EVENTS).optional(),
    })
    .optional(),
  processOom: ProcessOomSchema.optional(),
});

/** A queued near-limit warning (core/near-limit.ts), refused whole when it does not fit. */
export const NearLimitJobSchema = z.object({
  v: z.literal(1),
  cluster: text(253),
  namespace: z.string().min(1).max(253),
  pod: z.string().min(1).max(253),
  container: z.string().min(1).max(253),
  workload: z.string().min(1).max(600),
  state: z.enum(['rising', 'resolved']),
  at: isoTime,
  workingSetBytes: bytes,
  limitBytes: z.number().finite().positive(),
  etaSeconds: bytes.optional(),
});

/**
 * A parsed record, or undefined with the reason when it does not fit `schema`. Strict parsing: unknown keys
 * of closed objects are dropped, never passed on.
 */
export function check<T>(schema: z.ZodType<T>, value: unknown): { ok: true; value: T } | { ok: false; reason: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}` };
}

/** JSON text checked against `schema`. */
export function parseChecked<T>(schema: z.ZodType<T>, raw: string): { ok: true; value: T } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return check(schema, value);
}

export const FIX_STATES = ['applied', 'rolling-out', 'rolled-out', 'stuck', 'held', 'killed-again', 'reverted', 'undone'] as const;

/** A raise applied from Slack, followed until it held, failed or was reverted (stores/fix-store.ts). */
export const FixRecordSchema = z.object({
  id: z.string().regex(/^f_[A-Za-z0-9_-]{22}$/),
  rev: z.number().int().nonnegative(),
  cluster: text(253),
  workloadKey: text(1000),
  owner: z.object({ kind: z.string().regex(/^[A-Za-z]{1,40}$/), name: kubeName, namespace: kubeName }),
  uid: text(64).optional(),
  container: kubeName,
  target: z.enum(['limit', 'request']),
  from: quantity.optional(),
  to: quantity,
  toBytes: bytes,
  fromRequest: quantity.optional(),
  toRequest: quantity.optional(),
  // Shown as a mention: a Slack user id only, never text that could become another mention or a link.
  by: z.object({ id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/), name: text(200).optional() }),
  appliedAt: isoTime,
  incidentId: text(200),
  proposalId: z.string().regex(/^p_[A-Za-z0-9_-]{22}$/),
  undoProposalId: z
    .string()
    .regex(/^p_[A-Za-z0-9_-]{22}$/)
    .optional(),
  alert: z.object({ channel: text(40), ts: text(40), group: text(1000).optional() }).optional(),
  state: z.enum(FIX_STATES),
  /** Why a rollout is stuck, or who reverted it, in words (escaped when shown). */
  detail: text(2000).optional(),
  /** Rollout progress as last seen: pods on the new value, of how many. */
  progress: z.object({ updated: z.number().int().nonnegative(), total: z.number().int().nonnegative() }).optional(),
  /** A note on when the value takes effect, posted once (OnDelete, CronJob, bare ReplicaSet). */
  noted: z.boolean().optional(),
  rolledOutAt: isoTime.optional(),
  verifyUntil: isoTime.optional(),
  transitions: z.array(z.object({ state: z.enum(FIX_STATES), at: isoTime, detail: text(2000).optional() })).max(30),
});
