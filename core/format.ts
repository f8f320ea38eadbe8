/** Small formatting functions shared by diagnosis and message building (pure, deterministic). */

/** Milliseconds since the epoch of an ISO time, or undefined. */
export function timeMs(iso: string | undefined): number | undefined {
  if (typeof iso !== 'string') return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** Seconds from `from` to `to`, or undefined when either is missing or the order is wrong. */
export function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  const a = timeMs(from);
  const b = timeMs(to);
  if (a === undefined || b === undefined || b < a) return undefined;
  return Math.round((b - a) / 1000);
}

/** `8s`, `4m 10s`, `3h 12m`, `2d 3h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

/** `2026-11-23 12:40:05 UTC` from an ISO time; the input itself when unparsable. */
export function formatTime(iso: string | undefined): string {
  const t = timeMs(iso);
  if (t === undefined) return iso ?? 'unknown';
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$|Z$/, ' UTC');
}

export function percent(part: number, whole: number): string {
  return `${Math.round((part / whole) * 100)}%`;
}

/** What an exit code means, for people. */
export function describeExitCode(code: number | undefined): string {
  if (code === undefined) return 'unknown exit code';
  if (code === 0) return 'exit code 0 (a normal exit)';
  if (code === 1) return 'exit code 1 (an application error)';
  if (code === 137) return 'exit code 137 (SIGKILL)';
  if (code === 143) return 'exit code 143 (SIGTERM, a graceful stop such as a rollout)';
  if (code > 128 && code < 160) return `exit code ${code} (signal ${code - 128})`;
  return `exit code ${code}`;
}

/** Collapses whitespace and trims to at most `max` code points, with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const window = max * 4 + 16;
  const cut = text.length > window;
  const flat = (cut ? text.slice(0, window).replace(/[\uD800-\uDBFF]$/, '') : text).replace(/\s+/g, ' ').trim();
  const cps = Array.from(flat);
  if (cps.length <= max && !cut) return flat;
  return `${cps.slice(0, Math.max(0, max - 1)).join('')}…`;
}
