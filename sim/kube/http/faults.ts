/** Injected failures of list requests: the next `n` answer with an HTTP status as a Status object. */
import type { ServerResponse } from 'node:http';
import { makeStatus, type StatusObject } from '../status.js';
import { sendStatus } from './respond.js';

export interface FailOptions {
  message?: string;
  /** For 429 and 503: Retry-After header and details.retryAfterSeconds. */
  retryAfterSeconds?: number;
}

/** The API server's own wording of each status, unless the test chose a message. */
function defaultMessage(status: number): string {
  if (status === 429) return 'Too many requests, please try again later.';
  if (status === 503) return 'the server is currently unable to handle the request';
  return 'Internal error occurred: injected failure';
}

export class InjectedFailures {
  private pending: { left: number; status: number; opts: FailOptions } = { left: 0, status: 500, opts: {} };

  set(n: number, status: number, opts: FailOptions): void {
    this.pending = { left: n, status, opts };
  }

  /** Answers `res` with the next pending failure; false when none is left. */
  take(res: ServerResponse): boolean {
    if (this.pending.left <= 0) return false;
    this.pending.left--;
    const { status, opts } = this.pending;
    const headers: Record<string, string> = {};
    const details: NonNullable<StatusObject['details']> = {};
    if (opts.retryAfterSeconds !== undefined) {
      headers['Retry-After'] = String(opts.retryAfterSeconds);
      details.retryAfterSeconds = opts.retryAfterSeconds;
    }
    sendStatus(res, makeStatus(status, opts.message ?? defaultMessage(status), undefined, Object.keys(details).length ? details : undefined), headers);
    return true;
  }
}
