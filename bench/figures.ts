/** What each benchmark measures: the report and the plot are rendered from these alone. */

export interface WatcherFigures {
  pods: number;
  mode: 'oombot' | 'naive';
  syncMs: number;
  rssBytes: number;
  heapBytes: number;
  eventsPerSecond: number;
}

export interface Spread {
  min: number;
  avg: number;
  max: number;
}

export interface LatencyFigures {
  /** Pods in the cluster besides the workloads that are killed. */
  backgroundPods: number;
  /** All pods the watcher lists and watches. */
  clusterPods: number;
  rate: number;
  seconds: number;
  incidents: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Kubernetes API calls the worker made per incident. */
  kubeCalls: Spread;
  /** Average calls per incident by kind (classify-kube-call.ts). */
  kubeCallsByKind: Record<string, number>;
  /**
   * CPU time per incident: of the process running oombot (with the Slack-compatible server and the
   * benchmark's bookkeeping), and of the simulated API server's process.
   */
  cpuMsPerIncident: { oombot: number; apiServer: number };
  /** Worst lag of the kill schedule itself (the load generator falling behind). */
  maxKillLagMs: number;
}

export interface StormFigures {
  kills: number;
  deployments: number;
  windowSeconds: number;
  backgroundPods: number;
  /** Every Web API call oombot made, 429s included. */
  slackCalls: number;
  /** Successful top-level chat.postMessage calls: one per Deployment when nothing is duplicated. */
  posts: number;
  threadReplies: number;
  updates: number;
  rateLimited: number;
  rateLimitedByMethod: Record<string, number>;
  /** From the first kill to the last Slack call that changed a message. */
  drainSeconds: number;
  /** One message per Deployment at Slack's 1 message/s per channel. */
  floorSeconds: number;
  /** Kills not counted by any message in Slack (sum over Deployments of expected minus shown). */
  lost: number;
  /** Deployments whose message shows another count than their kills (too few or too many). */
  wrongCounts: string[];
  /** Deployments with more than one top-level message. */
  duplicated: string[];
  /** Repeats the thread replies account for ("N more incidents"); kills minus Deployments when none is missing. */
  threadRepeats: number;
  kubeCalls: Spread;
  kubeCallsTotal: number;
  /** Highest number of open file descriptors of the oombot process while the storm ran (Linux). */
  peakOpenFiles?: number;
  /** Highest number of connections from the oombot process to the API server at once (Linux). */
  peakApiConnections?: number;
  /** Warning and error lines oombot logged, by message. */
  problems: Record<string, number>;
}

/** The memory sampler at one cluster size (bench/sampler.ts). */
export interface SamplerFigures {
  pods: number;
  /** Containers with a memory limit sampled per round. */
  containers: number;
  /** The first round also lists the pods for their limits. */
  firstRound: { apiCalls: number; cpuMs: number; wallMs: number };
  /** Average of the rounds after it. */
  steadyRound: { apiCalls: number; cpuMs: number; wallMs: number };
  /** Redis bytes (MEMORY USAGE) of the history after the rounds ran. */
  redisBytesAfterRounds: number;
  /** Redis bytes per container with its history full (240 + 240 points). */
  redisBytesPerContainerFull: number;
  redisBytesPer10kFull: number;
}

export interface BenchResults {
  sampler?: SamplerFigures[];
  watcher?: WatcherFigures[];
  latency?: LatencyFigures[];
  storm?: StormFigures;
}
