/**
 * The same diagnosis the alerts use, on demand: gatherIncident → toEnriched → diagnose → buildMessage,
 * as handlers/process-incident.ts does, with a fresh server-side proposal for the Raise button.
 */
import type { Incident } from '../core/incident.js';
import { gatherIncident } from '../handlers/gather.js';
import { toEnriched } from '../handlers/enrich.js';
import { workloadOf } from '../handlers/process-incident.js';
import { diagnose } from '../handlers/model/diagnose.js';
import type { Diagnosis } from '../handlers/model/diagnosis.js';
import type { EnrichedIncident } from '../handlers/model/enriched.js';
import { buildMessage, type MessageModel } from '../handlers/model/message.js';
import type { BotDeps } from './bot-deps.js';

export interface DiagnosedIncident {
  incident: Incident;
  enriched: EnrichedIncident;
  diagnosis: Diagnosis;
  model: MessageModel;
  workload?: string;
  proposalId?: string;
}

export async function diagnoseIncident(deps: BotDeps, incident: Incident, opts: { withProposal?: boolean } = {}): Promise<DiagnosedIncident> {
  const gathered = await gatherIncident(deps.kube, incident, deps.cache);
  const workload = workloadOf(incident, gathered.owners);
  const [previous, record] = await Promise.all([deps.history.forWorkload(incident.cluster, incident.pod?.namespace, workload, 20), deps.history.get(incident.id)]);
  const enriched = toEnriched(gathered, previous, deps.now());
  const diagnosis = diagnose(enriched, { maxMemoryLimitBytes: deps.config.maxMemoryLimitBytes });
  let proposalId: string | undefined;
  if (diagnosis.proposal && opts.withProposal !== false) {
    // The incident's alert, when it was posted: applying this proposal updates that alert too.
    const where = record?.alert ? { channel: record.alert.channel, ts: record.alert.ts, ...(record.alert.group ? { group: record.alert.group } : {}) } : {};
    const stored = await deps.proposals.create({ incidentId: incident.id, cluster: incident.cluster, proposal: diagnosis.proposal, ...where });
    proposalId = stored.id;
  }
  const model = buildMessage(enriched, diagnosis, { ...(proposalId ? { proposalId } : {}), approvers: deps.config.approvers.length > 0 });
  const out: DiagnosedIncident = { incident, enriched, diagnosis, model };
  if (workload) out.workload = workload;
  if (proposalId) out.proposalId = proposalId;
  return out;
}
