/**
 * The agent's write checks against the writes the bot really makes: every patch bot/workload-patch.ts
 * builds (each kind, container list, pod-level limit, request change, undo back to none), with the
 * resourceVersion precondition, and the Event bot/record-change.ts posts, are let through; a change of
 * any other field of the same bodies is not.
 */
import { describe, expect, it } from 'vitest';
import { AGENT_PROTOCOL_VERSION, type AgentRequest } from '../../core/agent-link.js';
import type { KubeApi } from '../../core/kube-api.js';
import type { Proposal } from '../../diagnosis/propose-limit.js';
import { reverseProposal } from '../../bot/proposal-button.js';
import { recordChange } from '../../bot/record-change.js';
import type { BotDeps } from '../../bot/bot-deps.js';
import { memoryPatch, STRATEGIC_MERGE_PATCH, workloadPath } from '../../bot/workload-patch.js';
import { writeMismatch, writeTarget } from '../../agent/authorize.js';
import { sampleProposal } from '../helpers/proposals.js';
import { captureLogger } from '../helpers/silent-logger.js';

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'CronJob'];

function proposals(kind: string): Proposal[] {
  const owner = { kind, name: 'api', namespace: 'shop' };
  const limit = sampleProposal({ owner });
  const withRequest = sampleProposal({ owner, fromRequest: '512Mi', toRequest: '640Mi' });
  const podLevel = sampleProposal({ owner, scope: 'pod' });
  const request: Proposal = {
    target: 'request',
    container: 'api',
    owner,
    fromRequest: '128Mi',
    toRequest: '256Mi',
    toRequestBytes: 256 * 2 ** 20,
    reason: 'r',
  };
  const undoToNone = reverseProposal({ ...request, fromRequest: undefined }, 'U0ALICE', '2026-01-01T00:00:00Z');
  return [limit, withRequest, podLevel, request, reverseProposal(withRequest, 'U0ALICE', '2026-01-01T00:00:00Z'), undoToNone];
}

function patchRequest(p: Proposal, body: unknown): AgentRequest {
  return {
    v: AGENT_PROTOCOL_VERSION,
    op: 'send',
    method: 'PATCH',
    path: workloadPath(p.owner),
    body,
    contentType: STRATEGIC_MERGE_PATCH,
    query: { dryRun: 'All', fieldManager: 'oombot' },
    deadline: Date.now() + 1_000,
  };
}

describe("the agent's write checks and the bot's own writes", () => {
  it('let every workload patch the bot builds through, and refuse it with any other field changed', () => {
    let checked = 0;
    for (const kind of KINDS) {
      for (const p of proposals(kind)) {
        const lists = p.target === 'limit' && p.scope === 'pod' ? (['pod'] as const) : (['containers', 'initContainers'] as const);
        for (const list of lists) {
          const body = { ...memoryPatch(kind, list, p), metadata: { resourceVersion: '42' } };
          const req = patchRequest(p, body);
          expect(writeMismatch(writeTarget('beta', req), body, p), `${kind} ${list} ${JSON.stringify(p)}`).toBeUndefined();
          const tampered = JSON.parse(JSON.stringify(body).replace('"resources":{', '"image":"x","resources":{')) as unknown;
          expect(writeMismatch(writeTarget('beta', req), tampered, p)).toMatch(/changes more than/);
          checked++;
        }
      }
    }
    expect(checked).toBe(KINDS.length * 11);
  });

  it('let the Event the bot records about a change through', async () => {
    const p = sampleProposal();
    const sent: { method: string; path: string; body: unknown; proposal?: { id: string; claim: string } }[] = [];
    const kube = {
      send: async (method: string, path: string, body: unknown, opts?: { proposal?: { id: string; claim: string } }) => {
        sent.push({ method, path, body, ...(opts?.proposal ? { proposal: opts.proposal } : {}) });
        return {};
      },
    } as unknown as KubeApi;
    const deps = { kube, log: captureLogger().log } as unknown as BotDeps;
    const stored = { id: 'p_AAAAAAAAAAAAAAAAAAAAAA', incidentId: 'i', cluster: 'beta', proposal: p, createdAt: '', expiresAt: '' };
    await recordChange(deps, undefined, { kind: 'raise', stored, by: { id: 'U0ALICE' }, at: new Date(), list: 'containers', uid: 'u-1', claim: 'claim-1' });
    expect(sent).toHaveLength(1);
    // The Event goes with the proposal and the claim that holds it: what the agent asks of every write.
    expect(sent[0]!.proposal).toEqual({ id: stored.id, claim: 'claim-1' });
    const req: AgentRequest = { v: AGENT_PROTOCOL_VERSION, op: 'send', method: 'POST', path: sent[0]!.path, body: sent[0]!.body, deadline: Date.now() + 1_000 };
    expect(writeMismatch(writeTarget('beta', req), sent[0]!.body, p)).toBeUndefined();
    expect(writeMismatch(writeTarget('beta', req), sent[0]!.body, sampleProposal({ owner: { kind: 'Deployment', name: 'web', namespace: 'shop' } }))).toMatch(
      /not about Deployment shop\/web/,
    );
  });
});
