import { channelFor, type Config } from '../core/config.js';
import type { ClusterDirectory } from '../core/clusters.js';
import type { Logger } from '../core/logger.js';
import { INCIDENT_VERSION, describeSubject, type Incident } from '../core/incident.js';
import { OombotError, errorMessage } from '../core/errors.js';
import { ProposalStore } from '../stores/proposal-store.js';
import type { SnoozeStore } from '../stores/snooze-store.js';
import { historyBase, IncidentHistory, type HistoryRecord } from '../stores/incident-history.js';
import type { ClusterCache, ClusterCaches } from '../investigate/gather.js';
import { outOfReachText, reachCluster, scopedTo } from '../investigate/reach-cluster.js';
import type { ChangeCache } from '../stores/change-cache.js';
import type { ScaleEvents } from '../core/scale-events.js';
import { check, IncidentSchema } from '../stores/schemas.js';
import { cachedWorkloadOf, investigate } from '../investigate/investigate.js';
import type { NodeSumsSource } from '../investigate/gather.js';
import type { Diagnosis } from '../diagnosis/diagnosis.js';
import { buildMessage, type MessageModel } from '../alert/message.js';
import { ACTION_RAISE_LIMIT } from '../alert/action-ids.js';
import { escapeMrkdwn } from '../core/text-safety.js';
import { isPodPresent, type EnrichedIncident } from '../diagnosis/enriched.js';
import type { Publisher, PublishResult } from './publisher.js';
import type { AlertRenderer } from './renderers.js';
import type { NearLimitWarnings } from '../stores/near-limit-warnings.js';
import { warnedLine } from '../alert/near-limit-message.js';
import { attachChart, type ChartDeps } from './attach-chart.js';
import type { WorkingSetHistory } from '../investigate/working-set-history.js';
import type { FixRecord, FixStore } from '../stores/fix-store.js';
import { alertStatus } from '../alert/fix-lines.js';
import type { Metrics } from '../core/metrics.js';
import { matchKillAtRaise } from './kill-at-raise.js';
import { repeatFacets } from './repeat-facets.js';

export interface ProcessDeps {
  config: Config;
  /** Every cluster this worker serves: an incident is read in the cluster it names, and only there. */
  clusters: ClusterDirectory;
  /** One read cache per cluster. */
  caches: ClusterCaches;
  history: IncidentHistory;
  nodeSums?: NodeSumsSource;
  /** Each workload revision's change, read once and shared by the workers. */
  changes?: ChangeCache;
  /** Scale events the watcher kept: a scale-down before the kills, read from Redis. */
  scaleEvents?: Pick<ScaleEvents, 'forWorkload'>;
  proposals: ProposalStore;
  snoozes: SnoozeStore;
  /** The working-set history (Prometheus or the sampler's), for the diagnosis and the chart. */
  memory?: (cluster: string) => WorkingSetHistory;
  /** Where the memory chart of a kill goes (its alert's thread); none: no chart. */
  chart?: ChartDeps;
  /** The workload's near-limit warning, linked from its OOM alert. */
  warnings?: NearLimitWarnings;
  publisher: Publisher;
  renderer: AlertRenderer;
  /**
   * Where a group's alert is once posted (AlertGroups): the proposal on the alert and the incident's
   * history record learn it, so a change applied from Slack can update that alert.
   */
  alerts?: AlertLocator;
  /** Fixes applied from Slack: a kill at a raised limit is told as such (handlers/kill-at-raise.ts). */
  fixes?: FixStore;
  metrics?: Metrics;
  /**
   * A thread reply under an earlier alert, at most once per incident: a kill at a raised limit that came
   * after that alert's window tells its thread too.
   */
  /** Shows a fix's state on its alert (the worker's follower does the same for the other states). */
  showFix?: (fix: FixRecord, text: string) => Promise<void>;
  tellThread?: (channel: string, threadTs: string, text: string, incidentId: string) => Promise<void>;
  log: Logger;
  now?: () => Date;
}

export interface AlertLocator {
  get(group: string): Promise<{ channel?: string; ts?: string; model?: string }>;
}

export interface ProcessResult {
  /** `joined`: a process kill that ended its container, named in the container's own OOMKilled alert. */
  outcome: PublishResult | 'snoozed' | 'joined';
  apiCalls: number;
  /** The workload's alert was already posted: a repeat, which reads less. */
  repeat: boolean;
  diagnosis: Diagnosis;
  model: MessageModel;
  channel: string;
  group: string;
}

/**
 * One job: read the cluster, diagnose, remember, and hand the alert to the publisher (which posts
 * the first of a workload and folds repeats into it). Safe to run twice for the same incident.
 */
export async function processIncident(incident: Incident, deps: ProcessDeps): Promise<ProcessResult> {
  // The queue is in Redis, a trust boundary: a job that is not an incident is refused, never half-read.
  const valid = check(IncidentSchema, incident);
  if (!valid.ok) {
    throw new OombotError(
      'UNKNOWN',
      `job refused: not an incident of version ${INCIDENT_VERSION} (${valid.reason}): ${JSON.stringify(incident)?.slice(0, 200)}`,
      { retryable: false },
    );
  }
  const now = deps.now?.() ?? new Date();
  const cache = deps.caches.of(incident.cluster);
  // A cluster out of reach (no agent, or its agent away) still gets its alert, from what the watcher sent.
  const reached = reachCluster(deps.clusters, incident.cluster);
  const config = await clusterConfig(deps, incident.cluster);
  const repeat = await isRepeatOfPosted(deps, cache, incident);
  const { gathered, workload, enriched, diagnosis } = await investigate({ ...deps, config, kube: reached.kube, cache }, incident, now, { repeat });
  const namespace = incident.pod?.namespace;
  const record = historyRecord(incident, enriched, diagnosis, workload);
  const workloadKey = IncidentHistory.workloadKey(incident.cluster, namespace, workload);
  const again = deps.fixes
    ? await matchKillAtRaise(
        { fixes: deps.fixes, history: deps.history, ...(deps.metrics ? { metrics: deps.metrics } : {}) },
        workloadKey,
        record,
        now.toISOString(),
      )
    : undefined;
  let proposalId: string | undefined;
  // Killed again at a raised limit: no plain second raise.
  if (diagnosis.proposal && !again) {
    const stored = await deps.proposals.createForIncident({ incidentId: incident.id, cluster: incident.cluster, proposal: diagnosis.proposal });
    proposalId = stored.id;
  }
  const model = buildMessage(enriched, diagnosis, { proposalId, approvers: deps.config.approvers.length > 0 });
  if (again) model.warnings.unshift(again.line);
  const outOfReach = reached.outOfReach();
  if (outOfReach) {
    model.warnings.unshift(`${escapeMrkdwn(outOfReachText(outOfReach))}: details from the watcher only.`);
    deps.log.warn(
      { incident: incident.id, cluster: incident.cluster, code: outOfReach.code, err: outOfReach.message },
      'cluster out of reach: alerting with what the watcher sent',
    );
  }
  const warned = incident.pod ? await deps.warnings?.get(workloadKey) : undefined;
  if (warned?.ts) model.facts.push({ label: 'Near-limit warning', value: warnedLine(warned.since, warned.peak, warned.state) });
  await deps.history.add(record);
  if (gathered.gaps.length > 0) deps.log.info({ incident: incident.id, gaps: gathered.gaps }, 'some details could not be read');

  const channel = channelFor(deps.config, namespace);
  // A kill at the raised limit is one incident with the kill that led to the raise: the same alert.
  const group = again?.fix.alert?.group ?? groupOf(incident, workloadKey, diagnosis);
  const base = { apiCalls: gathered.apiCalls, repeat, diagnosis, model, channel, group };
  if (diagnosis.joinsContainerOom) {
    deps.log.info({ incident: incident.id, subject: describeSubject(incident) }, 'the kill ended the container: its OOMKilled alert names the process');
    return { outcome: 'joined', ...base };
  }
  const snoozed = await deps.snoozes.until(workloadKey);
  if (snoozed) {
    deps.log.info({ incident: incident.id, workload: workloadKey, until: snoozed.until }, 'workload snoozed: not posting');
    return { outcome: 'snoozed', ...base };
  }
  const outcome = await deps.publisher.publish({
    group,
    incidentId: incident.id,
    occurredAt: incident.occurredAt,
    channel,
    render: (view) => deps.renderer.first(model, view),
    model: JSON.stringify(model),
    repeatLine: repeatLine(incident, diagnosis),
    facets: repeatFacets(incident, enriched, diagnosis),
  });
  deps.log.info(
    { incident: incident.id, subject: describeSubject(incident), cause: diagnosis.cause, outcome, channel, apiCalls: gathered.apiCalls, repeat },
    outcome === 'posted' ? 'alert posted' : 'incident recorded',
  );
  const at = await locateAlert(deps, group, incident.id);
  if (outcome === 'posted' && deps.chart && at) {
    await attachChart(deps.chart, incident, at, { limitBytes: record.limitBytes, previous: enriched.previousIncidents });
  }
  if (again && deps.showFix) {
    const status = alertStatus({ ...again.fix, state: 'killed-again', ...(again.leak ? { detail: 'leak likely' } : {}) });
    if (status)
      await deps
        .showFix(again.fix, status)
        .catch((err: unknown) => deps.log.info({ incident: incident.id, err: errorMessage(err) }, 'cannot show the kill at the raised limit on its alert'));
  }
  // The raised alert's thread names the raise: this kill joined that alert, or (its window had closed) it is
  // posted as a new alert and the first alert's thread learns of it too. A thread reply of its own, since a
  // repeat reaches the thread only when it brings a new node, container, cause or image.
  const first = again?.fix.alert;
  if (again && first && deps.tellThread) {
    await deps
      .tellThread(first.channel, first.ts, outcome === 'posted' ? `${again.line} It is posted as a new alert.` : again.line, incident.id)
      .catch((err: unknown) => deps.log.warn({ incident: incident.id, err: errorMessage(err) }, 'cannot tell the raised alert of the kill at its new limit'));
  }
  return { outcome, ...base };
}

/**
 * The config to read `cluster` with: without WATCH_NAMESPACES here, the namespaces its agent serves, so no
 * cluster-wide list is asked of an agent that serves only some. The directory failing to list is no reason
 * to lose the alert: the process's own config is used then.
 */
async function clusterConfig(deps: ProcessDeps, cluster: string): Promise<Config> {
  if (deps.config.watchNamespaces.length > 0) return deps.config;
  try {
    return scopedTo(
      deps.config,
      (await deps.clusters.list()).find((c) => c.name === cluster),
    );
  } catch (err) {
    deps.log.debug({ cluster, err: errorMessage(err) }, 'cannot list the clusters: reading with this process namespaces');
    return deps.config;
  }
}

/**
 * Whether the incident's workload already has its alert posted, decided before anything is read (from
 * the owner chain in the cache and the alert group): a repeat only updates that alert, so it reads less.
 */
async function isRepeatOfPosted(deps: ProcessDeps, cache: ClusterCache, incident: Incident): Promise<boolean> {
  if (!deps.alerts) return false;
  try {
    const workload = await cachedWorkloadOf(cache, incident);
    if (!workload) return false;
    const group = `${IncidentHistory.workloadKey(incident.cluster, incident.pod?.namespace, workload)}/${incident.kind}`;
    return Boolean((await deps.alerts.get(group)).ts);
  } catch {
    return false;
  }
}

/** The proposal whose button the alert shows: in the group's first message (a repeat shows the first one). */
function shownProposalId(modelJson: string | undefined): string | undefined {
  if (!modelJson) return undefined;
  try {
    const model = JSON.parse(modelJson) as Partial<MessageModel>;
    const raise = model.actions?.find((a) => a.id === ACTION_RAISE_LIMIT);
    return typeof raise?.value === 'string' && ProposalStore.isId(raise.value) ? raise.value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tells the alert's proposal and this incident's history record where the alert is. Best effort: the
 * alert is out already, and without this a change still works, only the audit may not reach the alert.
 * Returns where the alert is (undefined: not posted yet, or the group could not be read).
 */
async function locateAlert(deps: ProcessDeps, group: string, incidentId: string): Promise<{ channel: string; ts: string } | undefined> {
  if (!deps.alerts) return undefined;
  let at: { channel: string; ts: string } | undefined;
  try {
    const state = await deps.alerts.get(group);
    if (!state.channel || !state.ts) return undefined;
    at = { channel: state.channel, ts: state.ts };
    const proposalId = shownProposalId(state.model);
    await Promise.all([
      proposalId ? deps.proposals.attachMessage(proposalId, state.channel, state.ts, group) : undefined,
      deps.history.attachAlert(incidentId, state.channel, state.ts, group),
    ]);
  } catch (err) {
    deps.log.warn({ incident: incidentId, group, err: errorMessage(err) }, 'cannot record where the alert is: a change from Slack may not update it');
  }
  return at;
}

function repeatLine(incident: Incident, diagnosis: Diagnosis): string {
  const t = incident.termination;
  const when = incident.occurredAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  const p = incident.processOom;
  const inside = p?.container ? ` container \`${escapeMrkdwn(p.container)}\` process \`${escapeMrkdwn(p.process)}\` (pid ${p.pid})` : '';
  const who = incident.pod
    ? `pod \`${escapeMrkdwn(incident.pod.name)}\`${t ? ` container \`${escapeMrkdwn(t.container)}\`` : inside}`
    : `node \`${escapeMrkdwn(incident.nodeOom?.node ?? '?')}\``;
  const restarts = t ? `, restart ${t.restartCount}` : '';
  return `${when}: ${who}${restarts}: ${escapeMrkdwn(diagnosis.headline).slice(0, 300)}`;
}

function historyRecord(incident: Incident, enriched: EnrichedIncident, diagnosis: Diagnosis, workload: string | undefined): HistoryRecord {
  const t = incident.termination;
  const pod = isPodPresent(enriched.pod) ? enriched.pod : undefined;
  const container = pod?.containers.find((c) => c.name === t?.container) ?? pod?.initContainers?.find((c) => c.name === t?.container);
  const atKill = enriched.usage && t?.finishedAt && Math.abs(Date.parse(t.finishedAt) - Date.parse(enriched.usage.sampledAt)) <= 120_000;
  return {
    ...historyBase(incident, workload),
    limitBytes: container?.limits.memory?.bytes,
    usageBytes: atKill ? enriched.usage?.containerWorkingSetBytes : undefined,
    node: incident.pod?.nodeName ?? incident.nodeOom?.node ?? incident.processOom?.node,
    cause: diagnosis.cause,
    headline: diagnosis.headline,
    ...(incident.processOom ? { processOom: incident.processOom } : {}),
  };
}

/**
 * The alert group: the workload and the kind of incident; but a container the kernel killed in a node OOM
 * joins the node's own group, so that the SystemOOM and its victim make one alert, whichever came first.
 */
export function groupOf(incident: Incident, workloadKey: string, diagnosis: Diagnosis): string {
  if (diagnosis.nodeOom) return `${IncidentHistory.workloadKey(incident.cluster, undefined, `Node/${diagnosis.nodeOom.node}`)}/node-oom`;
  return `${workloadKey}/${incident.kind}`;
}
