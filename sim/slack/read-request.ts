import type { IncomingMessage } from 'node:http';

export interface ParsedRequest {
  args: Record<string, unknown>;
  /** Bearer token from the Authorization header, else a form `token` argument (Slack ignores a JSON body token). */
  token?: string;
  /** Set when a JSON body could not be parsed. */
  invalidJson?: boolean;
}

export async function readBody(req: IncomingMessage, limitBytes = 5 * 1024 * 1024): Promise<string> {
  return (await readBodyBytes(req, limitBytes)).toString('utf8');
}

/** The request body as bytes (a file upload), refused past `limitBytes`. */
export async function readBodyBytes(req: IncomingMessage, limitBytes = 5 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new Error('request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** The content of the first part of a multipart/form-data body that carries a filename (or the first part). */
export function multipartFile(body: Buffer, contentType: string): Buffer | undefined {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    parts.push(body.subarray(at + delimiter.length + 2, next - 2));
    at = next;
  }
  const split = (p: Buffer) => {
    const end = p.indexOf('\r\n\r\n');
    return end < 0 ? undefined : { head: p.subarray(0, end).toString('utf8'), data: p.subarray(end + 4) };
  };
  const all = parts.map(split).filter((p) => p !== undefined);
  return (all.find((p) => /filename=/.test(p.head)) ?? all[0])?.data;
}

/** Parses a Web API call the way Slack accepts it: form-encoded or JSON body, plus query string. */
export function parseApiRequest(req: IncomingMessage, raw: string, url: URL): ParsedRequest {
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  let invalidJson = false;
  let formToken: string | undefined;
  if (type === 'application/json') {
    if (raw.length > 0) {
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          Object.assign(args, parsed);
          delete args.token;
        } else invalidJson = true;
      } catch {
        invalidJson = true;
      }
    }
  } else if (raw.length > 0) {
    const form = Object.fromEntries(new URLSearchParams(raw));
    Object.assign(args, form);
    formToken = form.token;
  }
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
  const token = bearer || formToken || (typeof args.token === 'string' ? args.token : undefined);
  delete args.token;
  const parsed: ParsedRequest = { args };
  if (token) parsed.token = token;
  if (invalidJson) parsed.invalidJson = true;
  return parsed;
}
