/**
 * Finds the runtime memory settings that commonly cause limit kills in a container spec:
 * JVM -Xmx / -Xms / -XX:MaxRAMPercentage / -XX:MaxRAM / -XX:-UseContainerSupport, Node.js
 * --max-old-space-size, PHP memory_limit, and the env vars GOMEMLIMIT, GOGC, DOTNET_GCHeapHardLimit(Percent).
 *
 * Secrets never leave this function. Env values may be secrets, so:
 * - for GOMEMLIMIT, GOGC, DOTNET_* and PHP_MEMORY_LIMIT the NAME is reported (the variable is set), and for
 *   GOMEMLIMIT and DOTNET_GCHeapHardLimit the size too when the whole value is exactly a size (`2GiB`,
 *   `0x40000000`), rebuilt from its parsed parts;
 * - for the runtime option variables (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS, JAVA_OPTS,
 *   NODE_OPTIONS), which hold standard flags, each recognised memory flag is matched by a strict pattern
 *   (digits and a unit letter only) and REBUILT from its parsed parts (`-Xmx4g`); no other part of the
 *   value is kept, and `value` stays unset.
 * Command and args are read token by token (a `sh -c "java -Xmx2g ..."` string is split on spaces) and
 * only tokens matching those patterns are kept, so a password flag next to them is never copied.
 */
import type { V1Container } from '@kubernetes/client-node';
import type { RuntimeMemorySetting, RuntimeSettingName } from './enriched.js';
import { strictRuntimeSize } from '../core/runtime-size.js';

const OPTION_VARS = new Set(['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'JAVA_OPTS', 'NODE_OPTIONS']);
const SET_ONLY_VARS: Record<string, RuntimeSettingName> = {
  GOMEMLIMIT: 'GOMEMLIMIT',
  GOGC: 'GOGC',
  DOTNET_GCHeapHardLimit: 'DOTNET_GCHeapHardLimit',
  COMPlus_GCHeapHardLimit: 'DOTNET_GCHeapHardLimit',
  DOTNET_GCHeapHardLimitPercent: 'DOTNET_GCHeapHardLimitPercent',
  COMPlus_GCHeapHardLimitPercent: 'DOTNET_GCHeapHardLimitPercent',
  PHP_MEMORY_LIMIT: 'memory_limit',
};

const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

const JVM_SIZE = /^-Xm([xs])(\d{1,13})([kKmMgGtT]?)$/;
const JVM_MAX_RAM = /^-XX:MaxRAM=(\d{1,16})([kKmMgGtT]?)$/;
const JVM_PERCENT = /^-XX:MaxRAMPercentage=(\d{1,3}(?:\.\d{1,4})?)$/;
const JVM_CONTAINER = /^-XX:([+-])UseContainerSupport$/;
const NODE_OLD_SPACE = /^--max[-_]old[-_]space[-_]size(?:=(\d{1,9}))?$/;
const DIGITS = /^\d{1,9}$/;
const PHP_LIMIT = /^(?:-d)?memory_limit=(-1|\d{1,13}[kKmMgG]?)$/;

function sizeBytes(digits: string, unit: string): number | undefined {
  const n = Number(digits) * (UNIT[unit.toLowerCase()] ?? 1);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Splits command/args strings into tokens, dropping quotes and shell separators at the edges. */
function tokens(text: string): string[] {
  return text
    .split(/\s+/)
    .map((t) => t.replace(/^["'(]+|["';&|)]+$/g, ''))
    .filter((t) => t !== '');
}

interface Parsed {
  name: RuntimeSettingName;
  flag: string;
  value: string;
  bytes?: number;
  percent?: number;
  enabled?: boolean;
}

/** Recognises one token (with the next one for the space-separated Node.js form). */
function parseToken(token: string, next: string | undefined): { parsed?: Parsed; consumedNext: boolean } {
  let m = JVM_SIZE.exec(token);
  if (m) {
    const [, which, digits = '', unit = ''] = m;
    return {
      parsed: { name: which === 'x' ? '-Xmx' : '-Xms', flag: `-Xm${which}${digits}${unit}`, value: `${digits}${unit}`, bytes: sizeBytes(digits, unit) },
      consumedNext: false,
    };
  }
  m = JVM_MAX_RAM.exec(token);
  if (m) {
    const [, digits = '', unit = ''] = m;
    return { parsed: { name: 'MaxRAM', flag: `-XX:MaxRAM=${digits}${unit}`, value: `${digits}${unit}`, bytes: sizeBytes(digits, unit) }, consumedNext: false };
  }
  m = JVM_PERCENT.exec(token);
  if (m) {
    const [, pct = ''] = m;
    return { parsed: { name: 'MaxRAMPercentage', flag: `-XX:MaxRAMPercentage=${pct}`, value: pct, percent: Number(pct) }, consumedNext: false };
  }
  m = JVM_CONTAINER.exec(token);
  if (m) {
    const enabled = m[1] === '+';
    return { parsed: { name: 'UseContainerSupport', flag: `-XX:${m[1]}UseContainerSupport`, value: enabled ? '+' : '-', enabled }, consumedNext: false };
  }
  m = NODE_OLD_SPACE.exec(token);
  if (m) {
    const inline = m[1];
    const mib = inline ?? (next !== undefined && DIGITS.test(next) ? next : undefined);
    if (mib === undefined) return { consumedNext: false };
    return {
      parsed: { name: '--max-old-space-size', flag: `--max-old-space-size=${mib}`, value: mib, bytes: Number(mib) * 1024 ** 2 },
      consumedNext: inline === undefined,
    };
  }
  m = PHP_LIMIT.exec(token);
  if (m) {
    const raw = m[1] ?? '';
    const unitMatch = /^(\d+)([kKmMgG]?)$/.exec(raw);
    const bytes = unitMatch ? sizeBytes(unitMatch[1] ?? '', unitMatch[2] ?? '') : undefined;
    return { parsed: { name: 'memory_limit', flag: `memory_limit=${raw}`, value: raw, ...(bytes === undefined ? {} : { bytes }) }, consumedNext: false };
  }
  return { consumedNext: false };
}

function scan(texts: readonly string[]): Parsed[] {
  const found: Parsed[] = [];
  const all = texts.flatMap(tokens);
  for (let i = 0; i < all.length; i++) {
    const token = all[i] as string;
    // `-d memory_limit=...` and `-dmemory_limit=...` are both PHP forms; the bare form is matched too.
    const { parsed, consumedNext } = parseToken(token, all[i + 1]);
    if (parsed) found.push(parsed);
    if (consumedNext) i++;
  }
  return found;
}

function clean(p: Parsed): Omit<Parsed, 'value' | 'flag'> {
  const out: Omit<Parsed, 'value' | 'flag'> = { name: p.name };
  if (p.bytes !== undefined) out.bytes = p.bytes;
  if (p.percent !== undefined) out.percent = p.percent;
  if (p.enabled !== undefined) out.enabled = p.enabled;
  return out;
}

/** The runtime memory settings of one container, in spec order: command, args, then env. */
export function extractRuntimeMemorySettings(container: Pick<V1Container, 'command' | 'args' | 'env'>): RuntimeMemorySetting[] {
  const settings: RuntimeMemorySetting[] = [];
  for (const source of ['command', 'args'] as const) {
    const list = container[source];
    const texts = Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
    for (const p of scan(texts)) settings.push({ ...clean(p), source, value: p.value, flag: p.flag });
  }
  for (const env of Array.isArray(container.env) ? container.env : []) {
    if (!env || typeof env.name !== 'string') continue;
    const setOnly = SET_ONLY_VARS[env.name];
    if (setOnly) {
      // A size that is nothing but a size is read (and rebuilt); any other value stays unread.
      const size = typeof env.value === 'string' ? strictSize(setOnly, env.value) : undefined;
      settings.push({ name: setOnly, source: 'env', envName: env.name, ...(size ? { bytes: size.bytes, flag: `${env.name}=${size.text}` } : {}) });
      continue;
    }
    if (OPTION_VARS.has(env.name) && typeof env.value === 'string') {
      for (const p of scan([env.value])) settings.push({ ...clean(p), source: 'env', envName: env.name, flag: p.flag });
    }
  }
  return settings;
}

/** GOMEMLIMIT and DOTNET_GCHeapHardLimit when the value is exactly a size (core/runtime-size.ts). */
function strictSize(name: RuntimeSettingName, value: string): { bytes: number; text: string } | undefined {
  if (name === 'GOMEMLIMIT') return strictRuntimeSize('go', value);
  if (name === 'DOTNET_GCHeapHardLimit') return strictRuntimeSize('dotnet', value);
  return undefined;
}

/** Names of the env vars in a container spec (never their values). */
export function extractEnvNames(container: Pick<V1Container, 'env'>): string[] {
  return (Array.isArray(container.env) ? container.env : []).map((e) => e?.name).filter((n): n is string => typeof n === 'string');
}

/** How a setting is shown to people: `-Xmx2g (args)`, `-Xmx4g (from JAVA_TOOL_OPTIONS)`, `GOMEMLIMIT is set`. */
export function describeSetting(s: RuntimeMemorySetting): string {
  if (s.source === 'env') {
    if (s.flag) return `${s.flag} (from ${s.envName ?? 'env'})`;
    return `${s.envName ?? s.name} is set (env; value not read)`;
  }
  return `${s.flag ?? s.name} (${s.source})`;
}
