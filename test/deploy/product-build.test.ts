/**
 * The product's own build (tsconfig.json, what deploy/Dockerfile compiles) holds no simulator and no
 * benchmark code, and its CLI says plainly that the demo is not part of it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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

  it('answers `oombot demo` with what to do instead, exit code 2', () => {
    const env = { PATH: process.env.PATH ?? '', HOME: out, LOG_LEVEL: 'silent' };
    const run = spawnSync(process.execPath, [join(out, 'dist', 'bin', 'oombot.js'), 'demo', '--exit-when-done'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('the demo is not part of this build');
    expect(run.stderr).toContain('KUBECONFIG');
  });
});
