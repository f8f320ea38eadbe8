/** Reading requests and writing JSON answers and Status errors the way the API server does. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Json } from '../types.js';
import { SimApiError, badRequest, makeStatus, type StatusObject } from '../status.js';

export const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };

export function sendJson(res: ServerResponse, code: number, body: string | Json, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: StatusObject, headers: Record<string, string> = {}): void {
  sendJson(res, status.code, status, headers);
}

/** A path the server does not serve at all (not a missing object, which names the resource). */
export function notFoundPath(): SimApiError {
  return new SimApiError(makeStatus(404, 'the server could not find the requested resource', 'NotFound', {}));
}

export function methodNotAllowed(): SimApiError {
  return new SimApiError(makeStatus(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed'));
}

export function readBody(req: IncomingMessage): Promise<string> {
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The JSON body of a create or update; a 400 as the API server words it when it does not parse. */
export function parseJsonBody(body: string): Json {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw badRequest(`error decoding body: ${(err as Error).message}`);
  }
}
