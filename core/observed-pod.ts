/**
 * The pod as the watcher saw it, trimmed to what enrichment reads, and the events it saw for the pod:
 * carried in the queued job so the worker need not read them again. Never an env value or a
 * command-line secret: of command, args and the runtime option variables only the tokens that look
 * like a memory flag are kept (the diagnosis parses them strictly), of GOMEMLIMIT and
 * DOTNET_GCHeapHardLimit the value only when it is exactly a size, of every other env var its name.
 */
import type { CoreV1Event, V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { sizeVarKind, strictRuntimeSize } from './runtime-size.js';

export interface Observed {
  /** The pod at the moment its incident was detected (trimmed). */
  pod?: V1Pod;
  /** Events of the pod and SystemOOM events of its node the watcher saw recently (trimmed). */
  events?: CoreV1Event[];
}

/** Env vars whose value holds runtime flags; only their memory flags are kept. */
const OPTION_VARS = new Set(['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'JAVA_OPTS', 'NODE_OPTIONS']);
/** A whole token that is a memory flag (once quotes and shell separators at its edges are dropped). */
const MEMORY_TOKEN =
  /^(-Xm[xs]\d{1,13}[kKmMgGtT]?|-XX:MaxRAM=\d{1,16}[kKmMgGtT]?|-XX:MaxRAMPercentage=\d{1,3}(\.\d{1,4})?|-XX:[+-]UseContainerSupport|--max[-_]old[-_]space[-_]size(=\d{1,9})?|(-d)?memory_limit=(-1|\d{1,13}[kKmMgG]?))$/;
const DIGITS = /^\d{1,9}$/;
/** Annotations that say who manages the pod (ids, not secrets). */
const KEPT_ANNOTATIONS = ['argocd.argoproj.io/tracking-id', 'meta.helm.sh/release-name'];
const MESSAGE_MAX = 1_024;

function memoryTokens(texts: unknown): string[] | undefined {
  if (!Array.isArray(texts)) return undefined;
  // One token list across the elements, as the diagnosis reads them (`["--max-old-space-size", "4096"]`).
  const tokens = texts
    .filter((t): t is string => typeof t === 'string')
    .flatMap((t) => t.split(/\s+/))
    .map((t) => t.replace(/^["'(]+|["';&|)]+$/g, ''))
    .filter((t) => t !== '');
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (!MEMORY_TOKEN.test(t)) continue;
    const next = tokens[i + 1];
    out.push(/max[-_]old[-_]space[-_]size$/.test(t) && next !== undefined && DIGITS.test(next) ? `${t} ${next}` : t);
  }
  return out;
}

function trimEnv(env: unknown): V1EnvVar[] | undefined {
  if (!Array.isArray(env)) return undefined;
  return env
    .filter((e): e is V1EnvVar => typeof e?.name === 'string')
    .map((e) => {
      const size = sizeVarKind(e.name);
      if (size && typeof e.value === 'string') {
        // A heap size only when the whole value is one, rebuilt from its parts.
        const parsed = strictRuntimeSize(size, e.value);
        return parsed ? { name: e.name, value: parsed.text } : { name: e.name };
      }
      if (!OPTION_VARS.has(e.name) || typeof e.value !== 'string') return { name: e.name };
      return { name: e.name, value: (memoryTokens([e.value]) ?? []).join(' ') };
    });
}

function trimContainer(c: V1Container): V1Container {
  const out: V1Container = { name: c.name };
  if (c.image !== undefined) out.image = c.image;
  if (c.resources) out.resources = { limits: c.resources.limits, requests: c.resources.requests };
  const command = memoryTokens(c.command);
  if (command?.length) out.command = command;
  const args = memoryTokens(c.args);
  if (args?.length) out.args = args;
  const env = trimEnv(c.env);
  if (env?.length) out.env = env;
  const p = c.livenessProbe;
  if (p) {
    out.livenessProbe = {
      periodSeconds: p.periodSeconds,
      timeoutSeconds: p.timeoutSeconds,
      failureThreshold: p.failureThreshold,
      initialDelaySeconds: p.initialDelaySeconds,
    };
  }
  return out;
}

/** A string field, trimmed; anything else (a broken object) is left out. */
function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, MESSAGE_MAX) : undefined;
}

function list<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v.filter((x) => typeof x === 'object' && x !== null) : [];
}

function pick(map: Record<string, string> | undefined, keys: string[]): Record<string, string> | undefined {
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) if (typeof map[k] === 'string') out[k] = map[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The pod with only the fields enrichment reads (spec, statuses, owner, a few labels and annotations). */
export function trimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const spec = pod.spec;
  const status = pod.status;
  const podResources = (spec as { resources?: unknown } | undefined)?.resources;
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      labels: m.labels,
      annotations: pick(m.annotations, KEPT_ANNOTATIONS),
      ownerReferences: list(m.ownerReferences).map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, controller: o.controller })),
      creationTimestamp: m.creationTimestamp,
    },
    spec: spec && {
      nodeName: spec.nodeName,
      priority: spec.priority,
      priorityClassName: spec.priorityClassName,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      ...(typeof podResources === 'object' && podResources !== null ? { resources: podResources } : {}),
      containers: list(spec.containers).map(trimContainer),
      ...(spec.initContainers ? { initContainers: list(spec.initContainers).map(trimContainer) } : {}),
    },
    status: status && {
      phase: status.phase,
      reason: status.reason,
      message: text(status.message),
      qosClass: status.qosClass,
      startTime: status.startTime,
      containerStatuses: status.containerStatuses,
      initContainerStatuses: status.initContainerStatuses,
    },
  } as V1Pod;
}

/** The fields of an event enrichment reads. */
export function trimEvent(e: CoreV1Event): CoreV1Event {
  return {
    metadata: { name: e.metadata?.name, namespace: e.metadata?.namespace, creationTimestamp: e.metadata?.creationTimestamp },
    involvedObject: { uid: e.involvedObject?.uid, fieldPath: e.involvedObject?.fieldPath, name: e.involvedObject?.name, kind: e.involvedObject?.kind },
    reason: e.reason,
    message: text(e.message),
    type: e.type,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    series: e.series,
    source: typeof e.source?.component === 'string' ? { component: e.source.component } : undefined,
    reportingComponent: e.reportingComponent,
  } as CoreV1Event;
}
