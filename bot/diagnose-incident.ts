/**
 * The same investigation the alerts use (investigate/), on demand for `/oom why` and the alert buttons,
 * with a fresh server-side proposal for the Raise button.
 */
import type { Incident } from '../core/incident.js';
import type { Diagnosis } from '../diagnosis/diagnosis.js';
import type { EnrichedIncident } from '../diagnosis/enriched.js';
import { investigate } from '../investigate/investigate.js';
import { buildMessage, type MessageModel } from '../alert/message.js';
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
  const [{ workload, enriched, diagnosis }, record] = await Promise.all([investigate(deps, incident, deps.now()), deps.history.get(incident.id)]);
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
