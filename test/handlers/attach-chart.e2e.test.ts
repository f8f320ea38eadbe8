import { afterEach, describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import type { SimApiServer } from '../../sim/kube/index.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

const Mi = 2 ** 20;

/** Width, height and that the image data inflates to width × height pixels of its colour type. */
function pngInfo(png: Buffer): { width: number; height: number; pixels: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  let channels = 4;
  for (let o = 8; o < png.length; ) {
    const len = png.readUInt32BE(o);
    const type = png.subarray(o + 4, o + 8).toString('latin1');
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[data[9]!]!;
    }
    if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, pixels: (raw.length - height) / channels };
}

describe('memory chart in the alert thread', () => {
  let app: Oombot | undefined;
  let kube: SimApiServer | undefined;
  let slack: SlackServer | undefined;
  let queueName = '';
  afterEach(async () => {
    await app?.stop();
    await kube?.close();
    await slack?.close();
    await removeQueueData(queueName);
    app = undefined;
  });

  it("uploads the killed container's chart with Slack's external upload flow into the alert's thread", async () => {
    const sim = await startSimCluster({ replicas: 1 });
    kube = sim.server;
    slack = await startSlackServer();
    queueName = uniqueQueueName('chart');
    const pod = sim.cluster.list('pods', 'shop')[0]!.metadata.name as string;
    const t0 = Date.now();
    sim.cluster.setUsageRamp('shop', pod, 'api', { fromBytes: 300 * Mi, bytesPerSecond: 40 * Mi, maxBytes: 511 * Mi });
    app = await startOombot({
      config: loadConfig({
        REDIS_URL,
        OOMBOT_QUEUE: queueName,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: slack.apiUrl,
        SLACK_CHANNEL: '#alerts',
        OOMBOT_SAMPLE_INTERVAL: '1s',
        PORT: '0',
      }),
      roles: ['watcher', 'worker', 'sampler'],
      log: captureLogger('info').log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    // A few samples of the climb, then the kill.
    await new Promise((r) => setTimeout(r, 4_500));
    sim.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(t0 - 60_000).toISOString() });
    const alert = await slack.waitFor(() => slack!.messagesIn('#alerts').find((m) => m.text?.includes('OOMKilled')), 15_000);
    const reply = await slack.waitFor(() => slack!.threadOf('#alerts', alert.ts).find((m) => m.files), 15_000);

    // The calls, in Slack's order and shapes.
    const [reserve] = slack.callsTo('files.getUploadURLExternal');
    const [upload] = slack.uploads;
    const [complete] = slack.callsTo('files.completeUploadExternal');
    expect(reserve).toMatchObject({ ok: true, args: { filename: `memory-${pod}-api.png` } });
    const fileId = [...slack.files.keys()][0]!;
    const file = slack.files.get(fileId)!;
    expect(Number(reserve!.args.length)).toBe(file.bytes!.length);
    expect(upload).toMatchObject({ status: 200, fileId, length: file.bytes!.length, contentType: expect.stringMatching(/^multipart\/form-data/) });
    expect(complete).toMatchObject({ ok: true, args: { channel_id: alert.channel, thread_ts: alert.ts } });
    expect(JSON.parse(String(complete!.args.files))).toEqual([{ id: fileId, title: `Memory of api in ${pod}` }]);
    expect(reserve!.at).toBeLessThanOrEqual(upload!.at);
    expect(upload!.at).toBeLessThanOrEqual(complete!.at);

    // What the thread shows: the comment and the PNG, 720 × 360, that decodes whole.
    expect(reply.text).toMatch(/^Memory of api, last \d+ s before the kill: peak ~?\d+(\.\d+)?Mi of its 512Mi limit, \d+ samples\.$/);
    expect(reply.files).toEqual([expect.objectContaining({ id: fileId, mimetype: 'image/png', size: file.bytes!.length })]);
    expect(pngInfo(file.bytes!)).toEqual({ width: 720, height: 360, pixels: 720 * 360 });
  }, 40_000);

  it('the simulator refuses an upload that was never reserved, a length that differs, and an unknown thread', async () => {
    slack = await startSlackServer();
    const call = async (method: string, body: Record<string, unknown>) =>
      (await (
        await fetch(`${slack!.apiUrl}${method}`, {
          method: 'POST',
          headers: { authorization: 'Bearer xoxb-test-token', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, unknown>;
    expect(await call('files.getUploadURLExternal', { filename: 'a.png' })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const r = await call('files.getUploadURLExternal', { filename: 'a.png', length: 10 });
    expect(r).toMatchObject({ ok: true, file_id: expect.stringMatching(/^F/), upload_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/upload\//) });
    expect((await fetch(`${slack.url}/upload/FNOPE`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await fetch(String(r.upload_url), { method: 'POST', body: 'only 9 b.' })).status).toBe(200);
    expect(await call('files.completeUploadExternal', { files: [{ id: r.file_id }], channel_id: 'C0ALERTS' })).toMatchObject({
      ok: false,
      error: 'file_not_found',
    });
    expect(await call('files.completeUploadExternal', { files: [{ id: 'FNOPE' }] })).toMatchObject({ ok: false, error: 'file_not_found' });
    const ok = await call('files.getUploadURLExternal', { filename: 'b.png', length: 4 });
    expect((await fetch(String(ok.upload_url), { method: 'POST', body: 'four' })).status).toBe(200);
    expect(await call('files.completeUploadExternal', { files: [{ id: ok.file_id }], channel_id: 'C0ALERTS', thread_ts: '123.456' })).toMatchObject({
      ok: false,
      error: 'invalid_thread_ts',
    });
    expect(await call('files.completeUploadExternal', { files: [{ id: ok.file_id }], channel_id: 'C0GENERAL' })).toMatchObject({
      ok: false,
      error: 'not_in_channel',
    });
    expect(await call('files.completeUploadExternal', { files: [{ id: ok.file_id, title: 'B' }], channel_id: 'C0ALERTS' })).toMatchObject({
      ok: true,
      files: [{ id: ok.file_id, title: 'B', size: 4 }],
    });
    expect(slack.messagesIn('#alerts').at(-1)?.files).toHaveLength(1);
  });
});
