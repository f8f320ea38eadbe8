/** Messages between the many-clusters benchmark and its hub child process (procs/hub.ts). */

/** `cpu`: CPU time the hub used since it started or since the last `cpu`. */
export type HubCommand = { cmd: 'cpu' };

export interface HubReady {
  hubReady: true;
  port: number;
}

export interface HubCpu {
  cpuMs: number;
  /** Resident memory of the hub's process. */
  rssBytes: number;
}
