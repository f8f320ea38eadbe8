/**
 * The Kubernetes resources named in API paths written out in the product's sources
 * (`/apis/apps/v1/namespaces/${ns}/deployments/${name}`), as "resource[/subresource][.group]".
 * Paths assembled from variables (`${group}/${plural}`) are not seen here; the recorded flows see them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PRODUCT_FOLDERS } from './find-slack-calls.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

export function resourceOfPath(path: string): string | undefined {
  const segs = path
    .replace(/\$\{[^}]*\}/g, '{}')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s.endsWith('{}') && s !== '{}' ? s.slice(0, -2) : s));
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  if (!resource || resource === '{}' || resource === 'namespaces') return undefined;
  const withSub = name && sub && sub !== '{}' ? `${resource}/${sub}` : resource;
  return group ? `${withSub}.${group}` : withSub;
}

/** resource → the files naming it. */
export function findKubeResources(repoRoot: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const folder of PRODUCT_FOLDERS) {
    for (const file of sourceFiles(join(repoRoot, folder))) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/['"`](\/apis?\/[^'"`\s]*)['"`]/g)) {
        const r = resourceOfPath(m[1]!);
        if (r) out.set(r, [...(out.get(r) ?? []), relative(repoRoot, file)]);
      }
    }
  }
  return out;
}
