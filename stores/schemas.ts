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

export const HistoryRecordSchema = z.looseObject({
  id: text(200),
  kind: text(40),
  cluster: text(253),
  namespace: text(253).optional(),
  pod: text(253).optional(),
  workload: text(600).optional(),
  occurredAt: isoTime,
  alert: z.object({ channel: text(40), ts: text(40), group: text(1000).optional() }).optional(),
});

export const RepeatNoteSchema = z.object({ incidentId: text(200), at: text(60), line: text(2000) });

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

/**
 * A queued job's incident, as far as the worker relies on it to read the cluster: its identity and the
 * pod or node it names. Details the diagnosis reads defensively pass through unchanged.
 */
export const IncidentSchema = z.looseObject({
  v: z.literal(1),
  id: z.string().min(1).max(200),
  kind: z.enum(['container-oom', 'child-oom', 'sigkill', 'evicted', 'disruption', 'node-oom']),
  cluster: text(253),
  occurredAt: isoTime,
  detectedAt: isoTime,
  // Names as the API server sent them (escaped wherever they are shown): bounded, not pattern-checked,
  // so that an odd name from a proxy or a future field still gets its alert.
  pod: z.looseObject({ namespace: z.string().min(1).max(253), name: z.string().min(1).max(253), uid: text(64) }).optional(),
  nodeOom: z.looseObject({ node: z.string().min(1).max(253) }).optional(),
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
