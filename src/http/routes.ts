/**
 * The observability routes, `GET /metrics` and `GET /readyz`, as plain Node request handlers:
 * the same objects go into Bolt's `customRoutes` (HTTP mode; they have its `CustomRoute` shape)
 * and into {@link startMetricsServer} (`METRICS_PORT`, for Socket Mode and the worker role).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ReadinessState, readiness } from './health.js';
import type { AppMetrics } from './metrics.js';

/** One route; structurally Bolt's `CustomRoute`. */
export interface ObservabilityRoute {
  readonly path: string;
  readonly method: string[];
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface ObservabilityDeps {
  readonly metrics: AppMetrics;
  /** Read at every `/readyz` request. */
  readonly readinessState: () => ReadinessState;
  readonly now?: () => Date;
  /** Called when a scrape fails (a collect callback threw); the answer is then a 500. */
  readonly onError?: (error: unknown) => void;
}

/** `/metrics` and `/readyz` (GET and HEAD); `/healthz` stays with the app (liveness). */
export function observabilityRoutes(deps: ObservabilityDeps): ObservabilityRoute[] {
  const now = deps.now ?? (() => new Date());
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  return [
    {
      path: '/metrics',
      method: ['GET', 'HEAD'],
      handler: (req, res) => {
        deps.metrics.scrape().then(
          ({ contentType, body }) => send(req, res, 200, contentType, body),
          (error: unknown) => {
            deps.onError?.(error);
            send(req, res, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n');
          },
        );
      },
    },
    {
      path: '/readyz',
      method: ['GET', 'HEAD'],
      handler: (req, res) => {
        const answer = readiness(deps.readinessState(), now());
        send(req, res, answer.status, 'text/plain; charset=utf-8', `${answer.body}\n`);
      },
    },
  ];
}

/** A running `METRICS_PORT` server. */
export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the observability routes on their own port (Socket Mode and the worker role have no
 * HTTP receiver). Anything else is a 404; a method other than GET or HEAD a 405.
 */
export async function startMetricsServer(
  deps: ObservabilityDeps & { readonly port: number; readonly host?: string },
): Promise<MetricsServer> {
  const routes = observabilityRoutes(deps);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => r.path === path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    } else if (!route.method.includes(req.method ?? '')) {
      res
        .writeHead(405, {
          'content-type': 'text/plain; charset=utf-8',
          allow: route.method.join(', '),
        })
        .end('method not allowed\n');
    } else {
      route.handler(req, res);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
