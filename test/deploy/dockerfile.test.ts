/**
 * deploy/Dockerfile, read as Docker reads it (no daemon is needed): a two-stage build on node:24-slim that
 * compiles every source folder, and a runtime stage that runs as a numeric non-root user under tini,
 * with a health check on /healthz, and that fits the chart's security settings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCKERFILE, DOCKERIGNORE, find, podSpecOf, readPlainManifests } from './deploy-files.js';

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with their continuation lines joined, comments and the parser directive dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  return out;
}

/** The stages of a multi-stage build: FROM and what follows it. */
function stages(ins: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const i of ins) {
    if (i.op === 'FROM') out.push([]);
    out[out.length - 1]!.push(i);
  }
  return out;
}

const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const [build, runtime] = stages(instructions) as [Instruction[], Instruction[]];
const args = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);
const json = (s: string) => JSON.parse(s) as string[];

describe('deploy/Dockerfile', () => {
  it('builds in one stage and runs from another, both node:24-slim', () => {
    expect(stages(instructions)).toHaveLength(2);
    expect(args(build, 'FROM')).toEqual(['node:24-slim AS build']);
    expect(args(runtime, 'FROM')).toEqual(['node:24-slim']);
  });

  it('installs from the lock file and compiles every folder tsconfig.json includes', () => {
    const tsconfig = JSON.parse(readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8')) as { include: string[] };
    const copies = args(build, 'COPY');
    expect(copies[0]).toBe('package.json package-lock.json ./');
    expect(args(build, 'RUN')[0]).toMatch(/^npm ci\b/);
    for (const folder of tsconfig.include) expect(copies, folder).toContain(`${folder} ./${folder}`);
    expect(args(build, 'RUN').join('\n')).toContain('tsc -p tsconfig.json');
    expect(args(build, 'RUN').join('\n')).toContain('npm prune --omit=dev');
  });

  it('leaves the simulator and the benchmarks out of the image', () => {
    const tsconfig = JSON.parse(readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8')) as { include: string[] };
    expect(tsconfig.include).not.toContain('sim');
    expect(tsconfig.include).not.toContain('bench');
    const copied = [...args(build, 'COPY'), ...args(runtime, 'COPY')].join('\n');
    expect(copied).not.toMatch(/\b(sim|bench)\b/);
    const ignored = readFileSync(DOCKERIGNORE, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['sim', 'bench', 'test']));
  });

  it('runs the compiled CLI under tini as a numeric non-root user, the one the chart expects', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(json(args(runtime, 'ENTRYPOINT')[0]!)).toEqual(['/usr/bin/tini', '--', 'node', pkg.bin.oombot]);
    expect(json(args(runtime, 'CMD')[0]!)).toEqual(['start']);
    expect(args(runtime, 'RUN').join('\n')).toMatch(/apt-get install -y --no-install-recommends tini/);
    const [user, group] = args(runtime, 'USER')[0]!.split(':');
    expect(user).toMatch(/^[1-9]\d*$/);
    const pod = podSpecOf(find(readPlainManifests(), 'Deployment', 'oombot-worker'));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user), runAsGroup: Number(group) });
    // The code is owned by root: the process cannot rewrite it.
    expect(args(runtime, 'COPY').filter((c) => c.includes('--chown'))).toEqual([]);
  });

  it('runs what it copies with production dependencies only (npm prune --omit=dev)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const runtimeFolders = ['bin', 'core', 'watchers', 'sampler', 'agent', 'handlers', 'bot', 'sim'];
    const imported = new Set<string>();
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    for (const folder of runtimeFolders) {
      for (const file of walk(fileURLToPath(new URL(`../../${folder}`, import.meta.url)))) {
        const src = readFileSync(file, 'utf8');
        for (const m of src.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^'.][^']*)'/gm)) {
          const spec = m[1]!;
          if (spec.startsWith('node:')) continue;
          imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it('checks /healthz on PORT and exposes the default port', () => {
    const check = args(runtime, 'HEALTHCHECK')[0]!;
    expect(check).toContain('/healthz');
    expect(check).toContain('process.env.PORT||3000');
    expect(args(runtime, 'EXPOSE')).toEqual(['3000']);
  });

  it('keeps dependencies, build output and the git history out of the build context', () => {
    const ignored = readFileSync(DOCKERIGNORE, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git']) expect(ignored).toContain(p);
  });
});
