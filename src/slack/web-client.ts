/**
 * Every Slack Web API client of the process, counted the same way for `/metrics`
 * (`vpn_conns_slack_api_calls_total{method,error}`): the posters' own clients come from
 * {@link createWebClient}, and Bolt's clients (the app's, and the per-workspace ones it gives
 * listeners as `client`) get the same counting through {@link meteredClientOptions}.
 *
 * The seam is the client's `fetch` option, because it is the one thing Bolt copies into every
 * client it builds (a subclass of `WebClient` would miss the listeners' clients). So the count
 * is one per HTTP request to a Web API method: a call the client retries (a 429, a network
 * error, on clients configured to retry) counts each attempt, each labelled with its own
 * outcome, which is also what Slack's rate limits count. Requests that are not Web API methods
 * (response_url posts, which Bolt's `respond` also sends through this `fetch`, and file upload
 * URLs) pass through uncounted.
 */
import { webApi } from '@slack/bolt';
import type { AppMetrics } from '../http/metrics.js';

/** What counting needs of the metrics. */
export type SlackCallMetrics = Pick<AppMetrics, 'recordSlackCall'>;

/**
 * `@slack/web-api`'s client options; a `fetch` given here must be a whole WHATWG `fetch`
 * (counting reads a clone of the response).
 */
export type WebClientOptions = Omit<webApi.WebClientOptions, 'fetch'> & {
  readonly fetch?: typeof fetch;
};

/** The client's default API root, as `@slack/web-api` has it. */
const SLACK_API_URL = 'https://slack.com/api/';

/** The kind of a request that got no answer: `timeout`, a socket error code, or `request_error`. */
export function requestErrorKind(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? 'timeout' : 'aborted';
  }
  // Node's fetch fails with `TypeError: fetch failed` whose cause has the socket's code.
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,47}$/.test(code) ? code : 'request_error';
}

/** Slack's `error` of a JSON answer with `ok: false`, `undefined` when it succeeded. */
function platformError(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || !('ok' in body) || body.ok !== false) {
      return undefined;
    }
    return 'error' in body && typeof body.error === 'string' ? body.error : 'unknown_error';
  } catch {
    return 'invalid_response';
  }
}

/** The outcome of one answered request: `undefined` (ok), `ratelimited`, `http_503`, Slack's error. */
async function responseError(response: Response): Promise<string | undefined> {
  if (response.status === 429) return 'ratelimited';
  if (response.status !== 200) return `http_${response.status}`;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  // A copy of the body: the client reads the response itself, untouched (and meets the same
  // error, if the body breaks off or times out, on its own read).
  try {
    return platformError(await response.clone().text());
  } catch (error) {
    return requestErrorKind(error);
  }
}

/**
 * A `fetch` that counts each request to a method under `apiUrl`, then hands the response on
 * unchanged (its outcome is counted before the client sees it). Anything else passes through.
 */
export function countingFetch(
  apiUrl: string,
  metrics: SlackCallMetrics,
  inner: typeof fetch = globalThis.fetch,
): webApi.FetchFunction {
  const root = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
  return async (url, init) => {
    const href = typeof url === 'string' ? url : url.href;
    if (!href.startsWith(root)) return inner(url, init);
    const method = href.slice(root.length).split(/[?#]/, 1)[0] ?? '';
    let response: Response;
    try {
      response = await inner(url, init);
    } catch (error) {
      metrics.recordSlackCall(method, requestErrorKind(error));
      throw error;
    }
    metrics.recordSlackCall(method, await responseError(response));
    return response;
  };
}

/** `options` with a counting `fetch` over theirs (or the global one); unchanged without metrics. */
export function meteredClientOptions(
  options: WebClientOptions,
  metrics: SlackCallMetrics | undefined,
): webApi.WebClientOptions {
  if (!metrics) return options;
  const root = options.slackApiUrl ?? SLACK_API_URL;
  return { ...options, fetch: countingFetch(root, metrics, options.fetch) };
}

/**
 * A Web API client whose requests are counted by method and error in `metrics` (none counted
 * when it is absent). `options` are `@slack/web-api`'s own (`slackApiUrl`, `retryConfig`,
 * `timeout`, `rejectRateLimitedCalls`, …), passed on as they are.
 *
 * ```ts
 * const client = createWebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 } }, metrics);
 * ```
 */
export function createWebClient(
  token: string,
  options: WebClientOptions = {},
  metrics?: SlackCallMetrics,
): webApi.WebClient {
  return new webApi.WebClient(token, meteredClientOptions(options, metrics));
}
