import { describe, expect, it } from 'vitest';
import { liveContainer, liveTarget, memoryPatch, yamlSnippet } from '../../bot/workload-patch.js';
import { describePatchError } from '../../bot/describe-patch-error.js';
import { proposalButton, reverseProposal } from '../../bot/proposal-button.js';
import { updatedAlertBlocks } from '../../bot/record-change.js';
import { kubeError } from '../../core/kube.js';
import { validateMessage } from '../../sim/slack/index.js';
import type { LimitProposal } from '../../diagnosis/propose-limit.js';
import type { AppliedChange } from '../../bot/apply-proposal.js';
import { sampleProposal } from '../helpers/proposals.js';

const p: LimitProposal = sampleProposal({ fromRequest: '512Mi', toRequest: '640Mi', reason: 'VPA rule after an OOM kill: '.padEnd(500, 'x') });

describe('workload patches', () => {
  it('a pod-level proposal patches the template spec.resources and reads its live value from there', () => {
    const pod: LimitProposal = { ...p, scope: 'pod' };
    expect(memoryPatch('Deployment', 'pod', pod)).toEqual({
      spec: { template: { spec: { resources: { limits: { memory: '640Mi' }, requests: { memory: '640Mi' } } } } },
    });
    expect(memoryPatch('CronJob', 'pod', pod)).toEqual({
      spec: { jobTemplate: { spec: { template: { spec: { resources: { limits: { memory: '640Mi' }, requests: { memory: '640Mi' } } } } } } },
    });
    expect(yamlSnippet('Deployment', 'pod', pod)).toBe(
      [
        'spec:',
        '  template:',
        '    spec:',
        '      resources:',
        '        limits:',
        '          memory: 640Mi',
        '        requests:',
        '          memory: 640Mi',
      ].join('\n'),
    );
    const obj = {
      spec: { template: { spec: { resources: { limits: { memory: '512Mi' } }, containers: [{ name: 'api', resources: { limits: { memory: '256Mi' } } }] } } },
    };
    expect(liveTarget('Deployment', obj, pod)).toEqual({ list: 'pod', limit: '512Mi' });
    expect(liveTarget('Deployment', obj, p)).toEqual({ list: 'containers', limit: '256Mi' });
    // No pod-level limit in the template: nothing of the template's to change.
    expect(liveTarget('Deployment', { spec: { template: { spec: { containers: [{ name: 'api' }] } } } }, pod)).toBeUndefined();
  });

  it('patch the container by name, limit and request together', () => {
    expect(memoryPatch('StatefulSet', 'containers', p)).toEqual({
      spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' }, requests: { memory: '640Mi' } } }] } } },
    });
    expect(memoryPatch('CronJob', 'initContainers', p)).toEqual({
      spec: {
        jobTemplate: {
          spec: { template: { spec: { initContainers: [{ name: 'api', resources: { limits: { memory: '640Mi' }, requests: { memory: '640Mi' } } }] } } },
        },
      },
    });
  });

  it('an undo back to "no request" removes the request', () => {
    const r = reverseProposal({ ...p, fromRequest: undefined }, 'olga', '2026-11-23T10:00:00Z');
    expect(memoryPatch('Deployment', 'containers', r)).toEqual({
      spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '512Mi' }, requests: { memory: null } } }] } } },
    });
  });

  it('reads the live container from each template', () => {
    const cron = { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '1Gi' } } }] } } } } } };
    expect(liveContainer('CronJob', cron, 'api')).toEqual({ list: 'containers', limit: '1Gi' });
    expect(liveContainer('CronJob', cron, 'nope')).toBeUndefined();
    expect(liveContainer('Pod', cron, 'api')).toBeUndefined();
  });

  it('gives the YAML to commit', () => {
    expect(yamlSnippet('Deployment', 'containers', p)).toBe(
      [
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          resources:',
        '            limits:',
        '              memory: 640Mi',
        '            requests:',
        '              memory: 640Mi',
      ].join('\n'),
    );
  });
});

describe('patch refusals in plain words', () => {
  it.each([
    [403, 'deployments.apps "api" is forbidden: maximum memory usage per Container is 600Mi, but limit is 640Mi', 'LimitRange'],
    [403, 'deployments.apps "api" is forbidden: exceeded quota: compute, requested: limits.memory=256Mi', 'ResourceQuota'],
    [400, 'admission webhook "validate.kyverno.svc" denied the request: memory above policy', 'admission policy'],
    [403, 'deployments.apps "api" is forbidden: User "system:serviceaccount:oombot:oombot" cannot patch resource "deployments"', 'not allowed'],
    [422, 'Deployment.apps "api" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value', 'invalid'],
  ])('%i %s', (status, message, expected) => {
    const r = describePatchError(kubeError(status, { message }, 'PATCH /apis/apps/v1/namespaces/shop/deployments/api'), 'Deployment shop/api');
    expect(r.summary).toContain(expected);
    expect(r.detail).toBe(message);
    expect(r.transient).toBe(false);
  });
});

describe('bot buttons and the audited alert stay inside Slack limits', () => {
  it('confirm dialogs state what is patched (object, path, old → new limit and request) and the rules, within 300 characters', () => {
    const b = proposalButton('p_AAAAAAAAAAAAAAAAAAAAAA', p, 'raise');
    const text = b.confirm!.text.text;
    expect(text).toBe(
      'Deployment shop/api, spec.template.spec.containers[api].resources: memory limit 512Mi → 640Mi, request 512Mi → 640Mi. Dry run first; refused if changed since read (resourceVersion). Approvers only (OOMBOT_APPROVERS). Cap: OOMBOT_MAX_MEMORY_LIMIT, largest node.',
    );
    const capped = proposalButton('p_AAAAAAAAAAAAAAAAAAAAAA', { ...p, cappedBy: 'policy', toRequest: undefined }, 'raise').confirm!.text.text;
    expect(capped).toContain('request 512Mi kept.');
    expect(capped).toContain('Capped at 640Mi by OOMBOT_MAX_MEMORY_LIMIT.');
    const pod = proposalButton('p_AAAAAAAAAAAAAAAAAAAAAA', { ...p, scope: 'pod', owner: { kind: 'CronJob', name: 'report', namespace: 'shop' } }, 'raise')
      .confirm!;
    expect(pod.title?.text).toBe('Raise the pod-level memory limit?');
    expect(pod.text.text).toContain('CronJob shop/report, spec.jobTemplate.spec.template.spec.resources: memory limit 512Mi → 640Mi');
    // Names at their longest: what is patched stays, rules that no longer fit are left out, never cut.
    const long = { ...p, owner: { kind: 'Deployment', name: 'd'.repeat(120), namespace: 'n'.repeat(63) } };
    const longText = proposalButton('p_AAAAAAAAAAAAAAAAAAAAAA', long, 'raise').confirm!.text.text;
    expect(longText.length).toBeLessThanOrEqual(300);
    expect(longText).toContain(`${'n'.repeat(63)}/${'d'.repeat(120)}`);
    expect(longText).toContain('memory limit 512Mi → 640Mi, request 512Mi → 640Mi.');
    expect(text.length).toBeLessThanOrEqual(300);
  });

  it('the updated alert is valid Block Kit', () => {
    const change: AppliedChange = {
      kind: 'raise',
      stored: { id: 'p_AAAAAAAAAAAAAAAAAAAAAA', incidentId: 'i', cluster: 'sim', proposal: p, createdAt: '', expiresAt: '' },
      by: { id: 'U0APPROVER' },
      at: new Date('2026-11-23T10:00:00Z'),
      list: 'containers',
      claim: 'U0APPROVER token',
      undo: { id: 'p_BBBBBBBBBBBBBBBBBBBBBB', incidentId: 'i', cluster: 'sim', proposal: reverseProposal(p, 'x', 'y'), createdAt: '', expiresAt: '' },
    };
    const blocks = updatedAlertBlocks(
      [
        { type: 'header', block_id: 'oom_header', text: { type: 'plain_text', text: 'OOMKilled' } },
        {
          type: 'actions',
          block_id: 'oom_actions',
          elements: [
            proposalButton('p_AAAAAAAAAAAAAAAAAAAAAA', p, 'raise'),
            { type: 'button', action_id: 'oom_explain', text: { type: 'plain_text', text: 'Explain' }, value: 'i' },
          ],
        },
      ],
      change,
    );
    expect(validateMessage({ text: 'x', blocks }).error).toBeUndefined();
    expect(JSON.stringify(blocks)).toContain('oom_undo');
    expect(JSON.stringify(blocks)).not.toContain('oom_raise_limit');
  });
});
