/**
 * The "Resize running pods now" button on the answer to a successful raise: offered only where the
 * API server serves in-place pod resize (the pods/resize subresource, Kubernetes 1.33+), for workloads
 * whose pods a label selector finds. The button carries the id of a stored proposal, never the change.
 */
import type { Button } from '@slack/types';
import { errorMessage } from '../core/errors.js';
import { ACTION_RESIZE } from '../alert/action-ids.js';
import { renderButton } from '../alert/render-slack.js';
import type { StoredProposal } from '../stores/proposal-store.js';
import type { BotDeps } from './bot-deps.js';
import { locationOf } from './live-check.js';
import { describeChange } from './proposal-button.js';
import type { LiveContainer } from './workload-patch.js';

/** Kinds whose running pods are found by the workload's own selector (a CronJob's come and go). */
export const RESIZABLE_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'];

interface ResourceList {
  resources?: Array<{ name?: string; verbs?: string[] }>;
}

/**
 * Whether core/v1 discovery lists pods/resize with the patch verb. Only an answer is cached (a minute, as
 * every discovery read): a failed read (5xx, timeout) says nothing about the cluster, so the button is
 * left out this time and discovery is asked again next time.
 */
export async function resizeSupported(deps: BotDeps, signal?: AbortSignal): Promise<boolean> {
  try {
    const { value } = await deps.cache.get('discovery:/api/v1:pods/resize', async () => {
      const doc = await deps.kube.getJson<ResourceList>('/api/v1', undefined, signal);
      return (doc.resources ?? []).some((r) => r.name === 'pods/resize' && (r.verbs ?? []).includes('patch'));
    });
    return value;
  } catch (err) {
    deps.log.info({ err: errorMessage(err) }, 'cannot read /api/v1 discovery: the resize button is not offered this time');
    return false;
  }
}

export function resizeButton(stored: StoredProposal): Button | undefined {
  const p = stored.proposal;
  return renderButton({
    id: ACTION_RESIZE,
    label: 'Resize running pods now',
    value: stored.id,
    confirm: {
      title: 'Resize running pods?',
      text: `Resizes the running pods of ${p.owner.kind} ${p.owner.namespace}/${p.owner.name} in place, without a restart: ${describeChange(p)}. Pods the node cannot fit are reported, not moved.`,
      confirm: 'Resize',
      deny: 'Cancel',
    },
  });
}

/**
 * The resize button for a raise just applied, or undefined where resizing does not apply. It never
 * fails the raise: a problem here only leaves the button out (and is logged).
 */
export async function offerResize(deps: BotDeps, raised: StoredProposal, list: LiveContainer['list'], signal?: AbortSignal): Promise<Button | undefined> {
  if (list !== 'containers' || !RESIZABLE_KINDS.includes(raised.proposal.owner.kind)) return undefined;
  try {
    if (!(await resizeSupported(deps, signal))) return undefined;
    const stored = await deps.proposals.create({
      incidentId: raised.incidentId,
      cluster: raised.cluster,
      proposal: raised.proposal,
      ...locationOf(raised),
    });
    return resizeButton(stored);
  } catch (err) {
    deps.log.warn({ proposal: raised.id, err: errorMessage(err) }, 'cannot offer the resize button');
    return undefined;
  }
}
