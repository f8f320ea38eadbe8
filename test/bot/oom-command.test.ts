import { afterEach, describe, expect, it } from 'vitest';
import { IncidentHistory } from '../../stores/incident-history.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { startBotHarness, type BotHarness } from './bot-harness.js';

const MiB = 2 ** 20;

async function seedGonePod(h: BotHarness, pod = 'api-5d8f7c-gone1'): Promise<void> {
  const history = new IncidentHistory(h.app.redis, h.queueName, 7 * 24 * 3600 * 1000);
  const at = new Date(Date.now() - 20 * 60_000).toISOString();
  await history.add({
    id: `sim-${pod}-oom`,
    kind: 'container-oom',
    cluster: 'sim',
    namespace: 'shop',
    pod,
    podUid: '0b7c6f3e-0000-4000-8000-000000000001',
    container: 'api',
    workload: 'Deployment/api',
    occurredAt: at,
    startedAt: new Date(Date.now() - 80 * 60_000).toISOString(),
    finishedAt: at,
    restartCount: 3,
    exitCode: 137,
    limitBytes: 512 * MiB,
    usageBytes: 510 * MiB,
    node: 'node-a',
    cause: 'limit-too-low',
    headline: 'Container api reached its 512Mi limit and was OOM-killed',
  });
}

const podsOf = (h: BotHarness) =>
  h.cluster
    .list('pods', 'shop')
    .map((p) => p.metadata.name as string)
    .sort();

describe('/oom', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("why <gone pod> answers from the incident history with the alert's diagnosis and a Raise button", async () => {
    h = await startBotHarness();
    await seedGonePod(h);
    const answer = await h.answer(await h.command('why api-5d8f7c-gone1'));
    expect(answer).toContain('OOMKilled: shop/api-5d8f7c-gone1 (api)');
    expect(answer).toContain('gone');
    expect(answer).toContain('oom_raise_limit');
    expect(answer).toMatch(/"value":"p_[A-Za-z0-9_-]{22}"/);
  });

  it("why shows the Raise button's dialog with the object, path, change and rules; without approvers it says how to allow changes", async () => {
    h = await startBotHarness();
    await seedGonePod(h);
    const withApprovers = await h.answer(await h.command('why api-5d8f7c-gone1'));
    expect(withApprovers).toMatch(
      /Deployment shop\/api, spec\.template\.spec\.containers\[api\]\.resources: memory limit 512Mi → \d+Mi\. Dry run first; refused if changed since read \(resourceVersion\)\. Approvers only \(OOMBOT_APPROVERS\)\./,
    );
    expect(withApprovers).not.toContain('Nobody may apply');
    await h.close();

    h = await startBotHarness({ env: { OOMBOT_APPROVERS: '' } });
    await seedGonePod(h);
    expect(await h.answer(await h.command('why api-5d8f7c-gone1'))).toContain('Nobody may apply changes yet: set OOMBOT_APPROVERS.');
  });

  it('why <workload> answers for its most recent incident; why <namespace/pod> and -n work', async () => {
    h = await startBotHarness();
    await seedGonePod(h, 'api-5d8f7c-old');
    await seedGonePod(h, 'api-5d8f7c-new');
    const byWorkload = await h.answer(await h.command('why api'));
    expect(byWorkload).toContain('latest incident of Deployment shop/api');
    expect(byWorkload).toContain('api-5d8f7c-');
    expect(await h.answer(await h.command('why shop/api-5d8f7c-old'))).toContain('OOMKilled: shop/api-5d8f7c-old');
    expect(await h.answer(await h.command('why api-5d8f7c-old -n shop'))).toContain('OOMKilled: shop/api-5d8f7c-old');
    expect(await h.answer(await h.command('why api-5d8f7c-old -n other'))).toContain('No pod or workload');
  });

  it('why <crash-looping pod> diagnoses the live pod; why <running pod> says nothing is recorded', async () => {
    h = await startBotHarness();
    const [killed, healthy] = podsOf(h);
    h.cluster.setUsage('shop', killed!, 'api', 510 * MiB);
    h.cluster.oomKill('shop', killed!, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const answer = await h.answer(await h.command(`why ${killed}`));
    expect(answer).toContain(`OOMKilled: shop/${killed} (api)`);
    const quiet = await h.answer(await h.command(`why ${healthy}`));
    expect(quiet).toContain('No OOM kill, eviction or SIGKILL is recorded');
    expect(quiet).toContain('512Mi');
  });

  it('why <evicted pod> names the eviction', async () => {
    h = await startBotHarness();
    const [pod] = podsOf(h);
    h.cluster.evict('shop', pod!, { containers: [{ name: 'api', usage: '912340Ki' }] });
    const answer = await h.answer(await h.command(`why shop/${pod}`));
    expect(answer).toContain('Evicted');
    expect(answer).toContain('memory');
  });

  it('why <prefix> lists candidates when several pods match, and suggests close names when none does', async () => {
    h = await startBotHarness();
    const pods = podsOf(h);
    const several = await h.answer(await h.command('why api-'));
    expect(several).toContain('Several pods starting with api-');
    for (const p of pods) expect(several).toContain(`shop/${p}`);
    await seedGonePod(h);
    const none = await h.answer(await h.command('why apu'));
    expect(none).toContain('No pod or workload');
    expect(none).toContain('Did you mean');
    expect(none).toContain('shop/api');
  });

  it('why <prefix> answers for the one pod it matches, gone ones included', async () => {
    h = await startBotHarness();
    await seedGonePod(h, 'api-5d8f7c-gone1');
    const answer = await h.answer(await h.command('why api-5d8f7c-g'));
    expect(answer).toContain('the only pod starting with');
    expect(answer).toContain('OOMKilled: shop/api-5d8f7c-gone1 (api)');
  });

  it('history, snooze and unsnooze work on a workload', async () => {
    h = await startBotHarness();
    await seedGonePod(h);
    const history = await h.answer(await h.command('history shop/api'));
    expect(history).toContain('Incidents of Deployment shop/api');
    expect(history).toContain('api-5d8f7c-gone1');
    expect(history).toContain('limit too low');
    const snooze = await h.answer(await h.command('snooze api 2h'));
    expect(snooze).toContain('snoozed for 2h');
    const key = IncidentHistory.workloadKey('sim', 'shop', 'Deployment/api');
    const snoozes = new SnoozeStore(h.app.redis, h.queueName);
    expect((await snoozes.until(key))?.by).toBe('U0APPROVER');
    expect(await h.answer(await h.command('history api'))).toContain('snoozed until');
    expect(await h.answer(await h.command('unsnooze shop/Deployment/api'))).toContain('on again');
    expect(await snoozes.until(key)).toBeUndefined();
    // A live workload with no incidents can be snoozed too.
    h.cluster.createDeployment({ name: 'web', namespace: 'shop', replicas: 1 });
    expect(await h.answer(await h.command('snooze web 30m'))).toContain('Deployment shop/web');
  });

  it('top lists the containers closest to their limit, and says so clearly without metrics-server', async () => {
    h = await startBotHarness();
    const [a, b] = podsOf(h);
    h.cluster.setUsage('shop', a!, 'api', 500 * MiB);
    h.cluster.setUsage('shop', b!, 'api', 100 * MiB);
    const top = await h.answer(await h.command('top shop'));
    expect(top).toContain('closest to their memory limit');
    expect(top.indexOf(a!)).toBeLessThan(top.indexOf(b!));
    expect(top).toContain('98%');
    h.cluster.metricsEnabled = false;
    expect(await h.answer(await h.command('top'))).toContain('metrics-server');
  });

  it('top over the whole cluster ranks every namespace, reading usage a namespace at a time (never the whole cluster at once)', async () => {
    h = await startBotHarness();
    const [a] = podsOf(h);
    h.cluster.createDeployment({
      name: 'ledger',
      namespace: 'pay',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/ledger:1', memoryRequest: '64Mi', memoryLimit: '100Mi' }],
    });
    const ledger = h.cluster.list('pods', 'pay').find((p) => String(p.metadata.name).startsWith('ledger-'))!.metadata.name as string;
    h.cluster.setUsage('pay', ledger, 'main', 99 * MiB);
    h.cluster.setUsage('shop', a!, 'api', 500 * MiB);
    const before = h.sim.server.requests().length;
    const top = await h.answer(await h.command('top'));
    expect(top).toContain('in the cluster');
    expect(top).toContain(`pay/${ledger}/main`);
    expect(top).toContain(`shop/${a}/api`);
    expect(top.indexOf(`pay/${ledger}`)).toBeLessThan(top.indexOf(`shop/${a}`));
    const metricsLists = h.sim.server
      .requests()
      .slice(before)
      .filter((r) => r.path.startsWith('/apis/metrics.k8s.io/'))
      .map((r) => r.path);
    expect(metricsLists.sort()).toEqual(['/apis/metrics.k8s.io/v1beta1/namespaces/pay/pods', '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods']);
  });

  it.each([
    ['', 'explains OOM kills'],
    ['help', '/oom why'],
    ['frobnicate', 'not a subcommand'],
    ['hsitory api', 'did you mean `history`'],
    ['why', 'name a pod'],
    ['snooze api forever', 'duration'],
    ['snooze api 90d', 'from 1m to 30d'],
    ['why a b c', 'name one pod'],
  ])('"/oom %s" gets a short helpful answer', async (text, expected) => {
    h = await startBotHarness();
    const res = await h.command(text);
    expect(res.status).toBe(200);
    expect(await h.answer(res)).toContain(expected);
  });

  it('injection attempts and 5 kB of text are answered escaped', async () => {
    h = await startBotHarness();
    const injected = await h.answer(await h.command('why <!channel> <@U0ALICE>'));
    expect(injected).not.toContain('<!channel>');
    expect(injected).not.toContain('<@U0ALICE>');
    const sub = await h.answer(await h.command('<!here>'));
    expect(sub).not.toContain('<!here>');
    expect(sub).toContain('&lt;!here&gt;');
    const long = await h.answer(await h.command(`why ${'x'.repeat(5000)}`));
    expect(long).toContain('characters');
    expect(long.length).toBeLessThan(2000);
  });
});
