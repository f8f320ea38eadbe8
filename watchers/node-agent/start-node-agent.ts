import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/config.js';
import type { ClusterRoleDeps } from '../../core/role.js';
import { IncidentSink } from '../incident-sink.js';
import { NodeAgent } from './node-agent.js';

export interface NodeAgentRole {
  agent: NodeAgent;
  sink: IncidentSink;
  stop(): Promise<void>;
  readiness(): { ok: boolean; detail?: string };
}

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** The node agent role: one per node (a DaemonSet), following its kernel log. */
export async function startNodeAgentRole(deps: ClusterRoleDeps): Promise<NodeAgentRole> {
  const { config, kube, cluster, redis, queue, metrics } = deps;
  const node = config.nodeName;
  if (!node) {
    throw new ConfigError(['NODE_NAME is not set: the node agent needs the name of its node (set it from the downward API, fieldRef spec.nodeName)']);
  }
  const bootId = config.bootId ?? (await readBootId());
  const log = deps.log.child({ cluster, node });
  const sink = new IncidentSink({ queue, redis, queueName: config.queueName, dedupeTtlMs: config.dedupeTtlMs, metrics, log });
  const agent = new NodeAgent({
    kube,
    redis,
    sink,
    cluster,
    node,
    bootId,
    kmsgPath: config.kmsgPath,
    queueName: config.queueName,
    namespaces: config.watchNamespaces,
    log,
    metrics,
    silenceMs: config.watchSilenceMs,
    lookbackMs: config.lookbackMs,
    keepMs: config.dedupeTtlMs,
  });
  await agent.start();
  log.info({ kmsg: config.kmsgPath, bootId }, 'following the kernel log for OOM kills');
  return {
    agent,
    sink,
    readiness: () => agent.readiness(),
    async stop() {
      await agent.stop();
      const left = sink.close();
      if (left.length > 0) log.warn({ count: left.length }, 'kernel OOM kills not yet queued at shutdown: they are read again on the next start');
    },
  };
}

async function readBootId(): Promise<string> {
  try {
    const id = (await readFile(BOOT_ID_FILE, 'utf8')).trim();
    if (/^[A-Za-z0-9-]{1,64}$/.test(id)) return id;
  } catch {
    // said below
  }
  throw new ConfigError([`cannot read the node's boot id from ${BOOT_ID_FILE}: set OOMBOT_BOOT_ID`]);
}
