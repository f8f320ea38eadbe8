import type { V1Pod } from '@kubernetes/client-node';
import type { OwnerRef, PodRef } from '../../core/incident.js';
import { asArray, asInt, asString, asText, field, fieldAt, lookup, stringMap } from './read-fields.js';

/** Labels worth carrying: they name the workload and who manages it. */
const KEPT_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'app',
  'argocd.argoproj.io/instance',
  'kustomize.toolkit.fluxcd.io/name',
  'kustomize.toolkit.fluxcd.io/namespace',
  'helm.toolkit.fluxcd.io/name',
  'helm.toolkit.fluxcd.io/namespace',
  // The revision the pod was made from: its Deployment's ReplicaSet, its StatefulSet's or DaemonSet's ControllerRevision.
  'pod-template-hash',
  'controller-revision-hash',
] as const;

const MAX_NAME = 253;

/** The pod's identity and the few facts about it that say where a fix must go. */
export function toPodRef(pod: V1Pod): PodRef {
  const metadata = field(pod, 'metadata');
  const labels = stringMap(field(metadata, 'labels'));
  const annotations = stringMap(field(metadata, 'annotations'));
  const ref: PodRef = {
    namespace: short(asString(field(metadata, 'namespace'))) ?? '',
    name: short(asString(field(metadata, 'name'))) ?? '',
    uid: short(asString(field(metadata, 'uid'))) ?? '',
  };
  const nodeName = short(asText(fieldAt(pod, 'spec', 'nodeName')));
  if (nodeName !== undefined) ref.nodeName = nodeName;
  const owner = controllerOf(field(metadata, 'ownerReferences'));
  if (owner !== undefined) ref.owner = owner;
  const qosClass = short(asText(fieldAt(pod, 'status', 'qosClass')));
  if (qosClass !== undefined) ref.qosClass = qosClass;
  const phase = short(asText(fieldAt(pod, 'status', 'phase')));
  if (phase !== undefined) ref.phase = phase;
  const priority = asInt(fieldAt(pod, 'spec', 'priority'));
  if (priority !== undefined) ref.priority = priority;
  const kept = keptLabels(labels);
  if (kept !== undefined) ref.labels = kept;
  const managedBy = managedByOf(labels, annotations);
  if (managedBy !== undefined) ref.managedBy = managedBy;
  return ref;
}

function controllerOf(ownerReferences: unknown): OwnerRef | undefined {
  const owner = asArray(ownerReferences).find((candidate) => field(candidate, 'controller') === true);
  const kind = short(asText(field(owner, 'kind')));
  const name = short(asText(field(owner, 'name')));
  if (kind === undefined || name === undefined) return undefined;
  const ref: OwnerRef = { kind, name };
  const uid = short(asText(field(owner, 'uid')));
  if (uid !== undefined) ref.uid = uid;
  const apiVersion = short(asText(field(owner, 'apiVersion')));
  if (apiVersion !== undefined) ref.apiVersion = apiVersion;
  return ref;
}

function keptLabels(labels: Readonly<Record<string, string>>): Record<string, string> | undefined {
  const kept: Record<string, string> = {};
  let any = false;
  for (const key of KEPT_LABELS) {
    const value = short(lookup(labels, key));
    if (value === undefined) continue;
    kept[key] = value;
    any = true;
  }
  return any ? kept : undefined;
}

/**
 * Who reverts a change made to the workload by hand. These markers usually sit on the top-level object
 * and reach the pod only when a chart copies them into the template: absence proves nothing.
 * Order matters: Argo CD and Flux drive Helm, so they win over Helm's own markers.
 */
export function managedByOf(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): PodRef['managedBy'] {
  const trackingId = lookup(annotations, 'argocd.argoproj.io/tracking-id');
  if (trackingId !== undefined) return named('argocd', trackingId.split(':')[0]);
  const argoInstance = lookup(labels, 'argocd.argoproj.io/instance');
  if (argoInstance !== undefined) return named('argocd', argoInstance);
  const fluxKustomization = lookup(labels, 'kustomize.toolkit.fluxcd.io/name');
  if (fluxKustomization !== undefined) return named('flux', fluxKustomization);
  const fluxHelmRelease = lookup(labels, 'helm.toolkit.fluxcd.io/name');
  if (fluxHelmRelease !== undefined) return named('flux', fluxHelmRelease);
  const instance = lookup(labels, 'app.kubernetes.io/instance');
  const managedByLabel = lookup(labels, 'app.kubernetes.io/managed-by')?.toLowerCase();
  if (instance !== undefined && (managedByLabel === 'argocd' || hasArgoKey(labels) || hasArgoKey(annotations))) {
    return named('argocd', instance);
  }
  const helmRelease = lookup(annotations, 'meta.helm.sh/release-name');
  if (helmRelease !== undefined) return named('helm', helmRelease);
  if (managedByLabel === 'helm') return named('helm', instance);
  return undefined;
}

function hasArgoKey(map: Readonly<Record<string, string>>): boolean {
  return Object.keys(map).some((key) => key.startsWith('argocd.argoproj.io/'));
}

function named(tool: 'argocd' | 'flux' | 'helm', name: string | undefined): NonNullable<PodRef['managedBy']> {
  const value = short(name?.trim());
  return value === undefined || value === '' ? { tool } : { tool, name: value };
}

function short(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.slice(0, MAX_NAME);
}
