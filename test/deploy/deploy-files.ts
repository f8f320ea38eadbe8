/** Paths of the deployment files and how the tests read them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runHelm } from './helm.js';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const CHART_DIR = root('deploy/helm/oombot');
export const PLAIN_MANIFESTS = root('deploy/manifests/oombot.yaml');
export const COMPOSE_FILE = root('docker-compose.yml');
export const DOCKERFILE = root('deploy/Dockerfile');
export const DOCKERIGNORE = root('deploy/Dockerfile.dockerignore');
export const SLACK_MANIFESTS = { http: root('deploy/slack/manifest.yaml'), socket: root('deploy/slack/manifest-socket-mode.yaml') };
export const CONFIG_SOURCE = root('core/config.ts');
export const REPO_ROOT = root('');

export interface Release {
  releaseName: string;
  namespace: string;
}

/** What `helm template oombot deploy/helm/oombot --namespace oombot` is given in deploy/manifests/oombot.yaml. */
export const DEFAULT_RELEASE: Release = { releaseName: 'oombot', namespace: 'oombot' };

export type Json = Record<string, unknown>;

/**
 * Parses a YAML stream the way kubectl and Helm do: YAML 1.1, so an unquoted yes/no/on/off is a boolean
 * (and a schema check then catches it where a string belongs). Empty documents are dropped.
 */
export function parseKubeYaml(text: string, what: string): Json[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const out: Json[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${what}: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as unknown;
    if (v === null || v === undefined) continue;
    out.push(v as Json);
  }
  return out;
}

export function readPlainManifests(): Json[] {
  return parseKubeYaml(readFileSync(PLAIN_MANIFESTS, 'utf8'), PLAIN_MANIFESTS);
}

/**
 * What `helm template` prints for the chart. `values` is given as a values file on standard input: a
 * values file's text, or an object (as JSON, which is YAML). `setFlags` are given as `--set` flags,
 * each as a user types it after `--set`. With neither, the command is the one
 * deploy/manifests/oombot.yaml is rendered with.
 */
export function renderChart(values: Json | string = {}, release: Release = DEFAULT_RELEASE, setFlags: string[] = []): string {
  const args = ['template', release.releaseName, CHART_DIR, '--namespace', release.namespace];
  const file = typeof values === 'string' ? values : Object.keys(values).length > 0 ? JSON.stringify(values) : undefined;
  if (file !== undefined) args.push('--values', '-');
  for (const flag of setFlags) args.push('--set', flag);
  return runHelm(args, file);
}

/** The template of the Secrets whose values the chart generates (Redis's password, the proposal key). */
export const GENERATED_SECRETS_TEMPLATE = 'oombot/templates/generated-secrets.yaml';

/**
 * `helm template` output less the generated Secrets: what deploy/manifests/oombot.yaml holds. Their
 * values are random on every render (`helm template` cannot read the cluster's Secrets to keep them),
 * so comparing them would be flaky, and a committed copy would give every cluster that applies the file
 * the same password and key, and reset them on each apply. The file's header tells how to create them.
 */
export function withoutGeneratedSecrets(output: string): string {
  const marker = `---\n# Source: ${GENERATED_SECRETS_TEMPLATE}\n`;
  return output
    .split(/^(?=---\n)/m)
    .filter((doc) => !doc.startsWith(marker))
    .join('');
}

/** The chart rendered as deploy/manifests/oombot.yaml is (without the generated Secrets) and parsed. */
export function renderPlainObjects(values: Json | string = {}, release: Release = DEFAULT_RELEASE, setFlags: string[] = []): Json[] {
  return parseKubeYaml(withoutGeneratedSecrets(renderChart(values, release, setFlags)), `helm template ${release.releaseName}`);
}

/** The chart rendered by `helm template` (see renderChart) and parsed. */
export function renderChartObjects(values: Json | string = {}, release: Release = DEFAULT_RELEASE, setFlags: string[] = []): Json[] {
  return parseKubeYaml(renderChart(values, release, setFlags), `helm template ${release.releaseName}`);
}

/** Every environment variable core/config.ts reads. */
export function configEnvVars(): string[] {
  const src = readFileSync(CONFIG_SOURCE, 'utf8');
  const names = [...src.matchAll(/\b(?:str\(\s*env,\s*|duration\(\s*)'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
  return [...new Set(names)].sort();
}

export interface ContainerJson {
  name: string;
  args?: string[];
  image?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Json;
  livenessProbe?: { httpGet?: { path?: string; port?: unknown } };
  readinessProbe?: { httpGet?: { path?: string; port?: unknown } };
}

export interface PodSpecJson {
  serviceAccountName?: string;
  securityContext?: Json;
  containers: ContainerJson[];
  volumes?: Json[];
  automountServiceAccountToken?: boolean;
}

export function podSpecOf(workload: Json): PodSpecJson {
  return ((workload.spec as Json).template as Json).spec as PodSpecJson;
}

export function find(docs: Json[], kind: string, name: string): Json {
  const d = docs.find((x) => x.kind === kind && (x.metadata as Json).name === name);
  if (!d) throw new Error(`no ${kind} ${name} among ${docs.map((x) => `${String(x.kind)}/${String((x.metadata as Json).name)}`).join(', ')}`);
  return d;
}
