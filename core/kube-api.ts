/**
 * What the worker and the bot need of one cluster's API server. `KubeHttp` (core/kube.ts) answers it
 * with the process's own kubeconfig; a hub without cluster credentials answers it through the cluster's
 * agent over Redis (core/agent-link.ts). Objects come back as the API server sent them.
 */
import type { Query } from './kube.js';

export interface SendOptions {
  contentType?: string;
  query?: Query;
  signal?: AbortSignal;
  /**
   * The stored fix proposal this write carries out, and the claim that holds it while it is applied.
   * A cluster's agent executes a write only for a proposal it can open (sealed by the hub), claimed at
   * that moment, of its own cluster, on the proposal's own object; the local client ignores it.
   */
  proposal?: { id: string; claim: string };
}

export interface KubeApi {
  /** Every call gives up after this long. */
  readonly timeoutMs: number;
  getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  /** One object's metadata only (a PartialObjectMetadata). */
  getMetadata<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** A collection a page at a time (`limit` and `continue`). */
  listPages<T>(path: string, query?: Query, pageSize?: number, signal?: AbortSignal): AsyncGenerator<T[]>;
  /** Every item of a collection to `each`, page by page. */
  eachListItem<T>(path: string, query: Query, each: (item: T) => void, pageSize?: number, signal?: AbortSignal): Promise<void>;
  /** One page of a collection, each item to `each`; the `continue` of the next page, if any. */
  listPage<T>(path: string, query: Query, each: (item: T) => void, pageSize?: number, signal?: AbortSignal): Promise<{ continue?: string }>;
  getText(path: string, query?: Query): Promise<string>;
  send<T>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body: unknown, opts?: SendOptions): Promise<T>;
}
