/**
 * A small set of coded errors. `hint` tells an operator what to do about it; `retryable` tells the
 * queue whether trying again can help.
 */
export type ErrorCode =
  | 'CONFIG'
  | 'KUBE_UNREACHABLE'
  | 'KUBE_FORBIDDEN'
  | 'KUBE_NOT_FOUND'
  | 'KUBE_CONFLICT'
  | 'KUBE_INVALID'
  | 'KUBE_GONE'
  | 'REDIS_UNREACHABLE'
  | 'UNKNOWN_CLUSTER'
  | 'AGENT_AWAY'
  | 'AGENT_REFUSED'
  | 'SLACK_AUTH'
  | 'SLACK_CHANNEL'
  | 'SLACK_RATE_LIMITED'
  | 'SLACK_UNAVAILABLE'
  | 'SLACK_REQUEST'
  | 'UNKNOWN';

export class OombotError extends Error {
  override readonly name = 'OombotError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { hint?: string; retryable?: boolean; cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
  get hint(): string | undefined {
    return this.options.hint;
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
  get status(): number | undefined {
    return this.options.status;
  }
}

/** Wraps anything thrown into an OombotError once; an OombotError passes through unchanged. */
export function asOombotError(err: unknown): OombotError {
  if (err instanceof OombotError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OombotError('UNKNOWN', message, { cause: err, retryable: true });
}

/** Adds context as an error travels up: "while enriching shop/api-7f9c: <message>". */
export function withContext(context: string, err: unknown): OombotError {
  const e = asOombotError(err);
  const wrapped = new OombotError(e.code, `${context}: ${e.message}`, { ...e.options, cause: err });
  return wrapped;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
