/** A SystemOOM on a node: the kernel OOM killer ran outside any pod's limit. */
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { NODE_ADVICE, result, type Ctx } from './context.js';
import { nodeEvidence } from './evidence.js';

export function diagnoseNodeOom(ctx: Ctx): Diagnosis {
  const n = ctx.incident.nodeOom;
  const node = n?.node ?? ctx.e.node?.name ?? 'the node';
  const victim = n?.victimProcess ? `process ${n.victimProcess}${n.victimPid !== undefined ? ` (pid ${n.victimPid})` : ''}` : 'a process';
  const ne = nodeEvidence(ctx);
  const evidence: Evidence[] = [
    { text: `SystemOOM on node ${node}${n && n.count > 1 ? ` (×${n.count})` : ''}: the kernel killed ${victim} outside any pod's limit`, source: 'events' },
    ...ne.evidence,
  ];
  return result(
    ctx,
    'node-pressure',
    ne.overcommitted || ne.pressure || ne.kernelOom ? 'high' : 'medium',
    `Node ${node} ran out of memory and the kernel OOM killer killed ${victim}${ne.overcommitted ? '; the node is overcommitted' : ''}.`,
    evidence,
    NODE_ADVICE,
    { raisingIsWrongFix: 'The node ran out, not a container: raising limits adds to the overcommit.' },
  );
}
