import { describe, expect, it } from 'vitest';
import { detectOomKilled } from '../../../watchers/detect/pod-oom-killed.js';
import { createChildOomPod, createDetectContext, createOomKilledPod, createPod, createSigkilledPod, terminatedStatus } from '../../helpers/pods.js';

describe('detectOomKilled', () => {
  const ctx = createDetectContext();

  it('OOMKilled + 137 in lastState of a crash-looping container is a container-oom', () => {
    const [incident, ...rest] = detectOomKilled(createOomKilledPod(), ctx);
    expect(rest).toEqual([]);
    expect(incident?.kind).toBe('container-oom');
    expect(incident?.occurredAt).toBe('2025-11-20T09:41:11.000Z');
    expect(incident?.termination).toMatchObject({ container: 'api', exitCode: 137, reason: 'OOMKilled', from: 'lastState', restartCount: 5 });
    expect(incident?.termination?.resources).toEqual({ limits: { memory: '512Mi' }, requests: { memory: '256Mi', cpu: '100m' } });
  });

  it('state.terminated of a restartPolicy Never pod is a container-oom', () => {
    const [incident] = detectOomKilled(createOomKilledPod(undefined, { from: 'state' }), ctx);
    expect(incident?.kind).toBe('container-oom');
    expect(incident?.termination?.from).toBe('state');
    expect(incident?.pod?.phase).toBe('Failed');
  });

  it('an init container OOM is reported with init: true', () => {
    const [incident] = detectOomKilled(createOomKilledPod(undefined, { init: true, container: 'migrate' }), ctx);
    expect(incident?.termination).toMatchObject({ container: 'migrate', init: true });
  });

  it('an ephemeral (debug) container OOM is reported with ephemeral: true', () => {
    const pod = createPod({
      spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', targetContainerName: 'api' }] },
      status: { ephemeralContainerStatuses: [terminatedStatus({ container: 'debugger', from: 'state', restartCount: 0 })] },
    });
    const [incident] = detectOomKilled(pod, ctx);
    expect(incident?.termination).toMatchObject({ container: 'debugger', ephemeral: true, init: false, image: 'busybox:1.36' });
  });

  it.each([143, 1, 0])('OOMKilled with exit %i is a child-oom (the reverse trap), never a container-oom', (exitCode) => {
    const incidents = detectOomKilled(createChildOomPod(undefined, { exitCode }), ctx);
    expect(incidents.map((incident) => incident.kind)).toEqual(['child-oom']);
    expect(incidents[0]?.termination?.exitCode).toBe(exitCode);
  });

  it('exit 137 without OOMKilled is not an OOM', () => {
    expect(detectOomKilled(createSigkilledPod(), ctx)).toEqual([]);
  });

  it('a healthy pod gives nothing', () => {
    expect(detectOomKilled(createPod(), ctx)).toEqual([]);
  });

  it('a kill before the cutoff is history', () => {
    const pod = createOomKilledPod(undefined, { finishedAt: '2025-11-20T08:59:59Z' });
    expect(detectOomKilled(pod, ctx)).toEqual([]);
  });

  it('a kill with no finishedAt: reported as now on a live event, skipped on a relist', () => {
    const pod = createOomKilledPod(undefined, { finishedAt: null });
    expect(detectOomKilled(pod, ctx)[0]?.occurredAt).toBe('2025-11-20T10:00:00.000Z');
    expect(detectOomKilled(pod, createDetectContext({ live: false }))).toEqual([]);
  });

  it('times as Date objects (client-deserialised) give the same incident as strings', () => {
    const pod = createOomKilledPod();
    const withDates = createOomKilledPod({ metadata: { uid: pod.metadata?.uid } });
    const status = withDates.status!.containerStatuses![0]!;
    status.lastState!.terminated!.finishedAt = new Date('2025-11-20T09:41:11Z');
    status.lastState!.terminated!.startedAt = new Date('2025-11-20T09:38:55Z');
    expect(detectOomKilled(withDates, ctx)).toEqual(detectOomKilled(pod, ctx));
  });

  it('the termination message is trimmed to 1 kB and env values never appear', () => {
    const pod = createOomKilledPod(undefined, { message: `  ${'é'.repeat(2000)}  ` });
    const [incident] = detectOomKilled(pod, ctx);
    const message = incident?.termination?.message ?? '';
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(1024);
    expect(message.startsWith('é')).toBe(true);
    expect(JSON.stringify(incident)).not.toContain('xoxb-not-a-real-token');
  });

  it('a pod without uid gives nothing', () => {
    expect(detectOomKilled(createOomKilledPod({ metadata: { uid: undefined } }), ctx)).toEqual([]);
  });

  it('two containers OOM-killed give two incidents with different ids', () => {
    const pod = createOomKilledPod({
      spec: {
        containers: [
          { name: 'api', image: 'a' },
          { name: 'sidecar', image: 'b' },
        ],
      },
      status: { containerStatuses: [terminatedStatus({ container: 'api' }), terminatedStatus({ container: 'sidecar' })] },
    });
    const incidents = detectOomKilled(pod, ctx);
    expect(incidents.map((incident) => incident.termination?.container)).toEqual(['api', 'sidecar']);
    expect(new Set(incidents.map((incident) => incident.id)).size).toBe(2);
  });
});
