/**
 * Block Kit and message validation with Slack's limits and error names.
 * Pure: no I/O, usable from any test (`validateMessage(payload).error === undefined` means Slack would accept it).
 *
 * Problems are reported the way Slack does in `response_metadata.messages`:
 * `[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
 */

export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  messageText: 40_000,
  blockId: 255,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  url: 3000,
  imageAltText: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  placeholder: 150,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  overflowOptionsMin: 2,
  overflowOptionsMax: 5,
  choiceOptions: 10,
  inputLabel: 2000,
  markdownBlockText: 12_000,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
} as const;

export type MessageError = 'invalid_blocks' | 'invalid_blocks_format' | 'msg_too_long' | 'no_text';

export interface ValidationResult {
  /** Slack's error code, or undefined when the payload would be accepted. */
  error?: MessageError;
  /** Slack-style `[ERROR] ... [json-pointer:...]` lines. */
  messages: string[];
}

export type Surface = 'message' | 'modal' | 'home';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Problems {
  readonly list: string[] = [];
  readonly actionIds = new Map<string, string>();
  readonly blockIds = new Set<string>();

  add(message: string, pointer: string): void {
    this.list.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }

  maxLength(value: unknown, max: number, pointer: string, required = false): void {
    if (value === undefined || value === null) {
      if (required) this.add('missing required field', pointer);
      return;
    }
    if (typeof value !== 'string') {
      this.add('must be a string', pointer);
      return;
    }
    if (required && value.length === 0) this.add('must be more than 0 characters', pointer);
    if (value.length > max) this.add(`must be less than ${max + 1} characters`, pointer);
  }

  maxItems(value: unknown, max: number, pointer: string, min = 0): value is unknown[] {
    if (!Array.isArray(value)) {
      this.add('must be an array', pointer);
      return false;
    }
    if (value.length > max) this.add(`no more than ${max} items allowed`, pointer);
    if (value.length < min) this.add(`must provide at least ${min} items`, pointer);
    return true;
  }
}

function checkTextObject(p: Problems, t: unknown, at: string, max: number, only?: 'plain_text' | 'mrkdwn'): void {
  if (!isObject(t)) {
    p.add('must be a text object', at);
    return;
  }
  if (t.type !== 'plain_text' && t.type !== 'mrkdwn') {
    p.add('must be one of "plain_text", "mrkdwn"', `${at}/type`);
    return;
  }
  if (only && t.type !== only) p.add(`must be a ${only} text object`, `${at}/type`);
  p.maxLength(t.text, max, `${at}/text`, true);
}

function checkConfirm(p: Problems, c: unknown, at: string): void {
  if (c === undefined) return;
  if (!isObject(c)) return p.add('must be a confirmation object', at);
  checkTextObject(p, c.title, `${at}/title`, BLOCK_KIT_LIMITS.confirmTitle, 'plain_text');
  checkTextObject(p, c.text, `${at}/text`, BLOCK_KIT_LIMITS.confirmText);
  checkTextObject(p, c.confirm, `${at}/confirm`, BLOCK_KIT_LIMITS.confirmButton, 'plain_text');
  checkTextObject(p, c.deny, `${at}/deny`, BLOCK_KIT_LIMITS.confirmButton, 'plain_text');
}

function checkActionId(p: Problems, el: Json, at: string): void {
  if (el.action_id === undefined) return; // Slack generates one
  p.maxLength(el.action_id, BLOCK_KIT_LIMITS.actionId, `${at}/action_id`, true);
  if (typeof el.action_id !== 'string') return;
  if (p.actionIds.has(el.action_id)) p.add(`duplicate action_id "${el.action_id}"`, `${at}/action_id`);
  else p.actionIds.set(el.action_id, at);
}

function checkOptions(p: Problems, options: unknown, at: string, max: number, min = 0): void {
  if (!p.maxItems(options, max, at, min)) return;
  options.forEach((o, i) => {
    const oat = `${at}/${i}`;
    if (!isObject(o)) return p.add('must be an option object', oat);
    checkTextObject(p, o.text, `${oat}/text`, BLOCK_KIT_LIMITS.optionText);
    p.maxLength(o.value, BLOCK_KIT_LIMITS.optionValue, `${oat}/value`, true);
  });
}

const SELECTS = new Set([
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
]);
const SIMPLE_ELEMENTS = new Set([
  'datepicker',
  'timepicker',
  'datetimepicker',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'workflow_button',
]);

function checkElement(p: Problems, el: unknown, at: string, allowImage: boolean): void {
  if (!isObject(el)) return p.add('must be an element object', at);
  const type = el.type;
  if (type === 'image') {
    if (!allowImage) return p.add('image elements are not allowed here', `${at}/type`);
    p.maxLength(el.alt_text, BLOCK_KIT_LIMITS.imageAltText, `${at}/alt_text`, true);
    if (el.slack_file === undefined) p.maxLength(el.image_url, BLOCK_KIT_LIMITS.url, `${at}/image_url`, true);
    return;
  }
  if (type === 'button') {
    checkTextObject(p, el.text, `${at}/text`, BLOCK_KIT_LIMITS.buttonText, 'plain_text');
    checkActionId(p, el, at);
    p.maxLength(el.value, BLOCK_KIT_LIMITS.buttonValue, `${at}/value`);
    p.maxLength(el.url, BLOCK_KIT_LIMITS.url, `${at}/url`);
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      p.add('must be one of "primary", "danger"', `${at}/style`);
    }
    checkConfirm(p, el.confirm, `${at}/confirm`);
    return;
  }
  if (type === 'overflow') {
    checkActionId(p, el, at);
    checkOptions(p, el.options, `${at}/options`, BLOCK_KIT_LIMITS.overflowOptionsMax, BLOCK_KIT_LIMITS.overflowOptionsMin);
    checkConfirm(p, el.confirm, `${at}/confirm`);
    return;
  }
  if (type === 'checkboxes' || type === 'radio_buttons') {
    checkActionId(p, el, at);
    checkOptions(p, el.options, `${at}/options`, BLOCK_KIT_LIMITS.choiceOptions, 1);
    checkConfirm(p, el.confirm, `${at}/confirm`);
    return;
  }
  if (typeof type === 'string' && SELECTS.has(type)) {
    checkActionId(p, el, at);
    if (el.placeholder !== undefined) {
      checkTextObject(p, el.placeholder, `${at}/placeholder`, BLOCK_KIT_LIMITS.placeholder, 'plain_text');
    }
    if (type === 'static_select' || type === 'multi_static_select') {
      if (el.option_groups === undefined) checkOptions(p, el.options, `${at}/options`, BLOCK_KIT_LIMITS.selectOptions, 1);
    }
    checkConfirm(p, el.confirm, `${at}/confirm`);
    return;
  }
  if (typeof type === 'string' && SIMPLE_ELEMENTS.has(type)) {
    checkActionId(p, el, at);
    return;
  }
  p.add(`unsupported element type "${String(type)}"`, `${at}/type`);
}

function checkBlock(p: Problems, block: unknown, at: string, surface: Surface): void {
  if (!isObject(block)) return p.add('must be a block object', at);
  // action_id must be unique within its block; the same action_id in two blocks is accepted
  p.actionIds.clear();
  if (block.block_id !== undefined) {
    p.maxLength(block.block_id, BLOCK_KIT_LIMITS.blockId, `${at}/block_id`, true);
    if (typeof block.block_id === 'string') {
      if (p.blockIds.has(block.block_id)) p.add(`duplicate block_id "${block.block_id}"`, `${at}/block_id`);
      p.blockIds.add(block.block_id);
    }
  }
  switch (block.type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        p.add('must provide either text or fields', at);
      }
      if (block.text !== undefined) checkTextObject(p, block.text, `${at}/text`, BLOCK_KIT_LIMITS.sectionText);
      if (block.fields !== undefined && p.maxItems(block.fields, BLOCK_KIT_LIMITS.sectionFields, `${at}/fields`, 1)) {
        block.fields.forEach((f, i) => checkTextObject(p, f, `${at}/fields/${i}`, BLOCK_KIT_LIMITS.sectionFieldText));
      }
      if (block.accessory !== undefined) checkElement(p, block.accessory, `${at}/accessory`, true);
      return;
    }
    case 'header':
      return checkTextObject(p, block.text, `${at}/text`, BLOCK_KIT_LIMITS.headerText, 'plain_text');
    case 'divider':
      return;
    case 'context': {
      if (!p.maxItems(block.elements, BLOCK_KIT_LIMITS.contextElements, `${at}/elements`, 1)) return;
      block.elements.forEach((el, i) => {
        const eat = `${at}/elements/${i}`;
        if (isObject(el) && el.type === 'image') checkElement(p, el, eat, true);
        else checkTextObject(p, el, eat, BLOCK_KIT_LIMITS.sectionText);
      });
      return;
    }
    case 'actions': {
      if (!p.maxItems(block.elements, BLOCK_KIT_LIMITS.actionsElements, `${at}/elements`, 1)) return;
      block.elements.forEach((el, i) => checkElement(p, el, `${at}/elements/${i}`, false));
      return;
    }
    case 'image': {
      p.maxLength(block.alt_text, BLOCK_KIT_LIMITS.imageAltText, `${at}/alt_text`, true);
      if (block.slack_file === undefined) p.maxLength(block.image_url, BLOCK_KIT_LIMITS.url, `${at}/image_url`, true);
      if (block.title !== undefined) checkTextObject(p, block.title, `${at}/title`, 2000, 'plain_text');
      return;
    }
    case 'input': {
      checkTextObject(p, block.label, `${at}/label`, BLOCK_KIT_LIMITS.inputLabel, 'plain_text');
      if (block.hint !== undefined) checkTextObject(p, block.hint, `${at}/hint`, BLOCK_KIT_LIMITS.inputLabel, 'plain_text');
      if (block.element === undefined) p.add('missing required field', `${at}/element`);
      else checkElement(p, block.element, `${at}/element`, false);
      return;
    }
    case 'markdown':
      return p.maxLength(block.text, BLOCK_KIT_LIMITS.markdownBlockText, `${at}/text`, true);
    case 'rich_text':
      p.maxItems(block.elements, Number.MAX_SAFE_INTEGER, `${at}/elements`);
      return;
    case 'video':
    case 'file':
      return;
    default:
      p.add(`unsupported block type "${String(block.type)}" on surface ${surface}`, `${at}/type`);
  }
}

/** Validates a parsed `blocks` value. Returns Slack-style problem lines (empty when valid). */
export function validateBlocks(blocks: unknown, surface: Surface = 'message', pointer = '/blocks'): string[] {
  const p = new Problems();
  const max = surface === 'message' ? BLOCK_KIT_LIMITS.blocksPerMessage : BLOCK_KIT_LIMITS.blocksPerView;
  if (!p.maxItems(blocks, max, pointer)) return p.list;
  blocks.forEach((b, i) => checkBlock(p, b, `${pointer}/${i}`, surface));
  return p.list;
}

/**
 * Parses a Web API argument that may arrive as a JSON string (form-encoded call) or as a value (JSON call).
 * Returns `{ invalid: true }` when a string is not JSON.
 */
export function parseJsonArgument(value: unknown): { value: unknown; invalid: boolean } {
  if (typeof value !== 'string') return { value, invalid: false };
  try {
    return { value: JSON.parse(value) as unknown, invalid: false };
  } catch {
    return { value: undefined, invalid: true };
  }
}

export interface MessagePayload {
  text?: unknown;
  blocks?: unknown;
  attachments?: unknown;
}

/**
 * What `chat.postMessage`, `chat.update`, `chat.postEphemeral` and a response_url answer for a payload:
 * `no_text`, `msg_too_long`, `invalid_blocks_format` or `invalid_blocks`; no error when Slack would accept it.
 * `blocks`/`attachments` may be arrays or JSON strings.
 */
export function validateMessage(payload: MessagePayload): ValidationResult {
  const blocks = parseJsonArgument(payload.blocks);
  const attachments = parseJsonArgument(payload.attachments);
  if (blocks.invalid || (blocks.value !== undefined && !Array.isArray(blocks.value))) {
    return { error: 'invalid_blocks_format', messages: ['[ERROR] must be an array [json-pointer:/blocks]'] };
  }
  const text = typeof payload.text === 'string' ? payload.text : payload.text === undefined ? '' : String(payload.text);
  const blockList = (blocks.value as unknown[] | undefined) ?? [];
  const attachmentList = Array.isArray(attachments.value) ? attachments.value : [];
  if (text.length === 0 && blockList.length === 0 && attachmentList.length === 0) {
    return { error: 'no_text', messages: [] };
  }
  if (text.length > BLOCK_KIT_LIMITS.messageText) {
    return { error: 'msg_too_long', messages: [] };
  }
  if (blocks.value !== undefined) {
    const messages = validateBlocks(blockList, 'message');
    if (messages.length > 0) return { error: 'invalid_blocks', messages };
  }
  return { messages: [] };
}

/** Validates a modal or Home tab `view` object (as given to `views.open`/`views.update`/`views.publish`). */
export function validateView(view: unknown): string[] {
  const p = new Problems();
  if (!isObject(view)) {
    p.add('must be a view object', '/view');
    return p.list;
  }
  if (view.type !== 'modal' && view.type !== 'home') {
    p.add('must be one of "modal", "home"', '/view/type');
    return p.list;
  }
  if (view.type === 'modal') {
    checkTextObject(p, view.title, '/view/title', BLOCK_KIT_LIMITS.viewTitle, 'plain_text');
    if (view.submit !== undefined) checkTextObject(p, view.submit, '/view/submit', BLOCK_KIT_LIMITS.viewButton, 'plain_text');
    if (view.close !== undefined) checkTextObject(p, view.close, '/view/close', BLOCK_KIT_LIMITS.viewButton, 'plain_text');
  }
  p.maxLength(view.private_metadata, BLOCK_KIT_LIMITS.privateMetadata, '/view/private_metadata');
  p.maxLength(view.callback_id, BLOCK_KIT_LIMITS.callbackId, '/view/callback_id');
  const surface: Surface = view.type === 'home' ? 'home' : 'modal';
  return [...p.list, ...validateBlocks(view.blocks, surface, '/view/blocks')];
}
