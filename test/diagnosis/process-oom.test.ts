/**
 * What oombot says of the kernel OOM kills the node agent reads: a process killed inside a running
 * container, the same kill seen from a container that ended with it, a child kill behind a later
 * OOMKilled, and a global OOM as node evidence.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { KernelKill, PodSnapshot } from '../../diagnosis/enriched.js';
import { buildMessage } from '../../alert/message.js';
import { renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { incidentFromHistory } from '../../bot/find-incident.js';
import { createEnriched } from './factories.js';
import { POLICY, loadFixture } from './fixtures.js';

const CID = '4b8e2f1a9c3d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';

function kill(over: Partial<KernelKill> = {}): KernelKill {
  return { at: '2026-11-23T10:15:41.900Z', node: 'worker-3', process: 'gunicorn', pid: 4321, constraint: 'memcg', anonRssKb: 261120, fileRssKb: 5024, ...over };
}

describe('a process OOM-killed inside a running container', () => {
  it('names the process, the container and the pod, says the container kept running, and advises on workers', () => {
    const d = diagnose(loadFixture('process-oom'), POLICY);
    expect(d.cause).toBe('process-oom');
    expect(d.confidence).toBe('high');
    expect(d.headline).toBe('Process gunicorn (pid 4321) was OOM-killed inside container web of shop/api-5d8c7b9f4-x2x9k; the container kept running.');
    expect(d.advice.join(' ')).toMatch(/counts toward its memory limit/);
    expect(d.advice.join(' ')).toMatch(/per-worker memory/);
    expect(d.joinsContainerOom).toBeUndefined();
    expect(d.evidence.map((e) => e.text).join('\n')).toMatch(/still running .* its main process survived/);
  });

  it('a global OOM (CONSTRAINT_NONE) blames the node, not the limit', () => {
    const d = diagnose(loadFixture('process-oom-node'), POLICY);
    expect(d.cause).toBe('node-pressure');
    expect(d.headline).toMatch(/^Node worker-3 ran out of memory and the kernel killed process gunicorn \(pid 4321\) inside container web/);
    expect(d.proposal).toBeUndefined();
    expect(d.raisingIsWrongFix).toBeDefined();
  });

  it("a kill that ended the container joins the container's OOMKilled alert instead of posting", () => {
    const e = loadFixture('process-oom');
    const web = (e.pod as PodSnapshot).containers[0]!;
    web.lastState = { state: 'terminated', reason: 'OOMKilled', exitCode: 137, containerID: `containerd://${CID}`, finishedAt: '2026-11-23T10:15:42Z' };
    web.state = { state: 'waiting', reason: 'CrashLoopBackOff' };
    web.containerID = `containerd://${'a'.repeat(64)}`;
    expect(diagnose(e, POLICY).joinsContainerOom).toBe(true);
    // Another run's OOMKilled (a different container id) does not.
    web.lastState = { state: 'terminated', reason: 'OOMKilled', exitCode: 137, containerID: `containerd://${'b'.repeat(64)}` };
    expect(diagnose(e, POLICY).joinsContainerOom).toBeUndefined();
  });

  it('escapes a hostile process name (a process chooses its own name) in Slack and on the console', () => {
    const e = loadFixture('process-oom');
    e.incident.processOom!.process = '<!channel> *x*';
    const d = diagnose(e, POLICY);
    const model = buildMessage(e, d);
    const slack = JSON.stringify(renderSlack(model));
    expect(slack).not.toContain('<!channel>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(renderText(model)).toContain('<!channel> *x*');
  });
});

describe("the kernel log's word on a container's own kill", () => {
  it('an OOMKilled names the process the kernel killed and its memory', () => {
    const e = createEnriched({}, { processKills: [kill()] });
    const d = diagnose(e, POLICY);
    expect(d.cause).toBe('limit-too-low');
    expect(d.evidence.map((x) => x.text)).toContain(
      "The kernel log of node worker-3 names the process it killed at its memory cgroup's limit: process gunicorn (pid 4321, ~260Mi resident)",
    );
    const facts = buildMessage(e, d).facts;
    expect(facts).toContainEqual({ label: 'Killed process', value: 'gunicorn (pid 4321)' });
  });

  it('a kill far from this one (another run) is not named', () => {
    const d = diagnose(createEnriched({}, { processKills: [kill({ at: '2026-11-23T09:00:00Z' })] }), POLICY);
    expect(d.evidence.map((x) => x.text).join('\n')).not.toMatch(/gunicorn/);
  });

  it('an OOMKilled whose process the kernel killed in a global OOM is a node OOM, whatever the usage', () => {
    const d = diagnose(createEnriched({}, { processKills: [kill({ constraint: 'global' })] }), POLICY);
    expect(d.cause).toBe('node-pressure');
    expect(d.headline).toMatch(/^Node worker-3 ran out of memory and the kernel killed process gunicorn/);
  });

  it('an OOMKilled left by an earlier child kill (exit 143) names the child', () => {
    const e = createEnriched({ exitCode: 143, kind: 'child-oom' }, { processKills: [kill({ at: '2026-11-23T09:30:00Z', process: 'convert', pid: 777 })] });
    const d = diagnose(e, POLICY);
    expect(d.cause).toBe('child-oom');
    expect(d.headline).toMatch(/^The kernel OOM-killed process convert \(pid 777, ~260Mi resident\) inside api earlier/);
  });

  it("a global OOM in the node's kernel log is node evidence for a kill under the limit", () => {
    const base = createEnriched(
      {},
      { usage: { container: 'api', containerWorkingSetBytes: 200 * 2 ** 20, source: 'metrics.k8s.io', sampledAt: '2026-11-23T10:15:30Z' } },
    );
    expect(diagnose(base, POLICY).cause).not.toBe('node-pressure');
    const withKernel = { ...base, nodeKernelOoms: [kill({ constraint: 'global', process: 'java', pid: 99, at: '2026-11-23T10:15:40Z' })] };
    const d = diagnose(withKernel, POLICY);
    expect(d.cause).toBe('node-pressure');
    expect(d.headline).toMatch(/logged a global OOM kill/);
    expect(d.evidence.map((x) => x.text).join('\n')).toMatch(/global OOM kill .* it killed process java \(pid 99/);
  });
});

describe('a process OOM kill read back from the incident history', () => {
  it('keeps the kernel report (no termination), so `/oom why` still names the process once the queued job is gone', () => {
    const fixture = loadFixture('process-oom');
    const i = fixture.incident;
    const rebuilt = incidentFromHistory({
      id: i.id,
      kind: 'process-oom',
      cluster: i.cluster,
      namespace: 'shop',
      pod: i.pod!.name,
      podUid: i.pod!.uid,
      container: 'web',
      workload: 'Deployment/api',
      occurredAt: i.occurredAt,
      node: 'worker-3',
      processOom: i.processOom!,
    });
    expect(rebuilt.termination).toBeUndefined();
    expect(rebuilt.processOom).toEqual(i.processOom);
    expect(diagnose({ ...fixture, incident: rebuilt }, POLICY).headline).toMatch(/^Process gunicorn \(pid 4321\) was OOM-killed inside container web/);
  });
});
