/**
 * deploy/README.md says what the files do: its values file and --set flags render a valid chart, its
 * Secret keys are the chart's, its RBAC table is the ClusterRoles, its values table names real values
 * and variables, and the paths it mentions exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CHART_DIR, DEFAULT_RELEASE, REPO_ROOT, configEnvVars, find, podSpecOf, readPlainManifests, renderChartObjects, type Json } from './deploy-files.js';
import { validateObject, validateTogether } from './validate-kube-object.js';

const README = readFileSync(join(REPO_ROOT, 'deploy/README.md'), 'utf8');
const VALUES = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'), { version: '1.1' }) as Json;
const blocks = (lang: string) => [...README.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
const shell = blocks('sh')
  .join('\n')
  .replace(/\\\n\s*/g, ' ');

function hasValue(path: string): boolean {
  let node: unknown = VALUES;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return false;
    node = (node as Json)[part];
  }
  return true;
}

/** Every variable the chart sets on an oombot container, in the default render. */
function chartVariables(): string[] {
  return readPlainManifests()
    .filter((d) => d.kind === 'Deployment')
    .flatMap((d) => podSpecOf(d).containers.flatMap((c) => (c.env ?? []).map((e) => e.name)));
}

const valid = (docs: Json[]) => [...docs.flatMap(validateObject), ...validateTogether(docs)];

describe('deploy/README.md', () => {
  it('its values file renders a valid chart', () => {
    const file = blocks('yaml').find((b) => b.startsWith('# oombot-values.yaml'));
    expect(file).toBeDefined();
    // Helm reads the file itself, as `-f oombot-values.yaml` would.
    const docs = renderChartObjects(file!);
    expect(valid(docs)).toEqual([]);
    expect(docs.some((d) => d.kind === 'Ingress')).toBe(true);
  });

  it('its helm commands name real values and render valid charts', () => {
    const installs = [...shell.matchAll(/helm (?:install|upgrade) oombot deploy\/helm\/oombot -n oombot([^\n]*)/g)].map((m) => m[1]!);
    expect(installs.length).toBeGreaterThanOrEqual(2);
    const sets = [...README.matchAll(/--set ('[^']*'|[^\s`']+(?:'[^']*')?)/g)].map((m) => m[1]!.replace(/'/g, ''));
    expect(sets.length).toBeGreaterThanOrEqual(8);
    expect(sets.map((s) => s.slice(0, s.indexOf('='))).filter((k) => !hasValue(k))).toEqual([]);
    for (const cmd of installs) {
      // Helm gets each --set as the shell would pass it (the quotes removed, `\,` left for Helm).
      const flags = [...cmd.matchAll(/--set (\S+)/g)].map((m) => m[1]!.replace(/'/g, ''));
      if (flags.length === 0) continue;
      const docs = renderChartObjects({}, DEFAULT_RELEASE, flags);
      expect(valid(docs)).toEqual([]);
      const bot = find(docs, 'Deployment', 'oombot-bot');
      const env = Object.fromEntries(
        (((bot.spec as Json).template as Json).spec as { containers: { env: { name: string; value?: string }[] }[] }).containers[0]!.env.map((e) => [
          e.name,
          e.value,
        ]),
      );
      expect(env.OOMBOT_APPROVERS).toBe('U0123ABCD,U0456EFGH');
    }
  });

  it('creates the Secret with the keys the chart reads', () => {
    const slack = VALUES.slack as Record<string, string>;
    for (const key of [slack.botTokenKey, slack.signingSecretKey, slack.appTokenKey]) expect(shell).toContain(`--from-literal=${key}=`);
    expect(shell).toContain(`create secret generic ${slack.existingSecret}`);
    // And the Secrets the chart generates, which the plain manifests leave out.
    expect(shell).toMatch(/create secret generic oombot-redis-password\s+--from-literal=redis-password=/);
    expect(shell).toMatch(/create secret generic oombot-proposal-key\s+--from-literal=proposal-key=/);
    // The sed command really replaces the image of the plain manifests.
    const sed = /sed -e 's#(.+?)#(.+?)#' deploy\/manifests\/oombot.yaml/.exec(shell)!;
    const plain = readFileSync(join(REPO_ROOT, 'deploy/manifests/oombot.yaml'), 'utf8');
    expect(plain.split(sed[1]!).length - 1).toBe(4);
  });

  it('its RBAC table is the ClusterRoles', () => {
    const table = README.slice(README.indexOf('| role | API group | resources | verbs |'));
    const rows = table.split('\n').filter((l) => l.startsWith('|') && !l.startsWith('| role') && !l.startsWith('| ---'));
    const fromReadme: Record<string, string[]> = {};
    let role = '';
    for (const row of rows) {
      const [r, group, resources, verbs] = row
        .split('|')
        .slice(1, 5)
        .map((c) => c.trim()) as [string, string, string, string];
      if (r) role = r;
      const g = group === 'core' ? '' : group.replace(/`/g, '');
      for (const res of resources.split(',').map((x) => x.trim().replace(/`/g, ''))) {
        for (const verb of verbs
          .replace(/\(.*\)/, '')
          .split(',')
          .map((v) => v.trim())) {
          (fromReadme[role] ??= []).push(`${verb} ${res}${g ? `.${g}` : ''}`);
        }
      }
    }
    for (const r of ['watcher', 'worker', 'bot']) {
      const clusterRole = find(readPlainManifests(), 'ClusterRole', `oombot-${r}`) as unknown as {
        rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
      };
      const granted = clusterRole.rules.flatMap((rule) =>
        rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))),
      );
      expect(fromReadme[r]?.sort(), r).toEqual(granted.sort());
    }
  });

  it('its values table names real values, and the variables oombot reads or the chart gives it', () => {
    const table = README.slice(README.indexOf('| value | variable | default |'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const vars = configEnvVars();
    // Besides what core/config.ts reads, a row may name a variable the chart sets on oombot's containers
    // (OOMBOT_PROPOSAL_KEY, which the chart provides for the worker and the bot).
    const known = new Set([...vars, ...chartVariables()]);
    const named = new Set<string>();
    for (const row of rows) {
      const [value, variable] = row.split('|').slice(1, 3) as [string, string];
      for (const v of value.matchAll(/`([a-zA-Z.]+)`/g)) if (!v[1]!.endsWith('.*')) expect(hasValue(v[1]!), v[1]).toBe(true);
      const name = /`([A-Z_]+)`/.exec(variable)?.[1];
      expect([...known], row).toContain(name);
      named.add(name!);
    }
    expect(vars.filter((v) => v !== 'KUBECONFIG' && !named.has(v))).toEqual([]);
  });

  it('mentions only files that exist', () => {
    const paths = [...README.matchAll(/`((?:deploy|test\/deploy|helm|slack|manifests)\/[\w./-]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(5);
    const missing = paths.filter((p) => !existsSync(join(REPO_ROOT, p)) && !existsSync(join(REPO_ROOT, 'deploy', p)));
    expect(missing).toEqual([]);
  });
});
