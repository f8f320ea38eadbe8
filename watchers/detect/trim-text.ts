/** Trims untrusted text to at most `maxBytes` bytes of UTF-8, never splitting a character. */
export function trimText(text: string | undefined, maxBytes: number): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  // Fast path: a string of n UTF-16 units is at most 3n bytes of UTF-8.
  if (trimmed.length * 3 <= maxBytes) return trimmed;
  let bytes = 0;
  let end = 0;
  for (const char of trimmed) {
    const size = utf8Size(char.codePointAt(0) ?? 0);
    if (bytes + size > maxBytes) return trimmed.slice(0, end).trimEnd();
    bytes += size;
    end += char.length;
  }
  return trimmed;
}

function utf8Size(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/** Termination messages are kept to 1 kB. */
export const TERMINATION_MESSAGE_BYTES = 1024;
/** Eviction and event messages are kept to 4 kB (a kubelet eviction message naming many containers fits). */
export const EVENT_MESSAGE_BYTES = 4096;
