/**
 * Every deployment file parses and fits its schema: the Kubernetes manifests (plain, and the chart
 * rendered with several values) against the API types of @kubernetes/client-node, docker-compose.yml
 * against the Compose Specification subset, the Slack app manifests against @slack/web-api's Manifest
 * type. Each check is also shown to catch a broken file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  COMPOSE_FILE,
  PLAIN_MANIFESTS,
  SLACK_MANIFESTS,
  find,
  parseKubeYaml,
  podSpecOf,
  readPlainManifests,
  renderChartObjects,
  type Json,
} from './deploy-files.js';
import { validateObject, validateTogether } from './validate-kube-object.js';
import { validateComposeFile } from './validate-compose-file.js';
import { validateSlackManifest } from './validate-slack-manifest.js';

const VARIANTS: [string, Json][] = [
  ['defaults', {}],
  ['socket mode', { slack: { socketMode: true } }],
  ['external Redis by Secret', { redis: { enabled: false }, externalRedis: { existingSecret: 'redis-conn' } }],
  ['external Redis by URL', { redis: { enabled: false }, externalRedis: { url: 'redis://redis.example.internal:6379' } }],
  [
    'ingress with TLS',
    {
      bot: {
        ingress: {
          enabled: true,
          className: 'nginx',
          annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
          tls: [{ secretName: 'oombot-tls', hosts: ['oombot.example.com'] }],
        },
      },
    },
  ],
  [
    'no persistence, scheduling, pull secrets',
    {
      redis: { persistence: { enabled: false } },
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { pool: 'system' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
      podAnnotations: { 'prometheus.io/scrape': 'true' },
    },
  ],
  ['watched namespaces (Roles in each)', { config: { watchNamespaces: 'payments,shop' } }],
  [
    'no admission policy, own Redis password and proposal key Secrets',
    { admissionPolicy: { enabled: false }, redis: { auth: { existingSecret: 'team-redis' } }, proposalKey: { existingSecret: 'team-oombot' } },
  ],
  [
    'storage class, no PDBs, no network policy',
    {
      redis: { persistence: { storageClass: 'fast-ssd' }, networkPolicy: { enabled: false } },
      watcher: { pdb: { enabled: false } },
      bot: { pdb: { enabled: false } },
    },
  ],
];

const allProblems = (docs: Json[]) => [...docs.flatMap(validateObject), ...validateTogether(docs)];

describe('Kubernetes manifests', () => {
  it('deploy/manifests/oombot.yaml fits the API schema and its objects fit together', () => {
    const docs = readPlainManifests();
    expect(docs.map((d) => d.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRole',
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'Deployment',
        'Deployment',
        'Deployment',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PodDisruptionBudget',
        'Service',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
        'ServiceAccount',
        'ServiceAccount',
        'StatefulSet',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ].sort(),
    );
    expect(allProblems(docs)).toEqual([]);
  });

  it.each(VARIANTS)('the chart rendered with %s fits the API schema', (_name, values) => {
    expect(allProblems(renderChartObjects(values))).toEqual([]);
  });

  it('runs oombot non-root, read-only, without capabilities, with probes, requests and limits', () => {
    const docs = readPlainManifests();
    for (const d of docs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
      const spec = podSpecOf(d);
      expect(spec.securityContext?.runAsNonRoot, String((d.metadata as Json).name)).toBe(true);
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.requests?.cpu).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
        if (c.name === 'oombot') {
          expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
          expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
          expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
        }
      }
    }
    // A disruption budget keeps a watcher and a bot up through drains.
    for (const role of ['watcher', 'bot']) expect((find(docs, 'PodDisruptionBudget', `oombot-${role}`).spec as Json).maxUnavailable).toBe(1);
    // Only the bot is reachable, on POST /slack/events's port.
    const svc = find(docs, 'Service', 'oombot-bot').spec as Json;
    expect(svc.selector).toMatchObject({ 'app.kubernetes.io/component': 'bot' });
    expect(svc.ports).toEqual([{ name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('grants nothing on Secrets or ConfigMaps, and no wildcards', () => {
    for (const role of readPlainManifests().filter((d) => d.kind === 'ClusterRole')) {
      for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
        expect(rule.resources.filter((r) => ['secrets', 'configmaps', '*'].includes(r.split('/')[0]!))).toEqual([]);
        expect([...rule.apiGroups, ...rule.verbs]).not.toContain('*');
      }
    }
  });

  describe('the checks catch broken manifests', () => {
    const deployment = () => structuredClone(find(readPlainManifests(), 'Deployment', 'oombot-worker'));

    it('a misspelled field', () => {
      const d = deployment();
      (d.spec as Json).replicaz = (d.spec as Json).replicas;
      delete (d.spec as Json).replicas;
      expect(validateObject(d)).toEqual([expect.stringMatching(/^Deployment\/oombot-worker: Deployment\.spec\.replicaz: unknown field of V1DeploymentSpec/)]);
      const c = deployment();
      (podSpecOf(c).containers[0] as unknown as Json).livenessprobe = {};
      expect(validateObject(c).join('\n')).toContain('containers[0].livenessprobe: unknown field of V1Container');
    });

    it('a wrong type, and a YAML 1.1 boolean where a string belongs', () => {
      const d = deployment();
      (d.spec as Json).replicas = '1';
      expect(validateObject(d).join('\n')).toContain('Deployment.spec.replicas: expected a number, got string "1"');
      const yamlText = readFileSync(PLAIN_MANIFESTS, 'utf8').replace('            - "yes"', '            - yes');
      const redis = find(parseKubeYaml(yamlText, 'edited'), 'StatefulSet', 'oombot-redis');
      expect(validateObject(redis).join('\n')).toContain('containers[0].args[2]: expected a string, got boolean true');
    });

    it('a missing required field', () => {
      const d = deployment();
      delete podSpecOf(d).containers[0]!.image;
      delete (podSpecOf(d).containers[0]!.env![0] as Partial<{ name: string }>).name;
      const problems = validateObject(d).join('\n');
      expect(problems).toContain('containers[0].image: required field of V1Container is missing');
      expect(problems).toContain('containers[0].env[0].name: required field of V1EnvVar is missing');
      const noName = deployment();
      delete (noName.metadata as Json).name;
      expect(validateObject(noName).join('\n')).toContain('metadata.name: required');
    });

    it('a removed apiVersion and an unknown kind', () => {
      const pdb = structuredClone(find(readPlainManifests(), 'PodDisruptionBudget', 'oombot-watcher'));
      pdb.apiVersion = 'policy/v1beta1';
      expect(validateObject(pdb).join('\n')).toContain('PodDisruptionBudget is served as policy/v1, not policy/v1beta1');
      expect(validateObject({ apiVersion: 'v1', kind: 'Pdo', metadata: { name: 'x' } }).join('\n')).toContain('kind: Pdo is not one of');
    });

    it('selectors that match nothing, dangling references and bad quantities', () => {
      const docs = structuredClone(readPlainManifests());
      const d = find(docs, 'Deployment', 'oombot-bot');
      ((d.spec as Json).selector as { matchLabels: Record<string, string> }).matchLabels['app.kubernetes.io/component'] = 'bots';
      podSpecOf(d).serviceAccountName = 'oombot-robot';
      podSpecOf(d).containers[0]!.resources!.limits!.memory = '256MB';
      podSpecOf(d).containers[0]!.resources!.requests!.cpu = '50 m';
      const binding = find(docs, 'ClusterRoleBinding', 'oombot-worker');
      (binding.roleRef as Json).name = 'oombot-workers';
      const problems = validateTogether(docs).join('\n');
      expect(problems).toContain('Deployment/oombot-bot: spec.selector does not match the pod template');
      expect(problems).toContain('serviceAccountName oombot-robot is not defined');
      expect(problems).toContain('resources.limits.memory "256MB" is not a quantity');
      expect(problems).toContain('resources.requests.cpu "50 m" is not a quantity');
      expect(problems).toContain('roleRef ClusterRole oombot-workers is not defined');
      const vapBinding = find(docs, 'ValidatingAdmissionPolicyBinding', 'oombot-bot-memory-only');
      (vapBinding.spec as Json).policyName = 'oombot-bot-any-change';
      expect(validateTogether(docs).join('\n')).toContain('policyName oombot-bot-any-change is not defined');
      const svc = find(docs, 'Service', 'oombot-bot');
      (svc.spec as { selector: Record<string, string> }).selector['app.kubernetes.io/component'] = 'robot';
      expect(validateTogether(docs).join('\n')).toContain('Service/oombot-bot: the selector matches no pod template');
    });
  });
});

describe('docker-compose.yml', () => {
  const compose = () => parseYaml(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, Record<string, unknown>>; volumes: Json };

  it('fits the Compose Specification', () => {
    expect(validateComposeFile(compose())).toEqual([]);
  });

  it('runs Redis persistent with noeviction and a password, and oombot read-only with the kubeconfig mounted read-only', () => {
    const c = compose();
    const redis = c.services.redis!;
    const command = (redis.command as string[]).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(c.volumes).toHaveProperty('redis-data');
    const oombot = c.services.oombot!;
    const env = oombot.environment as Record<string, string>;
    expect(oombot.volumes).toContain(`\${KUBECONFIG_FILE:-~/.kube/config}:${env.KUBECONFIG}:ro`);
    // Redis requires the password oombot's REDIS_URL carries, and its health check logs in with it.
    const args = redis.command as string[];
    const password = args[args.indexOf('--requirepass') + 1];
    // Required (`:?`): compose refuses to start without one, instead of a default everyone knows.
    expect(password).toMatch(/^\$\{REDIS_PASSWORD:\?[^}]+\}$/);
    expect((redis.environment as Record<string, string>).REDISCLI_AUTH).toBe(password);
    expect(env.REDIS_URL).toBe(`redis://:${password}@redis:6379/0`);
    expect(oombot.read_only).toBe(true);
    expect(oombot.tmpfs).toEqual(['/tmp']);
    expect(oombot.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    // oombot drains for up to 25 s on SIGTERM: the stop timeout must be longer.
    expect(oombot.stop_grace_period).toBe('30s');
  });

  it('the check catches a misspelled key and a wrong value', () => {
    const c = compose();
    c.services.oombot!.enviroment = c.services.oombot!.environment;
    c.services.redis!.restart = 'sometimes';
    const problems = validateComposeFile(c).join('\n');
    expect(problems).toContain('compose.services.oombot.enviroment: unknown key');
    expect(problems).toContain('compose.services.redis.restart: not a restart policy');
  });
});

describe('Slack app manifests', () => {
  const read = (path: string) => parseYaml(readFileSync(path, 'utf8')) as Json;

  it.each(Object.entries(SLACK_MANIFESTS))("the %s-mode manifest fits Slack's Manifest type", (_mode, path) => {
    expect(validateSlackManifest(read(path))).toEqual([]);
  });

  it('HTTP mode sends the slash command and interactivity to POST /slack/events; Socket Mode has no URLs', () => {
    const http = read(SLACK_MANIFESTS.http) as { features: { slash_commands: Json[] }; settings: Json & { interactivity: Json } };
    expect(http.features.slash_commands.map((c) => [c.command, c.url])).toEqual([['/oom', 'https://oombot.example.com/slack/events']]);
    expect(http.settings.interactivity).toEqual({ is_enabled: true, request_url: 'https://oombot.example.com/slack/events' });
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.settings).not.toHaveProperty('event_subscriptions');

    const socket = read(SLACK_MANIFESTS.socket) as typeof http;
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(JSON.stringify(socket)).not.toContain('https://');
    expect(socket.features.slash_commands.map((c) => c.command)).toEqual(['/oom']);
    expect(socket.settings.interactivity).toEqual({ is_enabled: true });
    // Apart from the URLs and the mode, the two manifests are the same app.
    const strip = (m: typeof http) =>
      JSON.parse(JSON.stringify(m, (k, v: unknown) => (k === 'url' || k === 'request_url' || k === 'socket_mode_enabled' ? undefined : v))) as unknown;
    expect(strip(socket)).toEqual(strip(http));
  });

  it('the check catches a misspelled key, a wrong type and an unknown scope', () => {
    const m = read(SLACK_MANIFESTS.http) as { features: Json; oauth_config: { scopes: { bot: string[] } }; settings: Json };
    m.features.slash_command = m.features.slash_commands;
    m.settings.socket_mode_enabled = 'no';
    m.oauth_config.scopes.bot.push('chat:writ');
    const problems = validateSlackManifest(m).join('\n');
    expect(problems).toContain('manifest.features.slash_command: unknown key');
    expect(problems).toContain('manifest.settings.socket_mode_enabled: expected a boolean');
    expect(problems).toContain(`manifest.oauth_config.scopes.bot[${m.oauth_config.scopes.bot.length - 1}]: "chat:writ" is not one of the allowed values`);
    expect(validateSlackManifest({ features: {} }).join('\n')).toContain('manifest.display_information: required');
  });
});
