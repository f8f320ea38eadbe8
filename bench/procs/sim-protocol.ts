/** Messages between a benchmark and its simulated-cluster child process (procs/sim-server.ts). */

/** A container to OOM-kill: the only container of a Deployment's pod. */
export interface KillTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface KillRecord extends KillTarget {
  /** Epoch ms at which the kill was written to the simulated cluster. */
  at: number;
}

export type SimCommand =
  /** Update `count` pod statuses (a Ready condition's probe time) as fast as possible. */
  | { cmd: 'churn'; count: number }
  /** Add Deployments `app-0` … `app-(n-1)` of one pod each (or `replicas`) to each namespace; one target per pod. */
  | { cmd: 'workloads'; namespaces: string[]; perNamespace: number; replicas?: number }
  /** OOM-kill the targets in order at a steady rate (each container restarts at once). */
  | { cmd: 'kill'; targets: KillTarget[]; perSecond: number }
  /** Tally the API calls made (and CPU used) since the last `calls`, or the start. */
  | { cmd: 'calls' };

export interface SimReady {
  ready: true;
  /** The API server, http://127.0.0.1:<port>. */
  url: string;
  kubeconfig: string;
  pods: number;
  nodes: number;
}

export interface SimChurned {
  churned: number;
  ms: number;
}

export interface SimWorkloads {
  workloads: KillTarget[];
}

export interface SimKilled {
  killed: KillRecord[];
  /** How far the kills fell behind their schedule at worst (ms): the load generator's own lag. */
  maxLagMs: number;
}

export interface SimCalls {
  /** Calls by kind (see classify-kube-call.ts); list and watch calls of the watcher included. */
  calls: Record<string, number>;
  /** CPU time the simulated cluster's process used over the same span (ms). */
  cpuMs: number;
}
