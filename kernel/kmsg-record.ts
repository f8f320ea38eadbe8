/**
 * One record of the kernel ring buffer as /dev/kmsg hands it out: `prio,seq,usec,flags;message`, then
 * continuation lines that start with a space (the record's dictionary, `SUBSYSTEM=...`). Pure: no I/O.
 * See Documentation/ABI/testing/dev-kmsg in the kernel tree.
 */

export interface KmsgRecord {
  /** Syslog facility * 8 + level. */
  prio: number;
  /** The kernel's 64-bit sequence number of the record: grows by one per record since boot. */
  seq: number;
  /** Microseconds since boot (CLOCK_MONOTONIC) when the record was logged. */
  usec: number;
  /** The message, with the kernel's `\xNN` escapes of non-printable bytes left as they are. */
  message: string;
}

/** Longest message kept (the kernel's own limit is about 1 kB per record). */
export const MAX_MESSAGE = 2048;

const HEADER = /^(\d{1,10}),(\d{1,20}),(\d{1,20}),[^;]{0,16};/;

/**
 * The record in one read() of /dev/kmsg (or one line of a file in the same format), or undefined when the
 * text is not a record. Continuation lines (the dictionary) are dropped.
 */
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const head = HEADER.exec(text.slice(0, 80));
  if (!head) return undefined;
  const seq = Number(head[2]);
  const usec = Number(head[3]);
  const prio = Number(head[1]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(usec)) return undefined;
  const rest = text.slice(head[0].length, head[0].length + MAX_MESSAGE + 1);
  const nl = rest.indexOf('\n');
  const message = (nl >= 0 ? rest.slice(0, nl) : rest).slice(0, MAX_MESSAGE);
  return { prio, seq, usec, message };
}

/**
 * Splits a stream of text (a FIFO or file holding what /dev/kmsg gives, one record per line plus
 * continuation lines starting with a space) into record texts. Keeps the incomplete tail for the next chunk.
 */
export class KmsgLineSplitter {
  private tail = '';

  /** Record texts complete in `chunk` (with what was left of the previous one). */
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    // A runaway line with no newline is cut, never buffered without bound.
    if (this.tail.length > 4 * MAX_MESSAGE) this.tail = this.tail.slice(0, 4 * MAX_MESSAGE);
    return lines.filter((line) => line !== '' && !line.startsWith(' '));
  }
}
