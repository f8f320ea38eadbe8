/**
 * Slack's Socket Mode, simulated on the Slack-compatible server: `apps.connections.open` (app token,
 * `xapp-…`) hands out a one-time `ws://…/link/?ticket=…` URL; the WebSocket connection is greeted with
 * `hello`; commands and clicks arrive as envelopes (`slash_commands`, `interactive`) that the app must
 * acknowledge by sending back `{ envelope_id, payload? }`, a slash command's payload being its answer.
 * `disconnect` asks the app to reconnect, as Slack does before recycling a connection.
 *
 * The WebSocket side is RFC 6455 written out (handshake, masked client frames, ping/pong, close), enough
 * for @slack/socket-mode's undici WebSocket. No TLS: the URL is `ws://`, as a test needs.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { blockActionPayload, slashCommandFields, type BlockActionInput, type SlashCommandInput } from './interaction-payloads.js';
import type { Workspace } from './workspace.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const LINK_PATH = '/link/';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  envelope_id: string;
  /** What the app sent back with the ack (a slash command's answer), if anything. */
  payload?: Record<string, unknown>;
  /** Milliseconds from sending the envelope to its ack. */
  ms: number;
}

export interface SocketEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  sentAt: number;
  ack?: SocketAck;
}

export interface SocketModeSim {
  /** Open WebSocket connections (greeted with `hello`). */
  readonly connections: number;
  /** Connections opened since the start, reconnections included. */
  readonly connectionsOpened: number;
  /** Every envelope sent, with its ack once it came. */
  readonly envelopes: SocketEnvelope[];
  /** Sends an envelope on the newest connection; resolves with its ack, rejects after `timeoutMs` without one. */
  send(type: EnvelopeType, payload: Record<string, unknown>, opts?: { timeoutMs?: number; envelopeId?: string }): Promise<SocketAck>;
  /** `/oom …` as Slack sends it over the socket. */
  slashCommand(input: SlashCommandInput, opts?: { timeoutMs?: number }): Promise<SocketAck>;
  /** A button click as Slack sends it over the socket. */
  blockAction(input: BlockActionInput, opts?: { timeoutMs?: number; envelopeId?: string }): Promise<SocketAck>;
  /** Sends `{type: "disconnect"}` on every connection, as Slack does before recycling them. */
  requestReconnect(reason?: string): void;
  /** Resolves once `n` connections are open. */
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
}

interface Conn {
  id: string;
  socket: Duplex;
  buffer: Buffer;
  fragments: Buffer[];
  open: boolean;
}

interface PendingAck {
  resolve: (ack: SocketAck) => void;
  envelope: SocketEnvelope;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** One complete frame from the front of `buf`, unmasked, or undefined when more bytes are needed. */
function readFrame(buf: Buffer): { fin: boolean; opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const fin = (buf[0]! & 0x80) !== 0;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
  return { fin, opcode, payload, size: offset + len };
}

export class SocketModeServer implements SocketModeSim {
  private readonly conns: Conn[] = [];
  private readonly tickets = new Set<string>();
  private readonly pending = new Map<string, PendingAck>();
  readonly envelopes: SocketEnvelope[] = [];
  connectionsOpened = 0;

  constructor(
    private readonly ws: Workspace,
    private readonly baseUrl: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  get connections(): number {
    return this.conns.filter((c) => c.open).length;
  }

  /** `apps.connections.open`: a one-time WebSocket URL. */
  openConnectionUrl(): string {
    const ticket = randomBytes(16).toString('hex');
    this.tickets.add(ticket);
    return `${this.baseUrl().replace(/^http/, 'ws')}${LINK_PATH}?ticket=${ticket}&app_id=${this.ws.bot.appId}`;
  }

  /** The HTTP server's `upgrade` listener. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    const key = req.headers['sec-websocket-key'];
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== LINK_PATH || String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string')
      return refuse('400 Bad Request');
    // A ticket opens one connection; Slack answers a reused or unknown one with 401.
    if (!this.tickets.delete(ticket)) return refuse('401 Unauthorized');
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const conn: Conn = { id: randomBytes(6).toString('hex'), socket, buffer: Buffer.alloc(0), fragments: [], open: true };
    this.conns.push(conn);
    this.connectionsOpened++;
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    const gone = () => {
      conn.open = false;
      this.ws.changed();
    };
    socket.on('close', gone);
    socket.on('error', gone);
    this.sendJson(conn, {
      type: 'hello',
      num_connections: this.connections,
      debug_info: { host: 'applink-sim', build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: this.ws.bot.appId },
    });
    this.ws.changed();
  };

  private onData(conn: Conn, chunk: Buffer): void {
    conn.buffer = Buffer.concat([conn.buffer, chunk]);
    for (;;) {
      const f = readFrame(conn.buffer);
      if (!f) return;
      conn.buffer = conn.buffer.subarray(f.size);
      switch (f.opcode) {
        case 0x0: // continuation
        case 0x1: // text
        case 0x2: // binary
          conn.fragments.push(f.payload);
          if (f.fin) {
            const text = Buffer.concat(conn.fragments).toString('utf8');
            conn.fragments = [];
            this.onMessage(text);
          }
          break;
        case 0x8: // close: answer it, then hang up
          if (conn.open) conn.socket.write(frame(0x8, f.payload.subarray(0, 2)));
          conn.open = false;
          conn.socket.end();
          this.ws.changed();
          return;
        case 0x9: // ping
          conn.socket.write(frame(0xa, f.payload));
          break;
        default: // pong and anything else
          break;
      }
    }
  }

  private onMessage(text: string): void {
    let msg: { envelope_id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.envelope_id !== 'string') return;
    const waiting = this.pending.get(msg.envelope_id);
    if (!waiting) return;
    this.pending.delete(msg.envelope_id);
    const ack: SocketAck = { envelope_id: msg.envelope_id, ms: this.now() - waiting.envelope.sentAt };
    if (msg.payload && typeof msg.payload === 'object' && Object.keys(msg.payload).length > 0) ack.payload = msg.payload as Record<string, unknown>;
    waiting.envelope.ack = ack;
    this.ws.changed();
    waiting.resolve(ack);
  }

  private sendJson(conn: Conn, body: unknown): void {
    if (conn.open) conn.socket.write(frame(0x1, Buffer.from(JSON.stringify(body), 'utf8')));
  }

  send(type: EnvelopeType, payload: Record<string, unknown>, opts: { timeoutMs?: number; envelopeId?: string } = {}): Promise<SocketAck> {
    const conn = [...this.conns].reverse().find((c) => c.open);
    if (!conn) return Promise.reject(new Error('no Socket Mode connection is open'));
    const envelope: SocketEnvelope = { envelope_id: opts.envelopeId ?? randomBytes(16).toString('hex'), type, payload, sentAt: this.now() };
    this.envelopes.push(envelope);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope.envelope_id);
        reject(new Error(`envelope ${envelope.envelope_id} (${type}) not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(envelope.envelope_id, {
        envelope,
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
      });
      this.sendJson(conn, { envelope_id: envelope.envelope_id, payload, type, accepts_response_payload: type === 'slash_commands' });
    });
  }

  slashCommand(input: SlashCommandInput, opts: { timeoutMs?: number } = {}): Promise<SocketAck> {
    return this.send('slash_commands', slashCommandFields(input), opts);
  }

  blockAction(input: BlockActionInput, opts: { timeoutMs?: number; envelopeId?: string } = {}): Promise<SocketAck> {
    return this.send('interactive', blockActionPayload(input), opts);
  }

  requestReconnect(reason = 'refresh_requested'): void {
    for (const c of this.conns) this.sendJson(c, { type: 'disconnect', reason, debug_info: { host: 'applink-sim' } });
  }

  waitForConnections(n: number, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.connections < n) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${n} Socket Mode connection(s) not open within ${timeoutMs} ms (open: ${this.connections})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.ws.off('change', check);
      };
      this.ws.on('change', check);
      check();
    });
  }

  /** Hangs up every connection (the server is closing). */
  closeAll(): void {
    for (const c of this.conns) {
      if (c.open) c.socket.write(frame(0x8, Buffer.from([0x03, 0xe9])));
      c.open = false;
      c.socket.destroy();
    }
  }
}
