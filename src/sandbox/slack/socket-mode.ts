/**
 * Socket Mode: the `/socket` WebSocket the app opens with the URL of `apps.connections.open`,
 * envelopes sent to it and the acks it answers.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { StandInState } from './state.js';
import { isObject, type Json, parseJsonOrKeep } from './wire.js';

const SOCKET_CLOSE_GRACE_MS = 1000;
const APP_ID = 'A0TEST';

/** Settles the pending `send` an ack message answers. */
function receiveAck(state: StandInState, data: RawData): void {
  const message = parseJsonOrKeep(data.toString());
  if (!isObject(message) || typeof message.envelope_id !== 'string') return;
  const pending = state.pendingAcks.get(message.envelope_id);
  if (pending === undefined) return;
  state.pendingAcks.delete(message.envelope_id);
  clearTimeout(pending.timer);
  pending.resolve(message.payload ?? {});
}

/** Greets a new connection with Slack's `hello` and listens for its acks. */
function accept(state: StandInState, ws: WebSocket): void {
  state.sockets.add(ws);
  ws.on('close', () => state.sockets.delete(ws));
  ws.on('message', (data: RawData) => receiveAck(state, data));
  ws.send(
    JSON.stringify({
      type: 'hello',
      num_connections: state.sockets.size,
      debug_info: { host: 'applink-stand-in', approximate_connection_time: 18060 },
      connection_info: { app_id: APP_ID },
    }),
  );
}

/** Serves Socket Mode on `server`'s `/socket` upgrades; other upgrade paths get 404. */
export function attachSocketMode(state: StandInState, server: Server): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname !== '/socket') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit('connection', ws, req);
    });
  });
  wss.on('connection', (ws: WebSocket) => accept(state, ws));
  return wss;
}

/** The newest open Socket Mode connection. */
export function openSocket(state: StandInState): WebSocket | undefined {
  return [...state.sockets].reverse().find((ws) => ws.readyState === ws.OPEN);
}

/** Sends an envelope on the newest connection; resolves with the app's ack payload. */
export function sendEnvelope(
  state: StandInState,
  type: string,
  payload: Record<string, unknown>,
  timeoutMs: number,
): Promise<unknown> {
  const ws = openSocket(state);
  if (ws === undefined) {
    return Promise.reject(new Error(`socket.send(${type}): no Socket Mode connection is open`));
  }
  const envelopeId = randomBytes(16).toString('hex');
  const envelope: Json = { envelope_id: envelopeId, type, payload, accepts_response_payload: true };
  if (type === 'events_api') {
    envelope.retry_attempt = 0;
    envelope.retry_reason = '';
  }
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      state.pendingAcks.delete(envelopeId);
      reject(
        new Error(`socket.send(${type}): no ack for envelope ${envelopeId} in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    state.pendingAcks.set(envelopeId, { resolve, reject, timer });
    ws.send(JSON.stringify(envelope), (error) => {
      if (error === undefined || error === null) return;
      clearTimeout(timer);
      state.pendingAcks.delete(envelopeId);
      reject(error);
    });
  });
}

async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  if (ws.readyState === ws.OPEN) ws.close(1001, 'stand-in closing');
  // ws waits up to 30 s for the peer to end the TCP connection; do not wait that long.
  const timer = setTimeout(() => ws.terminate(), SOCKET_CLOSE_GRACE_MS);
  await closed;
  clearTimeout(timer);
}

/** Rejects every pending send, closes every connection (waiting for them), then the server. */
export async function closeSocketMode(state: StandInState, wss: WebSocketServer): Promise<void> {
  for (const [id, pending] of state.pendingAcks) {
    clearTimeout(pending.timer);
    pending.reject(new Error(`socket.send: stand-in closed before envelope ${id} was acked`));
  }
  state.pendingAcks.clear();
  await Promise.all([...state.sockets].map(closeSocket));
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
