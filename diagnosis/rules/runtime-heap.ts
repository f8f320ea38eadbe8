/**
 * The runtime-heap cause of a container OOM kill (rules 2, 4 and 5): a runtime flag lets the heap grow
 * to the limit, or leaves too little room beside it.
 */
import { formatMemoryApprox } from '../../core/quantity.js';
import { MAX_HEAP_SHARE, type RuntimeAnalysis } from '../analyse-runtime.js';
import type { Confidence, Diagnosis, Evidence } from '../diagnosis.js';
import { lowerIfGone, result, withLimitProposal, type Ctx } from './context.js';

export function runtimeEvidence(r: RuntimeAnalysis, which: 'strong' | 'weak' | 'all'): Evidence[] {
  return (which === 'all' ? [...r.strong, ...r.weak] : r[which]).map((f) => ({ text: f.text, source: 'container spec' as const }));
}

/**
 * A runtime-heap diagnosis. A higher limit is proposed only when raising it helps for every flag found:
 * a heap sized as a share of the memory the runtime sees just grows with the limit.
 */
export function runtimeHeap(ctx: Ctx, runtime: RuntimeAnalysis, confidence: Confidence, headline: string, evidence: Evidence[]): Diagnosis {
  const findings = [...runtime.strong, ...runtime.weak];
  const raisingHelps = findings.every((f) => f.raisingHelps);
  const heap = Math.max(0, ...findings.map((f) => f.heapBytes ?? 0));
  const extra: Partial<Diagnosis> = raisingHelps
    ? withLimitProposal(
        ctx,
        heap > 0 ? { bytes: Math.ceil(heap / MAX_HEAP_SHARE), reason: `so a ${formatMemoryApprox(heap)} heap is at most 75% of the limit` } : undefined,
      )
    : (() => {
        const first = findings.filter((f) => !f.raisingHelps)[0];
        const why = first?.whyNotRaise ?? 'The heap is sized as a share of the memory the runtime sees, so a bigger limit only gets a bigger heap';
        return { raisingIsWrongFix: `${why}: ${first?.advice ?? ''}`.trim() };
      })();
  return result(ctx, 'runtime-heap', lowerIfGone(ctx, confidence), headline, evidence, [...runtimeAdvice(runtime), ...runtime.hints], extra);
}

function runtimeAdvice(r: RuntimeAnalysis): string[] {
  return [...r.strong, ...r.weak].map((f) => f.advice);
}
