/** kubeconfig for the simulated API server: plain http, so insecure-skip-tls-verify must be set. */
import { writeFileSync } from 'node:fs';

export interface KubeconfigOptions {
  /** Context (and cluster and user) name; default "sim". */
  context?: string;
  /** Default namespace of the context; default "default". */
  namespace?: string;
  token?: string;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

export function kubeconfigText(server: string, opts: KubeconfigOptions = {}): string {
  const name = opts.context ?? 'sim';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${quote(name)}`,
    '  cluster:',
    `    server: ${quote(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${quote(name)}`,
    '  user:',
    `    token: ${quote(opts.token ?? 'sim-token')}`,
    'contexts:',
    `- name: ${quote(name)}`,
    '  context:',
    `    cluster: ${quote(name)}`,
    `    user: ${quote(name)}`,
    `    namespace: ${quote(opts.namespace ?? 'default')}`,
    `current-context: ${quote(name)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

export function writeKubeconfigFile(path: string, server: string, opts: KubeconfigOptions = {}): string {
  writeFileSync(path, kubeconfigText(server, opts), { mode: 0o600 });
  return path;
}
