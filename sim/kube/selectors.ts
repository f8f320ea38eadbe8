/** Label and field selectors as the API server parses them. */
import type { KubeObject, Json } from './types.js';
import { badRequest } from './status.js';
import type { ResourceDef } from './resources.js';

export type Matcher = (obj: KubeObject) => boolean;

const ALWAYS: Matcher = () => true;

/** Split on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(selector: string | undefined): Matcher {
  if (!selector?.trim()) return ALWAYS;
  const tests: Array<(labels: Record<string, string>) => boolean> = [];
  for (const term of splitTerms(selector)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$/.exec(term))) {
      const key = m[1]!;
      const values = new Set(
        m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
      if (m[2] === 'in') tests.push((l) => l[key] !== undefined && values.has(l[key]!));
      else tests.push((l) => l[key] === undefined || !values.has(l[key]!));
    } else if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(term))) {
      const [key, value] = [m[1]!, m[2]!];
      tests.push((l) => l[key] !== value);
    } else if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(term))) {
      const [key, value] = [m[1]!, m[2]!];
      tests.push((l) => l[key] === value);
    } else if ((m = /^!\s*([^\s!=]+)$/.exec(term))) {
      const key = m[1]!;
      tests.push((l) => l[key] === undefined);
    } else if ((m = /^([^\s!=(),]+)$/.exec(term))) {
      const key = m[1]!;
      tests.push((l) => l[key] !== undefined);
    } else {
      throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return tests.every((t) => t(labels));
  };
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') return String(obj.source?.component ?? '');
  let cur: Json = obj;
  for (const part of field.split('.')) {
    if (cur === undefined || cur === null) return '';
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

export function parseFieldSelector(selector: string | undefined, def: ResourceDef): Matcher {
  if (!selector?.trim()) return ALWAYS;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(def.fields ?? [])]);
  const tests: Matcher[] = [];
  for (const term of splitTerms(selector)) {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [field, op, value] = [m[1]!.trim(), m[2]!, m[3]!.trim()];
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    if (op === '!=') tests.push((o) => fieldValue(o, field) !== value);
    else tests.push((o) => fieldValue(o, field) === value);
  }
  return (obj) => tests.every((t) => t(obj));
}
