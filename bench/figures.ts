/** What each benchmark measures: the report and the plot are rendered from these alone. */

export interface WatcherFigures {
  pods: number;
  /** `download`: the same paged list only downloaded and parsed, nothing kept: the floor of a sync. */
  mode: 'oombot' | 'naive' | 'download';
  syncMs: number;
  rssBytes: number;
  heapBytes: number;
  /** V8 heap committed, used or not (RSS beyond it is code, native memory and the allocator's). */
  heapTotalBytes?: number;
  externalBytes?: number;
  /** Pod status updates taken in per second (not measured for `download`). */
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
  /** Channels (one per namespace) the incidents were spread over. */
  channels: number;
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
  /** Every Web API call by method, 429s included. */
  callsByMethod: Record<string, number>;
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
  /**
   * Repeats listed word for word: in the first messages (those that came before they went out) and in
   * thread replies (those that brought a new node, container, cause or image). The others are counted
   * in the alert only.
   */
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

export interface ReadsPhase {
  incidents: number;
  /** Reads the simulated API server recorded, per incident. */
  readsPerIncident: number;
  /** The same by kind (classify-kube-call.ts). */
  byKind: Record<string, number>;
  /** Calls each incident's worker counted (cluster reads made for it, cached ones not counted). */
  spread: Spread;
}

export interface ReadsFigures {
  workloads: number;
  backgroundPods: number;
  first: ReadsPhase;
  repeat: ReadsPhase;
}

export interface BotMemoryFigures {
  pods: number;
  command: 'top' | 'why';
  /** Commands sent at once. */
  inFlight: number;
  rssBeforeBytes: number;
  /** Highest RSS while they ran over RSS before, divided by the commands. */
  rssGrowthPerCommandBytes: number;
  heapGrowthPerCommandBytes: number;
  /** Until every one was answered. */
  seconds: number;
  answered: number;
}

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface HeadOfLineFigures {
  stormDeployments: number;
  /** Pods of each storming Deployment, spread over the nodes. */
  replicas: number;
  stormKills: number;
  stormSeconds: number;
  /** Unrelated Deployments killed once each during the storm, in the same channel. */
  unrelated: number;
  /** Of those, how many alerts reached Slack. */
  delivered: number;
  /** Time from kill to alert in Slack of unrelated kills in the quiet channel before the storm (the baseline). */
  quiet: Percentiles;
  /** The same during the storm. */
  storm: Percentiles;
  /** Slack calls the storm made meanwhile. */
  stormAlerts: number;
  stormUpdates: number;
  stormThreadReplies: number;
  rateLimited: number;
}

export interface BenchResults {
  reads?: ReadsFigures;
  bot?: BotMemoryFigures[];
  sampler?: SamplerFigures[];
  watcher?: WatcherFigures[];
  latency?: LatencyFigures[];
  storm?: StormFigures;
  headOfLine?: HeadOfLineFigures;
  /** Alert latency at scale (many channels), beside the latency benchmark's rate in the same run. */
  scale?: LatencyFigures[];
  /** One hub over many clusters' agents, beside one cluster's agent at the same rate per cluster. */
  clusters?: ClustersFigures[];
}

/** Many clusters into one hub: each cluster's agent watches it and answers the hub's reads. */
export interface ClustersFigures {
  clusters: number;
  /** Pods in each cluster besides the workloads that are killed. */
  podsPerCluster: number;
  /** Kills per second in each cluster. */
  ratePerCluster: number;
  seconds: number;
  incidents: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of the hub's process (worker and bot, no cluster credentials) per incident, and its share of one core over the run. */
  hubCpuMsPerIncident: number;
  hubCpuShare: number;
  hubRssBytes: number;
  /** Kubernetes API calls per incident, made by the agents for the hub, all clusters together. */
  kubeCallsPerIncident: number;
  maxKillLagMs: number;
}
