import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { Child } from './child.js';
import type { SimCommand, SimReady } from './procs/sim-protocol.js';

export type SimChild = Child<SimCommand>;

export interface RunningSimCluster {
  sim: SimChild;
  ready: SimReady;
  /** Stops the child and removes its kubeconfig. */
  close(): Promise<void>;
}

/** Starts procs/sim-server.js with `pods` background pods and waits until its API server answers. */
export async function startSimCluster(pods: number): Promise<RunningSimCluster> {
  const sim = new Child<SimCommand>('./procs/sim-server.js', [String(pods)]);
  try {
    const ready = await sim.next<SimReady>('ready', 900_000);
    const close = async () => {
      await sim.kill();
      rmSync(dirname(ready.kubeconfig), { recursive: true, force: true });
    };
    return { sim, ready, close };
  } catch (err) {
    await sim.kill();
    throw new Error(`while building a simulated cluster of ${pods} pods: ${errorMessage(err)}`);
  }
}
