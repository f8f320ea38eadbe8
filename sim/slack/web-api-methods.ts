/**
 * The Web API methods the simulated workspace answers, with Slack's argument handling and error names.
 * Each handler takes the parsed arguments and returns Slack's JSON body (`ok: false` bodies are answered with
 * HTTP 200, as Slack does). The handlers live in methods/, one module per method family.
 */
import type { MethodHandler } from './methods/common.js';
import { authTest } from './methods/auth.js';
import { deleteMessage, postEphemeral, postMessage, update } from './methods/chat.js';
import { viewsOpen } from './methods/views.js';
import { conversationsHistory, conversationsInfo, conversationsJoin, conversationsList, conversationsReplies } from './methods/conversations.js';
import { usersInfo } from './methods/users.js';
import { completeUploadExternal, getUploadURLExternal } from './methods/files.js';

export type { Args, Body, MethodContext, MethodHandler } from './methods/common.js';
export { channelJson, messageJson } from './methods/json.js';

export const METHODS: Record<string, MethodHandler> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'chat.delete': deleteMessage,
  'views.open': viewsOpen,
  'conversations.info': conversationsInfo,
  'conversations.join': conversationsJoin,
  'conversations.list': conversationsList,
  'conversations.history': conversationsHistory,
  'conversations.replies': conversationsReplies,
  'users.info': usersInfo,
  'files.getUploadURLExternal': getUploadURLExternal,
  'files.completeUploadExternal': completeUploadExternal,
};
