/**
 * The product's own build (tsconfig.json, what deploy/Dockerfile compiles) holds no simulator and no
 * benchmark code, and its CLI says plainly that the demo is not part of it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './deploy-files.js';

let out: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'oombot-product-'));
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO_ROOT, 'tsconfig.json'), '--outDir', join(out, 'dist')], { stdio: 'pipe' });
  // What the image has beside dist/: package.json (ES modules) and node_modules.
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
}, 60_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the product build', () => {
  it('compiles no simulator and no benchmark code', () => {
    expect(existsSync(join(out, 'dist', 'bin', 'oombot.js'))).toBe(true);
    expect(existsSync(join(out, 'dist', 'sim'))).toBe(false);
    expect(existsSync(join(out, 'dist', 'bench'))).toBe(false);
  });

  it('answers `oombot demo` with what to do instead, exit code 2', async () => {
    const run = await oombot(['demo', '--exit-when-done'], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('the demo is not part of this build');
    expect(run.stderr).toContain('KUBECONFIG');
  });
});

describe('`oombot start` without a cluster', () => {
  let slack: Server;
  let slackCalls = 0;
  let apiUrl = '';
  beforeAll(async () => {
    slack = createServer((_req, res) => {
      slackCalls += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, channel: 'C0ALERTS', ts: '1.000001' }));
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/api/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => slack?.close(resolve));
  });

  const SLACK = (): Record<string, string> => ({ SLACK_BOT_TOKEN: 'xoxb-1-2-real', SLACK_CHANNEL: '#oom-alerts', SLACK_API_URL: apiUrl });

  it.each([
    ['a bot token and channel', SLACK, 'SLACK_BOT_TOKEN, SLACK_CHANNEL, SLACK_API_URL are set'],
    ['only a signing secret', () => ({ SLACK_SIGNING_SECRET: 'a-signing-secret' }), 'SLACK_SIGNING_SECRET is set'],
    ['a pod without its service account token', () => ({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }), 'runs in a pod'],
  ])('with %s: exits 2 naming KUBECONFIG and in-cluster configuration, and posts nothing', async (_what, env, reason) => {
    const run = await oombot(['start'], env());
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('not starting the demo');
    expect(run.stderr).toContain(reason);
    expect(run.stderr).toContain('KUBECONFIG');
    expect(run.stderr).toContain('in-cluster');
    expect(run.stderr).not.toContain('xoxb-1-2-real');
    expect(slackCalls).toBe(0);
  });

  it('with only the worker and the bot: runs as a hub that reaches clusters through their agents, not the demo', async () => {
    const child = spawn(process.execPath, [join(out, 'dist', 'bin', 'oombot.js'), 'start', '--roles', 'worker,bot'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: out,
        LOG_LEVEL: 'info',
        PORT: '0',
        // A hub's pod: in a cluster, with no service account token mounted.
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        OOMBOT_QUEUE: `hub-cli-${process.pid}`,
        OOMBOT_PROPOSAL_KEY: 'a-hub-proposal-key-0123456789abcdefghij',
        SLACK_SIGNING_SECRET: 'a-signing-secret',
        ...SLACK(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await expect.poll(() => output, { timeout: 20_000 }).toContain('Slack bot ready');
    expect(output).toContain('running as a hub');
    expect(output).not.toContain('demo');
    expect(output).not.toContain('xoxb-1-2-real');
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(slackCalls).toBe(0);
  });
});

/** Runs the product build's CLI with only `env` set (no kubeconfig anywhere: HOME is empty). */
function oombot(args: string[], env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(out, 'dist', 'bin', 'oombot.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: out, LOG_LEVEL: 'silent', PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}
