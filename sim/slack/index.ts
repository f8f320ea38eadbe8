/** Simulated Slack for tests, benchmarks and the demo: a Web API server and a signed-request client. */
export { startSlackServer, type DownMode, type SlackServer } from './server.js';
export type { EnvelopeType, SocketAck, SocketEnvelope, SocketModeSim } from './socket-mode.js';
export type { ResponseUrlTarget } from './response-url.js';
export {
  replaySignedRequest,
  sendBlockAction,
  sendSigned,
  sendSlashCommand,
  sendViewSubmission,
  signSlackRequest,
  type SignedRequest,
  type SignedResponse,
  type SignOptions,
} from './signed-client.js';
export {
  blockActionPayload,
  makeActionTs,
  makeTriggerId,
  slashCommandFields,
  viewSubmissionPayload,
  SIM_DEFAULTS,
  type BlockActionInput,
  type SlackIdentity,
  type SlashCommandInput,
  type ViewSubmissionInput,
} from './interaction-payloads.js';
export {
  BLOCK_KIT_LIMITS,
  parseJsonArgument,
  validateBlocks,
  validateMessage,
  validateView,
  type MessageError,
  type MessagePayload,
  type Surface,
  type ValidationResult,
} from './validate-blocks.js';
export { DEFAULT_RATE_LIMITS, NON_MARKETPLACE_RATE_LIMITS } from './rate-limiter.js';
export { DEFAULT_BOT, DEFAULT_CHANNELS, DEFAULT_TEAM, DEFAULT_USERS } from './workspace.js';
export type * from './types.js';
