/**
 * Sends requests to an app the way Slack does: form-encoded bodies signed with the app's signing secret
 * (`X-Slack-Signature: v0=<hex HMAC-SHA256("v0:{timestamp}:{raw body}")>`, `X-Slack-Request-Timestamp`).
 * Options forge the signature, age the timestamp or replay an earlier request, to test verification.
 */
import { createHmac } from 'node:crypto';
import {
  blockActionPayload,
  slashCommandFields,
  viewSubmissionPayload,
  type BlockActionInput,
  type SlashCommandInput,
  type ViewSubmissionInput,
} from './interaction-payloads.js';

export { blockActionPayload, slashCommandFields, viewSubmissionPayload } from './interaction-payloads.js';
export type { BlockActionInput, SlashCommandInput, ViewSubmissionInput } from './interaction-payloads.js';

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` keyed with the signing secret. */
export function signSlackRequest(signingSecret: string, rawBody: string, timestamp: number | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:${rawBody}`);
  return `v0=${hmac.digest('hex')}`;
}

export interface SignOptions {
  /** Unix seconds to sign with and send. Default: now. */
  timestamp?: number;
  /** Make the timestamp this many seconds old (301 or more is stale for Slack's 5-minute rule). */
  ageSeconds?: number;
  /** Sign with another secret: a forged request. */
  forgeWithSecret?: string;
  /** Send this `X-Slack-Signature` verbatim. */
  signature?: string;
  /** Send no signature headers at all. */
  unsigned?: boolean;
  /** Extra headers (e.g. `X-Slack-Retry-Num`). */
  headers?: Record<string, string>;
}

export interface SignedRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timestamp: number;
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  /** Raw response body (what the app put in its ack). */
  text: string;
  /** Same as `text`. */
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  /** What was sent, for `replaySignedRequest`. */
  request: SignedRequest;
}

const SLACK_USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';

async function send(request: SignedRequest): Promise<SignedResponse> {
  const res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: text, ...(json !== undefined && { json }), request };
}

/** Signs and POSTs a raw body. `appUrl` is the full endpoint, e.g. `http://127.0.0.1:3000/slack/events`. */
export function sendSigned(appUrl: string, signingSecret: string, body: string, contentType: string, opts: SignOptions = {}): Promise<SignedResponse> {
  const timestamp = (opts.timestamp ?? Math.floor(Date.now() / 1000)) - (opts.ageSeconds ?? 0);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': SLACK_USER_AGENT,
    accept: 'application/json,*/*',
  };
  if (!opts.unsigned) {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = opts.signature ?? signSlackRequest(opts.forgeWithSecret ?? signingSecret, body, timestamp);
  }
  Object.assign(headers, opts.headers);
  return send({ url: appUrl, body, headers, timestamp });
}

/** Sends the exact same bytes and headers again (a replay within the timestamp window). */
export function replaySignedRequest(request: SignedRequest): Promise<SignedResponse> {
  return send(request);
}

const FORM = 'application/x-www-form-urlencoded';

/** A slash command, form-encoded with every field Slack sends. */
export function sendSlashCommand(appUrl: string, signingSecret: string, input: SlashCommandInput, opts?: SignOptions): Promise<SignedResponse> {
  const body = new URLSearchParams(slashCommandFields(input)).toString();
  return sendSigned(appUrl, signingSecret, body, FORM, opts);
}

/** Interactivity requests are form-encoded with one field, `payload`, holding the JSON. */
function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A button click (`block_actions`). */
export function sendBlockAction(appUrl: string, signingSecret: string, input: BlockActionInput, opts?: SignOptions): Promise<SignedResponse> {
  return sendSigned(appUrl, signingSecret, interactionBody(blockActionPayload(input)), FORM, opts);
}

/** A modal submission (`view_submission`). */
export function sendViewSubmission(appUrl: string, signingSecret: string, input: ViewSubmissionInput, opts?: SignOptions): Promise<SignedResponse> {
  return sendSigned(appUrl, signingSecret, interactionBody(viewSubmissionPayload(input)), FORM, opts);
}
