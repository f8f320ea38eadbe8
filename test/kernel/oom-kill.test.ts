/**
 * OOM kills read from real kernel log formats of several kernel versions (test/fixtures/kernel/*.kmsg,
 * one /dev/kmsg record a line, continuation lines starting with a space), and the pod and container their
 * cgroup paths name.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KmsgLineSplitter, OomKillParser, parseCgroupPath, parseKmsgRecord, bareContainerId, type OomKill } from '../../kernel/index.js';

const POD1 = '3f2b9c4e-8d1a-4b7e-9c55-0a1b2c3d4e5f';
const CID1 = '4b8e2f1a9c3d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';
const POD2 = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const CID2 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Every kill in a fixture, read the way the node agent reads a stream. */
function killsIn(fixture: string): OomKill[] {
  const text = readFileSync(new URL(`../fixtures/kernel/${fixture}`, import.meta.url), 'utf8');
  const splitter = new KmsgLineSplitter();
  const parser = new OomKillParser();
  const kills: OomKill[] = [];
  // Odd chunk sizes: a record may arrive in pieces.
  for (let i = 0; i < text.length; i += 37) {
    for (const line of splitter.push(text.slice(i, i + 37))) {
      const record = parseKmsgRecord(line);
      const kill = record && parser.push(record);
      if (kill) kills.push(kill);
    }
  }
  return kills;
}

describe('OOM kills in the kernel log', () => {
  const table: { fixture: string; kills: Partial<OomKill>[]; owners: (ReturnType<typeof parseCgroupPath> | undefined)[] }[] = [
    {
      fixture: '4.14-cgroupfs-docker-v1.kmsg',
      kills: [{ seq: 5136, constraint: 'memcg', process: 'gunicorn', pid: 4321, anonRssKb: 261120, totalVmKb: 395060, fileRssKb: 5024, shmemRssKb: 0 }],
      owners: [{ podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'cgroupfs' }],
    },
    {
      fixture: '4.19-cgroupfs-containerd-v1.kmsg',
      kills: [{ seq: 7015, constraint: 'memcg', process: 'gunicorn', pid: 4321, uid: 1000, anonRssKb: 261120 }],
      owners: [{ podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'cgroupfs' }],
    },
    {
      fixture: '5.4-systemd-containerd-v1.kmsg',
      kills: [
        { seq: 20322, usec: 5512003410, constraint: 'memcg', process: 'gunicorn', pid: 4321, uid: 1000, anonRssKb: 261120, pgtablesKb: 592, oomScoreAdj: 994 },
      ],
      owners: [{ podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'systemd', runtime: 'containerd' }],
    },
    {
      fixture: '5.15-systemd-crio-v2.kmsg',
      kills: [{ seq: 88136, constraint: 'memcg', process: 'chrome', pid: 7788, uid: 1001, anonRssKb: 752400, oomScoreAdj: 1000 }],
      owners: [{ podUid: POD2, containerId: CID2, qos: 'BestEffort', driver: 'systemd', runtime: 'cri-o' }],
    },
    {
      fixture: '6.1-systemd-containerd-v2-global.kmsg',
      kills: [
        { seq: 401230, constraint: 'global', process: 'python3', pid: 5150, anonRssKb: 1199800 },
        { seq: 401232, constraint: 'global', process: 'containerd', pid: 811, taskCgroup: '/system.slice/containerd.service' },
      ],
      owners: [{ podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'systemd', runtime: 'containerd' }, undefined],
    },
    {
      fixture: '6.8-systemd-containerd-v2-oom-group.kmsg',
      kills: [
        { seq: 1913, constraint: 'memcg', process: 'gunicorn', pid: 4321, anonRssKb: 256000 },
        { seq: 1915, constraint: 'memcg', process: 'gunicorn', pid: 4100, anonRssKb: 12000, groupKill: true },
      ],
      owners: [
        { podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'systemd', runtime: 'containerd' },
        { podUid: POD1, containerId: CID1, qos: 'Burstable', driver: 'systemd', runtime: 'containerd' },
      ],
    },
  ];

  for (const { fixture, kills, owners } of table) {
    it(`reads ${fixture}`, () => {
      const found = killsIn(fixture);
      expect(found).toHaveLength(kills.length);
      found.forEach((kill, i) => {
        expect(kill).toMatchObject(kills[i]!);
        expect(parseCgroupPath(kill.taskCgroup)).toEqual(owners[i]);
      });
    });
  }

  it("keeps the memcg whose limit was hit apart from the victim's", () => {
    const [kill] = killsIn('4.14-cgroupfs-docker-v1.kmsg');
    expect(kill!.oomCgroup).toBe(`/kubepods/burstable/pod${POD1}`);
    expect(parseCgroupPath(kill!.oomCgroup)).toEqual({ podUid: POD1, qos: 'Burstable', driver: 'cgroupfs' });
  });

  it('reads a kmsg record and drops its dictionary', () => {
    expect(parseKmsgRecord('6,20315,5512003200,-;memory: usage 524288kB\n SUBSYSTEM=memory\n')).toEqual({
      prio: 6,
      seq: 20315,
      usec: 5512003200,
      message: 'memory: usage 524288kB',
    });
    expect(parseKmsgRecord('6,20315,5512003200,c;x')?.message).toBe('x');
    expect(parseKmsgRecord(' SUBSYSTEM=memory')).toBeUndefined();
    expect(parseKmsgRecord('not a record')).toBeUndefined();
  });
});

describe('cgroup paths', () => {
  it.each([
    [`/kubepods/pod${POD1}/${CID1}`, { podUid: POD1, containerId: CID1, qos: 'Guaranteed', driver: 'cgroupfs' }],
    [`/kubepods/besteffort/pod${POD1}/${CID1}`, { podUid: POD1, containerId: CID1, qos: 'BestEffort', driver: 'cgroupfs' }],
    [
      `/kubepods.slice/kubepods-pod${POD1.replaceAll('-', '_')}.slice/docker-${CID1}.scope`,
      { podUid: POD1, containerId: CID1, qos: 'Guaranteed', driver: 'systemd', runtime: 'docker' },
    ],
    [
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD1.replaceAll('-', '_')}.slice/cri-containerd-${CID1}.scope/init.scope`,
      { podUid: POD1, containerId: CID1, qos: 'BestEffort', driver: 'systemd', runtime: 'containerd' },
    ],
    // conmon, CRI-O's monitor, is not the container.
    [
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD1.replaceAll('-', '_')}.slice/crio-conmon-${CID1}.scope`,
      { podUid: POD1, qos: 'Burstable', driver: 'systemd' },
    ],
    ['/system.slice/containerd.service', undefined],
    ['/', undefined],
    ['/kubepods.slice', undefined],
  ])('%s', (path, owner) => {
    expect(parseCgroupPath(path)).toEqual(owner);
  });

  it('reads the id of a container status', () => {
    expect(bareContainerId(`containerd://${CID1}`)).toBe(CID1);
    expect(bareContainerId(`cri-o://${CID2}`)).toBe(CID2);
    expect(bareContainerId('containerd://short')).toBeUndefined();
  });
});
