/**
 * Shapes shared by the simulated cluster. Objects are stored as plain JSON, exactly as the API server
 * would serialise them (timestamps are RFC 3339 strings), so they are typed loosely.
 */

/** Arbitrary JSON value of a Kubernetes object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: Json;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A stored object. Stored objects never carry kind/apiVersion (list items do not either). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: Json;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, as kept in the per-resource history and passed to subscribers. */
export interface Change {
  resource: string;
  type: ChangeType;
  rv: number;
  object: KubeObject;
  /** The object before the write (MODIFIED and DELETED). */
  previous?: KubeObject;
}

export type ChangeListener = (change: Change) => void;

/** One HTTP request as the simulated API server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  accept?: string;
  body?: string;
  at: number;
  /** The HTTP status answered, once answered (none for a watch still open, or a connection reset). */
  status?: number;
  /** Set when an interceptor reset the connection: `committed` tells whether the request took effect. */
  reset?: { committed: boolean };
}
