/**
 * helm.ts finds the Helm the chart tests run: the packaged one, extracted once even when several test
 * processes ask at the same moment, or the one HELM names; elsewhere than linux-x64 it says what to do.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { helmPath, runHelm } from './helm.js';

const run = promisify(execFile);
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

describe('helm.ts', () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'oombot-helm-cache-'));
  afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

  it.skipIf(!linuxX64)('extracts the packaged Helm once, whole, when several processes ask at the same moment', async () => {
    // Each process runs helm.ts itself (Node strips the types), as separate vitest workers would.
    const script = `import { helmPath } from ${JSON.stringify(new URL('./helm.ts', import.meta.url).href)};
      process.stdout.write(helmPath({ env: {}, cacheRoot: ${JSON.stringify(cacheRoot)} }));`;
    const outputs = await Promise.all(Array.from({ length: 3 }, () => run(process.execPath, ['--input-type=module', '-e', script])));
    const paths = new Set(outputs.map((o) => o.stdout));
    expect(paths.size).toBe(1);
    const [path] = paths as Set<string>;
    // Only the binary is left (no temporary files), it is executable, and it is Helm 4.1.4.
    expect(readdirSync(join(path!, '..'))).toEqual(['helm']);
    expect(statSync(path!).mode & 0o111).toBe(0o111);
    expect((await run(path!, ['version', '--short'])).stdout).toMatch(/^v4\.1\.4\+/);
    // Asked again, it uses the file in place.
    const before = statSync(path!).mtimeMs;
    expect(helmPath({ env: {}, cacheRoot })).toBe(path);
    expect(statSync(path!).mtimeMs).toBe(before);
  });

  it.skipIf(!linuxX64 || process.env.HELM)('runs Helm 4.1.4, the one deploy/manifests/oombot.yaml is rendered with', () => {
    expect(runHelm(['version', '--short'])).toMatch(/^v4\.1\.4\+/);
  });

  it('says what to do elsewhere than linux-x64', () => {
    expect(() => helmPath({ env: {}, platform: 'darwin', arch: 'arm64', cacheRoot })).toThrow(
      /runs on linux-x64 only, and this is darwin-arm64\. Install Helm 4 .* and run the tests with HELM=\/path\/to\/helm\./,
    );
  });

  it('uses the Helm that HELM names, if it can run it', () => {
    expect(helmPath({ env: { HELM: process.execPath }, platform: 'darwin', arch: 'arm64' })).toBe(process.execPath);
    const missing = join(cacheRoot, 'no-such-helm');
    expect(() => helmPath({ env: { HELM: missing } })).toThrow(`HELM=${missing} is not an executable file`);
  });

  it("reports Helm's own message when it fails", () => {
    expect(() => runHelm(['template', 'x', join(cacheRoot, 'no-such-chart')])).toThrow(/^helm template x .*no-such-chart failed: Error: .*no-such-chart/s);
  });
});
