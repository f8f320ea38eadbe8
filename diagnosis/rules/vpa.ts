/**
 * A VerticalPodAutoscaler that targets the workload. In Auto, Recreate or InPlaceOrRecreate mode it
 * rewrites the pods' resources from its own recommendation, so a patch of the pod template fights it:
 * the fix belongs in the VPA. In Off or Initial mode it does not touch running pods and only gets a note.
 */
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { VPA_ACTIVE_MODES, type VpaSummary } from '../enriched.js';
import type { Ctx } from './ctx.js';

export function vpaIsActive(vpa: VpaSummary): boolean {
  return VPA_ACTIVE_MODES.includes(vpa.mode);
}

/** Whether the VPA's maxAllowed memory is what kept the limit where it was hit. */
function capReached(vpa: VpaSummary, limitBytes: number | undefined): boolean {
  const max = vpa.maxAllowed?.bytes;
  return max !== undefined && limitBytes !== undefined && max <= limitBytes;
}

/**
 * For an active VPA: no template proposal, the advice says what to change in the VPA, and the reason
 * says why there is no button. Undefined when no VPA stands in the way.
 */
export function vpaInsteadOfProposal(ctx: Ctx): Partial<Diagnosis> | undefined {
  const vpa = ctx.e.vpa;
  if (!vpa || !vpaIsActive(vpa)) return undefined;
  const container = ctx.containerName ?? 'the container';
  if (vpa.maxAllowed && capReached(vpa, ctx.limitBytes)) {
    return {
      advice: [
        `VPA ${vpa.name} caps memory at ${vpa.maxAllowed.text}: raise maxAllowed (spec.resourcePolicy.containerPolicies[].maxAllowed.memory for ${container}) and let the VPA size the limit.`,
      ],
      noProposalReason: `VPA ${vpa.name} (updateMode ${vpa.mode}) sizes this workload's memory and caps it at ${vpa.maxAllowed.text}, at or below the ${ctx.limitText ?? 'limit'} limit that was hit: a patch of the pod template would be overwritten by the VPA. Raise the VPA's maxAllowed instead.`,
    };
  }
  return {
    advice: [`VPA ${vpa.name} manages this workload's memory (updateMode ${vpa.mode}): its recommendation, not the pod template, decides the limit.`],
    noProposalReason: `VPA ${vpa.name} (updateMode ${vpa.mode}) manages this workload's memory: a patch of the pod template would fight it. Let the VPA raise the limit, or change its resource policy.`,
  };
}

/** For an active VPA after a memory eviction: the request is the VPA's to set, not the template's. */
export function vpaInsteadOfRequest(ctx: Ctx): Partial<Diagnosis> | undefined {
  const vpa = ctx.e.vpa;
  if (!vpa || !vpaIsActive(vpa)) return undefined;
  return {
    advice: [`VPA ${vpa.name} sets this workload's memory requests (updateMode ${vpa.mode}): its recommendation, not the pod template, decides them.`],
    noProposalReason: `VPA ${vpa.name} (updateMode ${vpa.mode}) manages this workload's memory: a patch of the pod template would fight it. Let the VPA raise the request, or change its resource policy (minAllowed, maxAllowed).`,
  };
}

/** For a VPA that does not rewrite pods (Off, Initial): a note next to the proposal. */
export function vpaNote(ctx: Ctx): string[] {
  const vpa = ctx.e.vpa;
  if (!vpa || vpaIsActive(vpa)) return [];
  const when =
    vpa.mode === 'Initial'
      ? 'it sets resources only when pods are created, so new pods may get its recommendation instead of the template value'
      : 'it only recommends and does not change pods';
  return [`VPA ${vpa.name} targets this workload in ${vpa.mode} mode: ${when}.`];
}

export function vpaEvidence(ctx: Ctx): Evidence[] {
  const vpa = ctx.e.vpa;
  if (!vpa) return [];
  const cap = vpa.maxAllowed ? `, maxAllowed memory ${vpa.maxAllowed.text}` : '';
  return [{ text: `VerticalPodAutoscaler ${vpa.name} targets the workload (updateMode ${vpa.mode}${cap})`, source: 'vpa' }];
}
