/** The stand-in's HTTP plumbing: reading and decoding bodies, writing answers, Slack's message checks. */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { validateBlocks } from '../block-kit-limits.js';

/** A decoded JSON or form body. */
export type Json = Record<string, unknown>;

/** Form fields Slack's clients send as JSON-encoded strings inside a url-encoded body. */
const JSON_FORM_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata']);
const MAX_TEXT_LENGTH = 40_000;

/** True for a plain object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a request body to the end. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The media type of a request, lower-case, without parameters. */
export function contentType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes a JSON or url-encoded body; JSON-encoded form fields (`blocks`, …) are parsed too. */
export function decodeBody(raw: Buffer, headers: IncomingHttpHeaders): Json {
  const text = raw.toString('utf8');
  if (text.length === 0) return {};
  if (contentType(headers) === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      return isObject(parsed) ? parsed : { _invalid_json: text };
    } catch {
      return { _invalid_json: text };
    }
  }
  const body: Json = {};
  for (const [key, value] of new URLSearchParams(text)) {
    body[key] = JSON_FORM_FIELDS.has(key) ? parseJsonOrKeep(value) : value;
  }
  return body;
}

/** Parses JSON, or gives the string back unchanged when it is not JSON. */
export function parseJsonOrKeep(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The token of an `Authorization: Bearer` header. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers with a plain-text body. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** A string or number field as a string; undefined for anything else. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A random Slack-like id with the given prefix (`F…`, `D…`, `R…`). */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** Checks a message body as Slack does; returns the `{ ok: false }` answer or undefined. */
export function messageProblem(body: Json): Json | undefined {
  const hasText = typeof body.text === 'string' && body.text.length > 0;
  const hasBlocks = body.blocks !== undefined && body.blocks !== '';
  const hasAttachments = body.attachments !== undefined && body.attachments !== '';
  if (!hasText && !hasBlocks && !hasAttachments) return { ok: false, error: 'no_text' };
  if (typeof body.text === 'string' && body.text.length > MAX_TEXT_LENGTH) {
    return { ok: false, error: 'msg_too_long' };
  }
  if (hasBlocks) {
    const errors = validateBlocks(body.blocks);
    if (errors.length > 0) return { ok: false, error: 'invalid_blocks', errors };
  }
  return undefined;
}

/** Reads the uploaded bytes from a raw or multipart/form-data body (what filesUploadV2 sends). */
export async function readUploadContent(
  raw: Buffer,
  headers: IncomingHttpHeaders,
): Promise<Buffer> {
  if (contentType(headers) !== 'multipart/form-data') return raw;
  const form = await new Response(raw, {
    headers: { 'content-type': headers['content-type'] ?? '' },
  }).formData();
  let fallback: string | undefined;
  for (const [, value] of form) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
    fallback ??= value;
  }
  return Buffer.from(fallback ?? '', 'utf8');
}
