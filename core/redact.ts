/**
 * Hides the credentials of a URL (`redis://user:secret@host` -> `redis://***@host`, and a
 * `sentinelPassword=` option) before it is logged or shown.
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&]sentinelPassword=)[^&#]*/gi, '$1***');
}
