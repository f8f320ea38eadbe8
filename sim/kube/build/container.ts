/** A container as written in a pod spec, and the status the kubelet reports while it runs. */
import type { Json } from '../types.js';

export interface ContainerOptions {
  name: string;
  image?: string;
  memoryRequest?: string;
  memoryLimit?: string;
  cpuRequest?: string;
  cpuLimit?: string;
  /** Full resources block; wins over the shorthand fields. */
  resources?: Json;
  env?: Array<{ name: string; value?: string; valueFrom?: Json }>;
  command?: string[];
  args?: string[];
  ports?: Array<{ containerPort: number; name?: string; protocol?: string }>;
  livenessProbe?: Json;
  readinessProbe?: Json;
  /** Sidecar init containers (restartPolicy: Always). */
  restartPolicy?: string;
  /** Fields the API server defaults; set them to build a container as a GET returns it. */
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  imagePullPolicy?: string;
}

/** Only the requests and limits that are set; an empty block is left out, as kubectl writes it. */
function resourcesOf(o: ContainerOptions): Json {
  const requests: Json = {};
  const limits: Json = {};
  if (o.cpuRequest) requests.cpu = o.cpuRequest;
  if (o.memoryRequest) requests.memory = o.memoryRequest;
  if (o.cpuLimit) limits.cpu = o.cpuLimit;
  if (o.memoryLimit) limits.memory = o.memoryLimit;
  const resources: Json = {};
  if (Object.keys(limits).length) resources.limits = limits;
  if (Object.keys(requests).length) resources.requests = requests;
  return resources;
}

/** A container spec, fields in the order the API server serialises them. */
export function containerSpec(o: ContainerOptions): Json {
  const c: Json = { name: o.name, image: o.image ?? 'ghcr.io/example/app:1.4.2' };
  if (o.command) c.command = o.command;
  if (o.args) c.args = o.args;
  if (o.ports) c.ports = o.ports;
  if (o.env) c.env = o.env;
  c.resources = o.resources || resourcesOf(o);
  if (o.livenessProbe) c.livenessProbe = o.livenessProbe;
  if (o.readinessProbe) c.readinessProbe = o.readinessProbe;
  if (o.restartPolicy) c.restartPolicy = o.restartPolicy;
  if (o.terminationMessagePath) c.terminationMessagePath = o.terminationMessagePath;
  if (o.terminationMessagePolicy) c.terminationMessagePolicy = o.terminationMessagePolicy;
  if (o.imagePullPolicy) c.imagePullPolicy = o.imagePullPolicy;
  return c;
}

export interface RunningContainer {
  name: string;
  /** Image and imageID as the runtime reports them (imageID may be '' before the pull is recorded). */
  image: string;
  imageID: string;
  containerID: string;
  startedAt: string;
}

/** Status of a container that started and passes its probes: running, ready, never restarted. */
export function runningStatus(c: RunningContainer): Json {
  return {
    containerID: c.containerID,
    image: c.image,
    imageID: c.imageID,
    lastState: {},
    name: c.name,
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: c.startedAt } },
  };
}
