/** Arguments, answers and argument readers shared by the Web API method handlers. */
import type { Workspace } from '../workspace.js';

export type Args = Record<string, unknown>;
export type Body = Record<string, unknown> & { ok: boolean; error?: string };

export interface MethodContext {
  ws: Workspace;
  triggerIdTtlMs: number;
  strictTriggerIds: boolean;
  /** `limit` of conversations.history / conversations.replies: default and maximum. */
  historyLimit: { default: number; max: number };
  /** The URL files.getUploadURLExternal hands out for a file id (on this server). */
  uploadUrl(fileId: string): string;
}

export type MethodHandler = (args: Args, ctx: MethodContext) => Body;

/** Slack's error answer (HTTP 200 with `ok: false`), with its validation messages when it gives any. */
export const fail = (error: string, messages?: string[]): Body =>
  messages && messages.length > 0 ? { ok: false, error, response_metadata: { messages } } : { ok: false, error };

export const asBool = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === true || v === 'true' || v === '1' || v === 1);

export const asString = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : String(v));

export const isBody = (v: unknown): v is Body => typeof v === 'object' && v !== null && 'ok' in v;
