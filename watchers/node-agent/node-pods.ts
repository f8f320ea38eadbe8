import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { EventEmitter } from 'node:events';
import type { PodRef } from '../../core/incident.js';
import type { KubeHttp } from '../../core/kube.js';
import type { Logger } from '../../core/logger.js';
import { bareContainerId } from '../../kernel/index.js';
import { toPodRef } from '../detect/to-pod-ref.js';
import { ListWatch } from '../list-watch.js';

/** A container of a pod on this node, by one of its container ids. */
export interface ContainerOnNode {
  pod: PodRef;
  container: string;
  /** The id belongs to a run that ended: how. */
  ended?: { reason?: string; exitCode?: number; finishedAt?: string };
}

interface Indexed {
  ref: PodRef;
  /** Container ids (64 hex) of the pod's current and last runs. */
  ids: Map<string, { container: string; ended?: ContainerOnNode['ended'] }>;
}

/**
 * The pods on one node, by pod uid and container id: a list+watch with `fieldSelector=spec.nodeName=<node>`
 * (the API server indexes it), of every namespace or, with WATCH_NAMESPACES, of each watched one. Only the pod's identity and its containers' ids are kept (current run and
 * last one), so a node's hundred pods cost a few kilobytes.
 */
export class NodePods {
  /** Pods by uid, one map per list+watch (all namespaces, or one per watched namespace). */
  private readonly parts: Map<string, Indexed>[] = [];
  private readonly byId = new Map<string, Indexed>();
  private readonly byUid = new Map<string, Indexed>();
  private readonly changes = new EventEmitter();
  private readonly watches: ListWatch<V1Pod>[] = [];

  constructor(opts: { kube: KubeHttp; node: string; namespaces: readonly string[]; log: Logger; silenceMs: number }) {
    this.changes.setMaxListeners(0);
    const paths = opts.namespaces.length > 0 ? opts.namespaces.map((ns) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`) : ['/api/v1/pods'];
    for (const path of paths) {
      const part = new Map<string, Indexed>();
      let next: Map<string, Indexed> | undefined;
      this.parts.push(part);
      this.watches.push(
        new ListWatch<V1Pod>({
          kube: opts.kube,
          path,
          resource: 'pods',
          selectors: { fieldSelector: `spec.nodeName=${opts.node}` },
          log: opts.log,
          silenceMs: opts.silenceMs,
          handlers: {
            onList: (items, page) => {
              if (page.first) next = new Map();
              for (const pod of items) {
                const indexed = index(pod);
                if (indexed) next!.set(indexed.ref.uid, indexed);
              }
              if (page.last && next) {
                part.clear();
                for (const [uid, pod] of next) part.set(uid, pod);
                next = undefined;
                this.reindex();
              }
            },
            onEvent: (type, pod) => {
              const indexed = index(pod);
              if (!indexed) return;
              if (type === 'DELETED') part.delete(indexed.ref.uid);
              else part.set(indexed.ref.uid, indexed);
              this.reindex();
            },
          },
        }),
      );
    }
  }

  get synced(): boolean {
    return this.watches.every((w) => w.synced);
  }

  get size(): number {
    return this.byUid.size;
  }

  start(): void {
    for (const w of this.watches) w.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
    this.changes.emit('change');
  }

  /** The pod and container a container id belongs to, as known now. */
  byContainerId(id: string): ContainerOnNode | undefined {
    const pod = this.byId.get(id);
    const c = pod?.ids.get(id);
    if (!pod || !c) return undefined;
    return { pod: pod.ref, container: c.container, ...(c.ended ? { ended: c.ended } : {}) };
  }

  byPodUid(uid: string): PodRef | undefined {
    return this.byUid.get(uid)?.ref;
  }

  /** Waits until `test` gives an answer (checked now and on every change) or `ms` pass. */
  async waitFor<T>(test: () => T | undefined, ms: number, signal?: AbortSignal): Promise<T | undefined> {
    const now = test();
    if (now !== undefined || ms <= 0) return now;
    return new Promise<T | undefined>((resolve) => {
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        this.changes.off('change', check);
        signal?.removeEventListener('abort', abort);
        resolve(value);
      };
      const check = () => {
        const value = test();
        if (value !== undefined) done(value);
      };
      const abort = () => done(test());
      const timer = setTimeout(() => done(test()), ms);
      this.changes.on('change', check);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  private reindex(): void {
    this.byId.clear();
    this.byUid.clear();
    for (const part of this.parts) {
      for (const [uid, pod] of part) {
        this.byUid.set(uid, pod);
        for (const id of pod.ids.keys()) this.byId.set(id, pod);
      }
    }
    this.changes.emit('change');
  }
}

function index(pod: V1Pod): Indexed | undefined {
  const ref = toPodRef(pod);
  if (ref.uid === '' || ref.namespace === '' || ref.name === '') return undefined;
  const ids: Indexed['ids'] = new Map();
  const status = pod.status;
  const all: V1ContainerStatus[] = [
    ...(Array.isArray(status?.containerStatuses) ? status.containerStatuses : []),
    ...(Array.isArray(status?.initContainerStatuses) ? status.initContainerStatuses : []),
    ...(Array.isArray(status?.ephemeralContainerStatuses) ? status.ephemeralContainerStatuses : []),
  ];
  for (const cs of all) {
    if (typeof cs?.name !== 'string') continue;
    const last = cs.lastState?.terminated;
    const lastId = bareContainerId(last?.containerID);
    if (lastId) ids.set(lastId, { container: cs.name, ended: ended(last) });
    const current = bareContainerId(cs.containerID) ?? bareContainerId(cs.state?.terminated?.containerID);
    if (current && !ids.has(current)) ids.set(current, { container: cs.name, ...(cs.state?.terminated ? { ended: ended(cs.state.terminated) } : {}) });
  }
  return { ref, ids };
}

function ended(t: NonNullable<V1ContainerStatus['lastState']>['terminated']): ContainerOnNode['ended'] {
  const finishedAt = t?.finishedAt as unknown;
  return {
    reason: typeof t?.reason === 'string' ? t.reason : undefined,
    exitCode: typeof t?.exitCode === 'number' ? t.exitCode : undefined,
    finishedAt: finishedAt instanceof Date ? finishedAt.toISOString() : typeof finishedAt === 'string' ? finishedAt : undefined,
  };
}
