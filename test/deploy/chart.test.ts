/**
 * The Helm chart and deploy/manifests/oombot.yaml say the same thing, and the chart configures what
 * oombot reads. Helm itself (4.1.4, see helm.ts) lints and renders the chart: with its default values
 * it prints exactly deploy/manifests/oombot.yaml, and each value people change is rendered and checked
 * for what it should produce, and nothing else. The one exception is the Secrets whose values the chart
 * generates: random on every render, they are left out of oombot.yaml (see withoutGeneratedSecrets).
 * UPDATE_GOLDEN=1 rewrites deploy/manifests/oombot.yaml from Helm's output, keeping its header.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLES, loadConfig, parseRoles } from '../../core/config.js';
import { parseMemoryBytes } from '../../core/quantity.js';
import {
  CHART_DIR,
  COMPOSE_FILE,
  DEFAULT_RELEASE,
  PLAIN_MANIFESTS,
  configEnvVars,
  find,
  parseKubeYaml,
  podSpecOf,
  readPlainManifests,
  renderChart,
  renderChartObjects,
  renderPlainObjects,
  withoutGeneratedSecrets,
  type ContainerJson,
  type Json,
} from './deploy-files.js';
import { runHelm } from './helm.js';
import { validateObject, validateTogether } from './validate-kube-object.js';
import { parse as parseYaml } from 'yaml';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

const key = (d: Json) => `${String(d.kind)}/${String((d.metadata as Json).name)}`;
const envOf = (docs: Json[], deployment: string) =>
  Object.fromEntries((podSpecOf(find(docs, 'Deployment', deployment)).containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const WORKLOADS = DEFAULT_ROLES.map((role) => `oombot-${role}`);
const allProblems = (docs: Json[]) => [...docs.flatMap(validateObject), ...validateTogether(docs)];

/** The Secret references of a Deployment's container, as `VARIABLE: secret/key`. */
function secretRefs(docs: Json[], deployment: string): Record<string, string> {
  return Object.fromEntries(
    (podSpecOf(find(docs, 'Deployment', deployment)).containers[0]!.env ?? [])
      .filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => [e.name, `${e.valueFrom!.secretKeyRef!.name}/${e.valueFrom!.secretKeyRef!.key}`]),
  );
}

/** The variables a Deployment sets by value, as oombot's own config would read them (Secrets left out). */
function plainEnv(docs: Json[], deployment: string): Record<string, string> {
  const env = podSpecOf(find(docs, 'Deployment', deployment)).containers[0]!.env ?? [];
  return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

type EnvVar = NonNullable<ContainerJson['env']>[number];

/** The Secrets the chart generates with the default values, as `name/key`. */
const GENERATED_SECRETS = ['oombot-redis-password/redis-password', 'oombot-proposal-key/proposal-key'];

/** The value of a generated Secret in a render, decoded. */
function generatedValue(docs: Json[], ref: string): string {
  const [name, key] = ref.split('/') as [string, string];
  const data = find(docs, 'Secret', name).data as Record<string, string>;
  return Buffer.from(data[key]!, 'base64').toString('utf8');
}

/**
 * A container's environment as the kubelet builds it: a secretKeyRef takes its value from `secrets`
 * (keyed `name/key`), and `$(NAME)` in a value is replaced by the variable NAME when the list defines it
 * earlier (`$$` stands for `$`; any other reference stays as written).
 */
function kubeletEnv(env: EnvVar[], secrets: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secrets[`${ref.name}/${ref.key}`];
      if (value === undefined) throw new Error(`no value given for Secret ${ref.name}/${ref.key} (${e.name})`);
      out[e.name] = value;
    } else {
      out[e.name] = expandReferences(e.value ?? '', out);
    }
  }
  return out;
}

function expandReferences(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : match;
  });
}

/** deploy/manifests/oombot.yaml (the default render) with `change` made to it. */
function defaultsWith(change: (docs: Json[]) => void): Json[] {
  const docs = structuredClone(readPlainManifests());
  change(docs);
  return docs;
}

/** Replaces the variable `name` of a Deployment's container, in place. */
function replaceEnv(docs: Json[], deployment: string, name: string, replacement: EnvVar): void {
  const env = podSpecOf(find(docs, 'Deployment', deployment)).containers[0]!.env!;
  const at = env.findIndex((e) => e.name === name);
  if (at < 0) throw new Error(`${deployment} sets no ${name}`);
  env[at] = replacement;
}

const isRbac = (d: Json) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(String(d.kind));

/** The objects of a kind, as `namespace/name`, sorted. */
function placed(docs: Json[], kind: string): string[] {
  return docs
    .filter((d) => d.kind === kind)
    .map((d) => `${String((d.metadata as Json).namespace)}/${String((d.metadata as Json).name)}`)
    .sort();
}

/** What a Role or ClusterRole grants, as `verb resource[.group]`. */
function rulesOf(role: Json): string[] {
  const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  return rules.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))));
}

/** Removes the variable `name` from a Deployment's container, in place. */
function removeEnv(docs: Json[], deployment: string, name: string): void {
  const env = podSpecOf(find(docs, 'Deployment', deployment)).containers[0]!.env!;
  const at = env.findIndex((e) => e.name === name);
  if (at < 0) throw new Error(`${deployment} sets no ${name}`);
  env.splice(at, 1);
}

function remove(docs: Json[], kind: string, name: string): void {
  docs.splice(docs.indexOf(find(docs, kind, name)), 1);
}

describe('Helm chart', () => {
  it('passes helm lint --strict', () => {
    expect(runHelm(['lint', '--strict', CHART_DIR])).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders, with default values, exactly deploy/manifests/oombot.yaml', () => {
    const output = withoutGeneratedSecrets(renderChart());
    const current = readFileSync(PLAIN_MANIFESTS, 'utf8');
    // The file is its own comment header, then what `helm template` printed.
    const header = current.slice(0, current.indexOf('---\n'));
    if (UPDATE) writeFileSync(PLAIN_MANIFESTS, header + output);
    const stale = 'deploy/manifests/oombot.yaml is not the chart rendered: run UPDATE_GOLDEN=1 npm test -- test/deploy/chart.test.ts';
    const rendered = parseKubeYaml(output, 'helm template');
    const plain = readPlainManifests();
    // Same objects, in Helm's order, field for field.
    expect(plain.map(key), stale).toEqual(rendered.map(key));
    for (let i = 0; i < rendered.length; i++) expect(plain[i], key(rendered[i]!)).toEqual(rendered[i]);
    // And byte for byte, the "# Source: <template>" comments included.
    expect(readFileSync(PLAIN_MANIFESTS, 'utf8').slice(header.length), stale).toBe(output);
  });

  it('runs each role in its own Deployment with `oombot start --roles <role>`', () => {
    const docs = readPlainManifests();
    const bin = readFileSync(new URL('../../bin/oombot.ts', import.meta.url), 'utf8');
    expect(bin).toContain(".command('start')");
    expect(bin).toContain('--roles <roles>');
    for (const role of DEFAULT_ROLES) {
      const spec = podSpecOf(find(docs, 'Deployment', `oombot-${role}`));
      expect(spec.containers).toHaveLength(1);
      const args = spec.containers[0]!.args!;
      expect(args).toEqual(['start', '--roles', role]);
      expect(parseRoles(args[2]!)).toEqual([role]);
      expect(spec.serviceAccountName).toBe(`oombot-${role}`);
    }
    expect((find(docs, 'Deployment', 'oombot-watcher').spec as Json).replicas).toBe(2);
    // The pod is given longer to stop than oombot takes before it exits anyway.
    const forcedAfter = Number(/shutdown took over (\d+) s/.exec(bin)?.[1]);
    for (const role of DEFAULT_ROLES) {
      const grace = (podSpecOf(find(docs, 'Deployment', `oombot-${role}`)) as unknown as { terminationGracePeriodSeconds: number })
        .terminationGracePeriodSeconds;
      expect(grace).toBeGreaterThan(forcedAfter);
    }
  });

  it('sets every variable core/config.ts reads, in the chart and in docker-compose.yml', () => {
    const vars = configEnvVars();
    expect(vars.length).toBeGreaterThanOrEqual(19);
    const docs = readPlainManifests();
    const env = { ...envOf(docs, 'oombot-watcher'), ...envOf(docs, 'oombot-worker'), ...envOf(docs, 'oombot-bot') };
    // The node agent's own variables are set on its DaemonSet (nodeAgent.enabled).
    const agent = podSpecOf(find(renderChartObjects({ nodeAgent: { enabled: true } }), 'DaemonSet', 'oombot-node-agent')).containers[0]!.env ?? [];
    const agentEnv = Object.fromEntries(agent.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(agentEnv).toMatchObject({ NODE_NAME: { fieldRef: { fieldPath: 'spec.nodeName' } }, OOMBOT_KMSG: '/dev/kmsg' });
    // In a pod, the ServiceAccount replaces a kubeconfig; HTTP mode needs no app token (socket mode below);
    // the node agent reads its node's boot id from /proc.
    const notInCluster = ['KUBECONFIG', 'SLACK_APP_TOKEN', 'OOMBOT_BOOT_ID'];
    expect(vars.filter((v) => !notInCluster.includes(v) && !(v in env) && !(v in agentEnv))).toEqual([]);
    const socket = renderChartObjects({ slack: { socketMode: true } });
    expect(envOf(socket, 'oombot-bot')).toHaveProperty('SLACK_APP_TOKEN');
    const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8')) as { services: { oombot: { environment: Record<string, unknown> } } };
    // Compose runs the default roles: the node agent runs only in Kubernetes, one per node.
    const nodeAgentOnly = ['NODE_NAME', 'OOMBOT_KMSG', 'OOMBOT_BOOT_ID'];
    expect(vars.filter((v) => !nodeAgentOnly.includes(v) && !(v in compose.services.oombot.environment))).toEqual([]);
    // And what the chart gives oombot besides (OOMBOT_PROPOSAL_KEY), compose gives it too; compose puts
    // the Redis password straight into REDIS_URL.
    expect(Object.keys(env).filter((v) => v !== 'REDIS_PASSWORD' && !(v in compose.services.oombot.environment))).toEqual([]);
  });

  it('gives the Slack tokens, the Redis password and the proposal key, by reference to a Secret, only to the roles that use them', () => {
    const docs = readPlainManifests();
    const redis = { REDIS_PASSWORD: 'oombot-redis-password/redis-password' };
    // The worker signs the proposals it stores and the bot checks them; the watcher handles none.
    const key = { OOMBOT_PROPOSAL_KEY: 'oombot-proposal-key/proposal-key' };
    expect(secretRefs(docs, 'oombot-watcher')).toEqual(redis);
    expect(secretRefs(docs, 'oombot-worker')).toEqual({ ...redis, ...key, SLACK_BOT_TOKEN: 'oombot-slack/bot-token' });
    expect(secretRefs(docs, 'oombot-bot')).toEqual({
      ...redis,
      ...key,
      SLACK_BOT_TOKEN: 'oombot-slack/bot-token',
      SLACK_SIGNING_SECRET: 'oombot-slack/signing-secret',
    });
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    // No token value anywhere in the manifests.
    expect(readFileSync(PLAIN_MANIFESTS, 'utf8')).not.toMatch(/xox[bp]-[A-Za-z0-9]|xapp-[A-Za-z0-9]/);
  });

  it('bundles Redis with AOF and noeviction', () => {
    const bundled = readPlainManifests();
    const redis = podSpecOf(find(bundled, 'StatefulSet', 'oombot-redis')).containers[0]!;
    const args = redis.args!.join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    // Redis's "mb" is 2^20 bytes. A full Redis must refuse writes before the kernel kills it, with room
    // for the fork of an AOF rewrite.
    const maxmemory = Number(/--maxmemory (\d+)mb/.exec(args)![1]) * 2 ** 20;
    expect(maxmemory * 1.5).toBeLessThanOrEqual(parseMemoryBytes(redis.resources!.limits!.memory)!);
    for (const workload of WORKLOADS) expect(envOf(bundled, workload).REDIS_URL).toBe('redis://:$(REDIS_PASSWORD)@oombot-redis:6379/0');
  });

  it("lets every role's pods through the bundled Redis's NetworkPolicy, and nothing else", () => {
    const docs = readPlainManifests();
    const policy = find(docs, 'NetworkPolicy', 'oombot-redis').spec as {
      ingress: { from: { podSelector: { matchExpressions: { key: string; values: string[] }[] } }[] }[];
    };
    const allowed = policy.ingress[0]!.from[0]!.podSelector.matchExpressions.find((e) => e.key === 'app.kubernetes.io/component')!.values;
    const components = WORKLOADS.map(
      (w) =>
        (find(docs, 'Deployment', w).spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels[
          'app.kubernetes.io/component'
        ]!,
    );
    expect([...allowed].sort()).toEqual([...components].sort());
  });

  it('runs the bundled Redis with a password from a Secret, in protected mode, and gives every role a REDIS_URL carrying it', () => {
    const docs = readPlainManifests();
    const secrets = { 'oombot-redis-password/redis-password': 'pAssw0rd' };
    const redis = podSpecOf(find(docs, 'StatefulSet', 'oombot-redis')).containers[0]!;
    const redisEnv = kubeletEnv(redis.env!, secrets);
    // The kubelet expands $(VAR) in args from the container's variables: the password is in no manifest.
    const args = redis.args!.map((a) => expandReferences(a, redisEnv)).join(' ');
    expect(args).toContain('--requirepass pAssw0rd');
    expect(args).toContain('--protected-mode yes');
    expect(redis.args!.join(' ')).toContain('--requirepass $(REDIS_PASSWORD)');
    // The probes' redis-cli logs in with REDISCLI_AUTH.
    expect(redisEnv.REDISCLI_AUTH).toBe('pAssw0rd');
    for (const workload of WORKLOADS) {
      const env = podSpecOf(find(docs, 'Deployment', workload)).containers[0]!.env!;
      const names = env.map((e) => e.name);
      // Kubernetes expands $(REDIS_PASSWORD) only when the variable comes earlier in the list.
      expect(names.indexOf('REDIS_PASSWORD'), workload).toBeGreaterThanOrEqual(0);
      expect(names.indexOf('REDIS_PASSWORD'), workload).toBeLessThan(names.indexOf('REDIS_URL'));
      const expanded = kubeletEnv(env, {
        ...secrets,
        'oombot-slack/bot-token': 'xoxb-1',
        'oombot-slack/signing-secret': 's',
        'oombot-proposal-key/proposal-key': 'k'.repeat(48),
      });
      expect(loadConfig(expanded).redisUrl, workload).toBe('redis://:pAssw0rd@oombot-redis:6379/0');
    }
  });

  it('generates the Redis password and the proposal key into Secrets, random letters and digits, which oombot.yaml leaves out and its header explains', () => {
    const first = renderChartObjects();
    const second = renderChartObjects();
    const password = generatedValue(first, 'oombot-redis-password/redis-password');
    const key = generatedValue(first, 'oombot-proposal-key/proposal-key');
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(key).toMatch(/^[A-Za-z0-9]{48}$/);
    // helm template cannot read the cluster, so each render generates anew (an upgrade keeps the
    // values through lookup): hence no values in oombot.yaml to compare.
    expect(generatedValue(second, 'oombot-redis-password/redis-password')).not.toBe(password);
    expect(generatedValue(second, 'oombot-proposal-key/proposal-key')).not.toBe(key);
    expect(
      first.filter((d) => d.kind === 'Secret').flatMap((d) => Object.keys(d.data as Json).map((k) => `${String((d.metadata as Json).name)}/${k}`)),
    ).toEqual(GENERATED_SECRETS);
    expect(readPlainManifests().filter((d) => d.kind === 'Secret')).toEqual([]);
    // The header tells users to create each one, with a value of the same kind.
    const file = readFileSync(PLAIN_MANIFESTS, 'utf8');
    const header = file.slice(0, file.indexOf('---\n'));
    for (const ref of GENERATED_SECRETS) {
      const [name, key] = ref.split('/');
      expect(header.replace(/\s*\\\n#\s+/g, ' ')).toMatch(new RegExp(`create secret generic ${name} --from-literal=${key}="\\$\\(openssl rand -hex \\d+\\)"`));
    }
  });

  it('exposes only POST /slack/events through the optional Ingress', () => {
    const docs = renderChartObjects({ bot: { ingress: { enabled: true, host: 'oombot.example.com', className: 'nginx' } } });
    const ingress = find(docs, 'Ingress', 'oombot-bot');
    const rule = ((ingress.spec as Json).rules as Json[])[0] as { host: string; http: { paths: { path: string; pathType: string }[] } };
    expect(rule.host).toBe('oombot.example.com');
    expect(rule.http.paths.map((p) => `${p.pathType} ${p.path}`)).toEqual(['Exact /slack/events']);
  });

  it('names everything after the release', () => {
    const docs = renderChartObjects({}, { releaseName: 'ops', namespace: 'platform' });
    expect(docs.every((d) => String((d.metadata as Json).name).startsWith('ops-oombot-'))).toBe(true);
    expect(docs.filter((d) => (d.metadata as Json).namespace !== undefined).every((d) => (d.metadata as Json).namespace === 'platform')).toBe(true);
    expect(envOf(docs, 'ops-oombot-worker').REDIS_URL).toBe('redis://:$(REDIS_PASSWORD)@ops-oombot-redis:6379/0');
    expect(secretRefs(docs, 'ops-oombot-worker').REDIS_PASSWORD).toBe('ops-oombot-redis-password/redis-password');
    const short = renderChartObjects({ fullnameOverride: 'oom' }, { releaseName: 'ops', namespace: 'platform' });
    expect(short.map((d) => (d.metadata as Json).name)).toContain('oom-watcher');
  });

  // Each value people change: what it renders is the default render with exactly the expected change,
  // and every object still fits the API schema and the others.
  describe('with the values people change', () => {
    it('config.watchNamespaces: every role is told the namespaces, oombot reads them, and its namespaced rights are Roles in each', () => {
      for (const workload of WORKLOADS) expect(loadConfig(plainEnv(readPlainManifests(), workload)).watchNamespaces, 'default: all').toEqual([]);
      const docs = renderPlainObjects({ config: { watchNamespaces: 'payments,shop' } });
      // Apart from RBAC, the default render with the variable set.
      expect(docs.filter((d) => !isRbac(d))).toEqual(
        defaultsWith((d) => {
          for (const workload of WORKLOADS) replaceEnv(d, workload, 'WATCH_NAMESPACES', { name: 'WATCH_NAMESPACES', value: 'payments,shop' });
        }).filter((d) => !isRbac(d)),
      );
      for (const workload of WORKLOADS) expect(loadConfig(plainEnv(docs, workload)).watchNamespaces, workload).toEqual(['payments', 'shop']);
      // A Role and its RoleBinding for each role in each watched namespace, and one in "default" for the
      // watcher, which reads the Events of nodes there.
      const roles = ['default/oombot-watcher', ...['payments', 'shop'].flatMap((ns) => WORKLOADS.map((w) => `${ns}/${w}`))].sort();
      expect(placed(docs, 'Role')).toEqual(roles);
      expect(placed(docs, 'RoleBinding')).toEqual(roles);
      expect(
        rulesOf(
          find(
            docs.filter((d) => (d.metadata as Json).namespace === 'default'),
            'Role',
            'oombot-watcher',
          ),
        ),
      ).toEqual(['list events', 'watch events']);
      for (const workload of WORKLOADS) {
        // The ClusterRoles keep only what is not namespaced: nodes.
        const cluster = rulesOf(find(docs, 'ClusterRole', workload));
        expect(
          cluster.every((grant) => grant.endsWith(' nodes')),
          workload,
        ).toBe(true);
        // In each watched namespace, the Role and the ClusterRole grant together what the default
        // ClusterRole grants: the same rights, no longer cluster-wide; but for the watcher's watches of
        // LimitRanges and VPAs, which it keeps for the worker only when it watches every namespace.
        const allNamespacesOnly = (grant: string) =>
          workload === 'oombot-watcher' && / (limitranges|verticalpodautoscalers\.autoscaling\.k8s\.io)$/.test(grant);
        for (const ns of ['payments', 'shop']) {
          const role = find(
            docs.filter((d) => (d.metadata as Json).namespace === ns),
            'Role',
            workload,
          );
          expect([...rulesOf(role), ...cluster].sort(), `${ns}/${workload}`).toEqual(
            rulesOf(find(readPlainManifests(), 'ClusterRole', workload))
              .filter((grant) => !allNamespacesOnly(grant))
              .sort(),
          );
        }
      }
      // Watching "default" too, its Role for the watcher is the whole one; spaces and repeats do not count.
      const withDefault = renderPlainObjects({ config: { watchNamespaces: ' default,shop,,shop ' } });
      expect(placed(withDefault, 'Role')).toEqual(['default', 'shop'].flatMap((ns) => WORKLOADS.map((w) => `${ns}/${w}`)).sort());
      expect(allProblems(withDefault)).toEqual([]);
      // As a --set flag, the comma escaped (see deploy/README.md), the same.
      expect(renderPlainObjects({}, DEFAULT_RELEASE, ['config.watchNamespaces=payments\\,shop'])).toEqual(docs);
      expect(allProblems(docs)).toEqual([]);
    });

    it('slack.socketMode: the bot gets the app token instead of the signing secret, and no Service or Ingress', () => {
      // The Ingress is asked for, and still not rendered: nothing calls the bot in Socket Mode.
      const docs = renderPlainObjects({ slack: { socketMode: true }, bot: { ingress: { enabled: true } } });
      const env = envOf(docs, 'oombot-bot');
      expect(env.SLACK_APP_TOKEN).toEqual({ secretKeyRef: { name: 'oombot-slack', key: 'app-token' } });
      expect(env).not.toHaveProperty('SLACK_SIGNING_SECRET');
      expect(docs.filter((d) => d.kind === 'Service' && (d.metadata as Json).name === 'oombot-bot')).toEqual([]);
      expect(docs.filter((d) => d.kind === 'Ingress')).toEqual([]);
      expect(docs).toEqual(
        defaultsWith((d) => {
          replaceEnv(d, 'oombot-bot', 'SLACK_SIGNING_SECRET', {
            name: 'SLACK_APP_TOKEN',
            valueFrom: { secretKeyRef: { name: 'oombot-slack', key: 'app-token' } },
          });
          remove(d, 'Service', 'oombot-bot');
        }),
      );
      expect(allProblems(docs)).toEqual([]);
    });

    it('slack.existingSecret and its keys: every token comes from that Secret, and the chart makes no Secret for them', () => {
      const slack = { existingSecret: 'team-slack', botTokenKey: 'xoxb', signingSecretKey: 'signing', appTokenKey: 'xapp' };
      const ref = (key: string) => ({ secretKeyRef: { name: 'team-slack', key } });
      const http = renderPlainObjects({ slack });
      expect(http).toEqual(
        defaultsWith((d) => {
          replaceEnv(d, 'oombot-worker', 'SLACK_BOT_TOKEN', { name: 'SLACK_BOT_TOKEN', valueFrom: ref('xoxb') });
          replaceEnv(d, 'oombot-bot', 'SLACK_BOT_TOKEN', { name: 'SLACK_BOT_TOKEN', valueFrom: ref('xoxb') });
          replaceEnv(d, 'oombot-bot', 'SLACK_SIGNING_SECRET', { name: 'SLACK_SIGNING_SECRET', valueFrom: ref('signing') });
        }),
      );
      const socket = renderChartObjects({ slack: { ...slack, socketMode: true } });
      const redis = { REDIS_PASSWORD: 'oombot-redis-password/redis-password' };
      const key = { OOMBOT_PROPOSAL_KEY: 'oombot-proposal-key/proposal-key' };
      expect(secretRefs(socket, 'oombot-watcher')).toEqual(redis);
      expect(secretRefs(socket, 'oombot-worker')).toEqual({ ...redis, ...key, SLACK_BOT_TOKEN: 'team-slack/xoxb' });
      expect(secretRefs(socket, 'oombot-bot')).toEqual({ ...redis, ...key, SLACK_BOT_TOKEN: 'team-slack/xoxb', SLACK_APP_TOKEN: 'team-slack/xapp' });
      // The only Secrets the chart makes are those it generates values for.
      expect(socket.filter((d) => d.kind === 'Secret').map((d) => (d.metadata as Json).name)).toEqual(GENERATED_SECRETS.map((ref) => ref.split('/')[0]));
      for (const docs of [http, socket]) expect(allProblems(docs)).toEqual([]);
    });

    it('redis.enabled=false: no Redis objects, and every role gets the REDIS_URL externalRedis gives', () => {
      const url = 'rediss://redis.example.internal:6380/0';
      const withoutRedis = (redisUrl: EnvVar) =>
        defaultsWith((d) => {
          for (const kind of ['NetworkPolicy', 'Service', 'StatefulSet']) remove(d, kind, 'oombot-redis');
          for (const workload of WORKLOADS) {
            replaceEnv(d, workload, 'REDIS_URL', redisUrl);
            removeEnv(d, workload, 'REDIS_PASSWORD');
          }
        });
      const byUrl = renderPlainObjects({ redis: { enabled: false }, externalRedis: { url } });
      expect(byUrl).toEqual(withoutRedis({ name: 'REDIS_URL', value: url }));
      for (const workload of WORKLOADS) expect(loadConfig(plainEnv(byUrl, workload)).redisUrl).toBe(url);
      // A Secret holding the URL (for one with a password) takes precedence over url.
      const bySecret = renderPlainObjects({ redis: { enabled: false }, externalRedis: { existingSecret: 'redis-conn' } });
      expect(bySecret).toEqual(withoutRedis({ name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'redis-conn', key: 'redis-url' } } }));
      expect(renderPlainObjects({ redis: { enabled: false }, externalRedis: { existingSecret: 'redis-conn', url } })).toEqual(bySecret);
      for (const docs of [byUrl, bySecret]) {
        expect(docs.filter((d) => ((d.metadata as Json).labels as Json)['app.kubernetes.io/component'] === 'redis')).toEqual([]);
        expect(allProblems(docs)).toEqual([]);
      }
      // Nor a generated Redis password.
      expect(
        renderChartObjects({ redis: { enabled: false }, externalRedis: { url } }).filter((d) => (d.metadata as Json).name === 'oombot-redis-password'),
      ).toEqual([]);
      // With neither, Helm refuses to render and says what to set.
      expect(() => renderPlainObjects({ redis: { enabled: false } })).toThrow(/set redis.enabled=true, externalRedis.url or externalRedis.existingSecret/);
    });

    it('externalRedis.url through Sentinel or to a Redis Cluster reaches every role as written; another scheme is refused at render', () => {
      const forms = {
        sentinel: 'redis-sentinel://:pw@sentinel-0.redis:26379,sentinel-1.redis:26379/0#mymaster',
        cluster: 'rediss-cluster://:pw@redis-0.redis:6379,redis-1.redis:6379',
      };
      for (const [mode, url] of Object.entries(forms)) {
        const docs = renderPlainObjects({ redis: { enabled: false }, externalRedis: { url } });
        expect(allProblems(docs)).toEqual([]);
        for (const workload of WORKLOADS) {
          const config = loadConfig(plainEnv(docs, workload));
          expect(config.redisUrl).toBe(url);
          // On a Cluster the queue's keys carry one hash tag; through Sentinel they keep their names.
          expect(config.queueName).toBe(mode === 'cluster' ? '{oombot-incidents}' : 'oombot-incidents');
        }
      }
      expect(() => renderPlainObjects({ redis: { enabled: false }, externalRedis: { url: 'sentinel://s0:26379' } })).toThrow(
        /externalRedis.url must start with redis:\/\/, rediss:\/\/, redis-sentinel:\/\//,
      );
    });

    it('redis.auth.existingSecret and its key: Redis and every role read the password from that Secret, and the chart generates none', () => {
      const ref = { secretKeyRef: { name: 'team-redis', key: 'pw' } };
      const values = { redis: { auth: { existingSecret: 'team-redis', existingSecretKey: 'pw' } } };
      expect(renderChartObjects(values).filter((d) => (d.metadata as Json).name === 'oombot-redis-password')).toEqual([]);
      const docs = renderPlainObjects(values);
      expect(docs).toEqual(
        defaultsWith((d) => {
          for (const workload of WORKLOADS) replaceEnv(d, workload, 'REDIS_PASSWORD', { name: 'REDIS_PASSWORD', valueFrom: ref });
          const redis = podSpecOf(find(d, 'StatefulSet', 'oombot-redis')).containers[0]!.env!;
          redis[redis.findIndex((e) => e.name === 'REDIS_PASSWORD')] = { name: 'REDIS_PASSWORD', valueFrom: ref };
        }),
      );
      expect(allProblems(docs)).toEqual([]);
    });

    it('proposalKey.existingSecret and its key: the worker and the bot read the key from that Secret, and the chart generates none', () => {
      const values = { proposalKey: { existingSecret: 'team-oombot', existingSecretKey: 'hmac' } };
      expect(renderChartObjects(values).filter((d) => (d.metadata as Json).name === 'oombot-proposal-key')).toEqual([]);
      const docs = renderPlainObjects(values);
      expect(docs).toEqual(
        defaultsWith((d) => {
          for (const workload of ['oombot-worker', 'oombot-bot']) {
            replaceEnv(d, workload, 'OOMBOT_PROPOSAL_KEY', { name: 'OOMBOT_PROPOSAL_KEY', valueFrom: { secretKeyRef: { name: 'team-oombot', key: 'hmac' } } });
          }
        }),
      );
      expect(allProblems(docs)).toEqual([]);
    });
  });
});
