/** The alert's other buttons: Show logs and Explain (Snooze is in snooze.ts). Each value is an incident id. */
import { OombotError } from '../core/errors.js';
import { tailLog } from '../alert/message.js';
import { renderSlack } from '../alert/render-slack.js';
import { cleanText } from '../core/text-safety.js';
import { forCluster, type BotBase } from './bot-deps.js';
import { inScope, outOfScopeReply } from './scope.js';
import { diagnoseIncident } from './diagnose-incident.js';
import { findIncident } from './find-incident.js';
import { code, codeBlock, safe, textReply, type Reply } from './reply.js';

const LOG_LINES = 40;

const unknownIncident = (): Reply => textReply("This alert's incident is no longer on record (history is kept for a limited time). Nothing to show.");

export async function showLogs(base: BotBase, incidentId: string): Promise<Reply> {
  const incident = await findIncident(base, incidentId);
  const pod = incident?.pod;
  const container = incident?.termination?.container;
  if (!incident || !pod || !container) return unknownIncident();
  // The logs are read in the incident's own cluster.
  const deps = forCluster(base, incident.cluster);
  if (!inScope(deps.config, pod.namespace)) return outOfScopeReply(deps, pod.namespace);
  const where = `${pod.namespace}/${pod.name}`;
  let text: string;
  try {
    const live = await deps.kube.getJson<{ metadata?: { uid?: string } }>(
      `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`,
    );
    if (pod.uid && live.metadata?.uid && live.metadata.uid !== pod.uid)
      return textReply(`Pod ${code(where)} was replaced since the incident; the killed container's logs went with it.`);
    text = await deps.kube.getText(`/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log`, {
      container,
      previous: true,
      tailLines: LOG_LINES,
      limitBytes: 16 * 1024,
    });
  } catch (err) {
    if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') return textReply(`Pod ${code(where)} is gone; its logs went with it.`);
    if (err instanceof OombotError && err.code === 'KUBE_INVALID')
      return textReply(`No previous logs of ${code(container, 63)} in ${code(where)}: the runtime keeps only the last terminated container's log.`);
    throw err;
  }
  const { lines, truncated } = tailLog(cleanText(text), LOG_LINES);
  if (lines.length === 0) return textReply(`The previous ${code(container, 63)} container in ${code(where)} wrote no log.`);
  return textReply(`*Previous logs* of ${code(container, 63)} in ${code(where)}${truncated ? ' (last lines)' : ''}:\n${codeBlock(lines)}`);
}

export async function explainIncident(base: BotBase, incidentId: string): Promise<Reply> {
  const incident = await findIncident(base, incidentId);
  if (!incident) return unknownIncident();
  const deps = forCluster(base, incident.cluster);
  if (incident.pod && !inScope(deps.config, incident.pod.namespace)) return outOfScopeReply(deps, incident.pod.namespace);
  const d = await diagnoseIncident(deps, incident, { withProposal: false });
  const msg = renderSlack({ ...d.model, actions: [] });
  const evidence = d.diagnosis.evidence.map((e) => `• ${safe(e.text, 500)} _(${safe(e.source, 40)})_`);
  const gaps = (d.enriched.gaps ?? []).map((g) => `• ${safe(g, 300)}`);
  const detail = textReply(
    [`*All evidence* (${d.diagnosis.evidence.length})`, ...evidence, ...(gaps.length ? ['*Not known* (could not be read)', ...gaps] : [])].join('\n'),
  );
  const blocks = [...msg.blocks.filter((b) => b.block_id !== 'oom_evidence'), ...(detail.blocks ?? [])].slice(0, 50);
  return { text: msg.text, blocks };
}
