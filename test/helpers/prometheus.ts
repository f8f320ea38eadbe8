/**
 * A real Prometheus server for tests (the Debian package `prometheus`, which .ci/run installs): the
 * history is backfilled with `promtool tsdb create-blocks-from openmetrics`, then the server is started
 * on a free port over that storage, with nothing to scrape.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../sim/private-redis.js';

export interface TestPrometheus {
  url: string;
  stop(): Promise<void>;
}

function has(bin: string): boolean {
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** OpenMetrics text of one gauge with the given series, a sample per `[epochSeconds, value]`. */
export function openMetrics(name: string, series: { labels: Record<string, string>; samples: [number, number][] }[]): string {
  const labels = (l: Record<string, string>) =>
    Object.entries(l)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
      .join(',');
  const lines = series.flatMap((s) => s.samples.map(([t, v]) => `${name}{${labels(s.labels)}} ${v} ${t}`));
  return [`# TYPE ${name} gauge`, ...lines, '# EOF', ''].join('\n');
}

/** Why the Prometheus tests cannot run here (no server binaries), or undefined when they can. */
export function missingPrometheus(): string | undefined {
  return has('prometheus') && has('promtool') ? undefined : 'prometheus and promtool are not installed: `sudo apt-get install -y prometheus` (.ci/run does)';
}

export async function startPrometheus(history: string): Promise<TestPrometheus> {
  const missing = missingPrometheus();
  if (missing) throw new Error(`these tests need a Prometheus server: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'oombot-prometheus-'));
  writeFileSync(join(dir, 'history.om'), history);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'history.om'), join(dir, 'data')], { stdio: 'ignore' });
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=30d',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    const ready = await fetch(`${url}-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) return { url, stop };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error('Prometheus did not become ready in 30 s');
}
