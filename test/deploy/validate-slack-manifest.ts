/**
 * Checks a Slack app manifest against the `Manifest` type that @slack/web-api ships
 * (dist/types/request/manifest.d.ts, the type of apps.manifest.create): the interfaces, unions of string
 * literals (scopes, events) and type aliases are read from that file, so a misspelled key, a wrong type
 * or an unknown scope is reported. Unknown keys are refused even where the type allows extra ones
 * (`Manifest extends Record<string, unknown>`), as Slack's own validation refuses them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DTS = fileURLToPath(new URL('../../node_modules/@slack/web-api/dist/types/request/manifest.d.ts', import.meta.url));

interface Member {
  optional: boolean;
  type: string;
}

interface Types {
  interfaces: Map<string, Map<string, Member>>;
  aliases: Map<string, string>;
}

let cached: Types | undefined;

export function slackManifestTypes(): Types {
  if (cached) return cached;
  const src = readFileSync(DTS, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const interfaces = new Map<string, Map<string, Member>>();
  for (const m of src.matchAll(/(?:export\s+)?interface\s+(\w+)(?:\s+extends\s+[^{]+)?\s*\{([^}]*)\}/g)) {
    const members = new Map<string, Member>();
    for (const f of m[2]!.matchAll(/(\w+)(\?)?\s*:\s*([^;]+);/g)) members.set(f[1]!, { optional: Boolean(f[2]), type: f[3]!.trim() });
    interfaces.set(m[1]!, members);
  }
  const aliases = new Map<string, string>();
  for (const m of src.matchAll(/(?:export\s+)?type\s+(\w+)\s*=\s*([^;]+);/g)) aliases.set(m[1]!, m[2]!.replace(/\s+/g, ' ').trim());
  cached = { interfaces, aliases };
  return cached;
}

/** The string literals of a union alias, e.g. every bot scope of `BotScope`. */
export function literalsOf(alias: string): string[] {
  const t = slackManifestTypes().aliases.get(alias);
  if (!t) throw new Error(`no type ${alias} in the Slack manifest types`);
  return [...t.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
}

function splitUnion(t: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of t) {
    if (ch === '<' || ch === '{' || ch === '(') depth++;
    if (ch === '>' || ch === '}' || ch === ')') depth--;
    if (ch === '|' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  parts.push(cur.trim());
  return parts.filter((p) => p !== '');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function check(value: unknown, type: string, path: string, problems: string[]): void {
  const types = slackManifestTypes();
  const t = type.trim();
  const union = splitUnion(t);
  if (union.length > 1) {
    if (union.every((u) => /^'.*'$/.test(u))) {
      const allowed = union.map((u) => u.slice(1, -1));
      if (typeof value !== 'string' || !allowed.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of the allowed values`);
      return;
    }
    const attempts = union.map((u) => {
      const p: string[] = [];
      check(value, u, path, p);
      return p;
    });
    if (!attempts.some((p) => p.length === 0)) problems.push(...attempts.sort((a, b) => a.length - b.length)[0]!);
    return;
  }
  if (/^'.*'$/.test(t)) {
    if (value !== t.slice(1, -1)) problems.push(`${path}: expected ${t}`);
    return;
  }
  const array = /^(.+)\[\]$/.exec(t);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
    else value.forEach((v, i) => check(v, array[1]!, `${path}[${i}]`, problems));
    return;
  }
  const record = /^Record<string,\s*(.+)>$/.exec(t);
  if (record) {
    if (!isObject(value)) problems.push(`${path}: expected a map`);
    else for (const [k, v] of Object.entries(value)) check(v, record[1]!, `${path}.${k}`, problems);
    return;
  }
  if (t === 'string' || t === 'number' || t === 'boolean') {
    if (typeof value !== t) problems.push(`${path}: expected a ${t}, got ${JSON.stringify(value)}`);
    return;
  }
  if (t === 'unknown') return;
  const alias = types.aliases.get(t);
  if (alias) return check(value, alias, path, problems);
  const members = types.interfaces.get(t);
  if (!members) {
    problems.push(`${path}: unknown type ${t}`);
    return;
  }
  if (!isObject(value)) {
    problems.push(`${path}: expected a map (${t})`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const m = members.get(k);
    if (!m) problems.push(`${path}.${k}: unknown key (known: ${[...members.keys()].join(', ')})`);
    else check(v, m.type, `${path}.${k}`, problems);
  }
  for (const [k, m] of members) if (!m.optional && value[k] === undefined) problems.push(`${path}.${k}: required`);
}

export function validateSlackManifest(manifest: unknown): string[] {
  const problems: string[] = [];
  check(manifest, 'Manifest', 'manifest', problems);
  return problems;
}
