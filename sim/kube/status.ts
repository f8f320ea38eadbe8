/** metav1.Status errors, as the API server returns them. */
import type { Json } from './types.js';
import { qualifiedKind, qualifiedName, type ResourceDef } from './resources.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** An API error carrying the Status object the server answers with. */
export class SimApiError extends Error {
  readonly status: StatusObject;

  constructor(status: StatusObject) {
    super(status.message);
    this.name = 'SimApiError';
    this.status = status;
  }

  get code(): number {
    return this.status.code;
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function makeStatus(code: number, message: string, reason?: string, details?: StatusObject['details']): StatusObject {
  const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', code };
  if (details) s.details = details;
  return s;
}

function detailsOf(def: ResourceDef, name?: string): StatusObject['details'] {
  const d: NonNullable<StatusObject['details']> = {};
  if (name !== undefined) d.name = name;
  if (def.group) d.group = def.group;
  d.kind = def.plural;
  return d;
}

export function notFound(def: ResourceDef, name: string): SimApiError {
  return new SimApiError(makeStatus(404, `${qualifiedName(def)} "${name}" not found`, 'NotFound', detailsOf(def, name)));
}

export function alreadyExists(def: ResourceDef, name: string): SimApiError {
  return new SimApiError(makeStatus(409, `${qualifiedName(def)} "${name}" already exists`, 'AlreadyExists', detailsOf(def, name)));
}

export function conflict(def: ResourceDef, name: string): SimApiError {
  return new SimApiError(
    makeStatus(
      409,
      `Operation cannot be fulfilled on ${qualifiedName(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      'Conflict',
      detailsOf(def, name),
    ),
  );
}

export function forbidden(def: ResourceDef, name: string, why: string): SimApiError {
  return new SimApiError(makeStatus(403, `${qualifiedName(def)} "${name}" is forbidden: ${why}`, 'Forbidden', detailsOf(def, name)));
}

export interface FieldError {
  field: string;
  /** "FieldValueInvalid", "FieldValueForbidden", ... */
  type: string;
  /** Detail as printed after "field: ", e.g. `Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`. */
  detail: string;
}

export function invalid(def: ResourceDef, name: string, errors: FieldError[]): SimApiError {
  const list = errors.map((e) => `${e.field}: ${e.detail}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const details: NonNullable<StatusObject['details']> = {
    name,
    kind: def.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  };
  if (def.group) details.group = def.group;
  return new SimApiError(makeStatus(422, `${qualifiedKind(def)} "${name}" is invalid: ${summary}`, 'Invalid', details));
}

export function badRequest(message: string): SimApiError {
  return new SimApiError(makeStatus(400, message, 'BadRequest'));
}

export function gone(message: string): SimApiError {
  return new SimApiError(makeStatus(410, message, 'Expired'));
}

export function isStatusError(err: unknown): err is SimApiError {
  return err instanceof SimApiError;
}

/** The Status to answer for any thrown value. */
export function toStatus(err: unknown): StatusObject {
  if (err instanceof SimApiError) return err.status;
  return makeStatus(500, `Internal error occurred: ${(err as Json)?.message ?? String(err)}`, 'InternalError');
}
