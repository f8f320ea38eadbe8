/**
 * Which pod and container a memory cgroup path belongs to, for cgroup v1 and v2, the systemd and cgroupfs
 * drivers, and the containerd, CRI-O and Docker runtimes. Pure: no I/O.
 *
 *   systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
 *             /kubepods.slice/kubepods-pod<uid with _>.slice/crio-<id>.scope              (Guaranteed)
 *   cgroupfs: /kubepods/besteffort/pod<uid>/<id>
 *             /kubepods/pod<uid>/<id>                                                      (Guaranteed)
 * A path may go on below the container (a process's own sub-cgroup); a path that stops at the pod is a
 * pod-level cgroup (its limit is the pod's, KEP-2837).
 */

export interface CgroupOwner {
  /** The pod's uid, with dashes (the systemd driver writes underscores). */
  podUid: string;
  /** The container id (64 hex) when the path reaches a container, lowercase. */
  containerId?: string;
  /** The QoS class the path is filed under. */
  qos: 'Guaranteed' | 'Burstable' | 'BestEffort';
  driver: 'systemd' | 'cgroupfs';
  runtime?: 'containerd' | 'cri-o' | 'docker';
}

const UID = '([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})';
const SYSTEMD_POD = new RegExp(`^kubepods(?:-(burstable|besteffort))?-pod${UID}\\.slice$`);
const CGROUPFS_POD = new RegExp(`^pod${UID}$`);
const SCOPE = /^(cri-containerd|crio|docker)-([0-9a-f]{64})\.scope$/;
const BARE_ID = /^([0-9a-f]{64})$/;
const RUNTIMES = { 'cri-containerd': 'containerd', crio: 'cri-o', docker: 'docker' } as const;

/** The pod and container of a cgroup path, or undefined when the path is not under kubepods. */
export function parseCgroupPath(path: string | undefined): CgroupOwner | undefined {
  if (typeof path !== 'string' || path.length > 1024) return undefined;
  const parts = path.split('/').filter((p) => p !== '');
  const root = parts.indexOf('kubepods.slice') >= 0 ? parts.indexOf('kubepods.slice') : parts.indexOf('kubepods');
  if (root < 0) return undefined;
  const driver = parts[root] === 'kubepods.slice' ? 'systemd' : 'cgroupfs';
  for (let i = root + 1; i < Math.min(parts.length, root + 4); i++) {
    const part = parts[i]!;
    const pod = driver === 'systemd' ? SYSTEMD_POD.exec(part) : CGROUPFS_POD.exec(part);
    if (!pod) continue;
    const qosPart = driver === 'systemd' ? pod[1] : parts[i - 1];
    const qos = qosPart === 'burstable' ? 'Burstable' : qosPart === 'besteffort' ? 'BestEffort' : 'Guaranteed';
    const uid = (driver === 'systemd' ? pod[2] : pod[1])!.replaceAll('_', '-');
    const owner: CgroupOwner = { podUid: uid, qos, driver };
    const next = parts[i + 1];
    if (next !== undefined) {
      const scope = SCOPE.exec(next);
      const bare = BARE_ID.exec(next);
      if (scope) {
        owner.containerId = scope[2]!;
        owner.runtime = RUNTIMES[scope[1] as keyof typeof RUNTIMES];
      } else if (bare) {
        owner.containerId = bare[1]!;
      }
    }
    return owner;
  }
  return undefined;
}

/** The bare id of a container status's `containerID` (`containerd://<id>`, `cri-o://<id>`, `docker://<id>`). */
export function bareContainerId(containerID: string | undefined): string | undefined {
  if (typeof containerID !== 'string') return undefined;
  const m = /^[a-z-]{1,20}:\/\/([0-9a-f]{64})$/.exec(containerID);
  return m?.[1];
}
