/**
 * The product's named errors. Each carries a message a person can act on;
 * adapters throw them, listeners and the CLI decide how to show them.
 */

interface ErrorDetails {
  cause?: unknown;
}

/** Something the user typed (slash command text, CLI arguments, a button value) is not valid. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
  }
}

/** The environment or config file is invalid; `problems` has one line per problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export type AwsErrorKind =
  | 'endpoint-not-found'
  | 'access-denied'
  | 'throttled'
  | 'credentials'
  | 'unavailable'
  | 'refused';

interface AwsErrorDetails extends ErrorDetails {
  /** The AWS request id, for the log and for AWS support. */
  requestId?: string | undefined;
  /** The endpoint the call was about, when there was one. */
  endpointId?: string | undefined;
  /** The AWS error code (`InvalidClientVpnEndpointId.NotFound`, …). */
  code?: string | undefined;
}

/** Base class of every failure reported by the AWS gateway. */
export abstract class AwsError extends Error {
  abstract readonly kind: AwsErrorKind;
  readonly requestId: string | undefined;
  readonly endpointId: string | undefined;
  readonly code: string | undefined;
  constructor(message: string, details: AwsErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.requestId = details.requestId;
    this.endpointId = details.endpointId;
    this.code = details.code;
  }
}

/** The Client VPN endpoint does not exist in that account and region. */
export class EndpointNotFoundError extends AwsError {
  override readonly name = 'EndpointNotFoundError';
  readonly kind = 'endpoint-not-found';
}

/** IAM refused the call. */
export class AccessDeniedError extends AwsError {
  override readonly name = 'AccessDeniedError';
  readonly kind = 'access-denied';
}

/** AWS kept throttling after the SDK's retries. */
export class ThrottledError extends AwsError {
  override readonly name = 'ThrottledError';
  readonly kind = 'throttled';
}

/** No AWS credentials could be found, or they were rejected / expired. */
export class CredentialsError extends AwsError {
  override readonly name = 'CredentialsError';
  readonly kind = 'credentials';
}

/** AWS could not be reached or did not answer in time (network, timeout, 5xx). */
export class AwsUnavailableError extends AwsError {
  override readonly name = 'AwsUnavailableError';
  readonly kind = 'unavailable';
}

/** AWS refused the request for another reason (bad parameter, limit exceeded, …). */
export class AwsRequestError extends AwsError {
  override readonly name = 'AwsRequestError';
  readonly kind = 'refused';
}

/** A short, safe description of any thrown value, for logs. Never includes secrets we hold. */
export function describeError(error: unknown): string {
  if (error instanceof AwsError) {
    const parts = [`${error.name}: ${error.message}`];
    if (error.code) parts.push(`code=${error.code}`);
    if (error.requestId) parts.push(`requestId=${error.requestId}`);
    return parts.join(' ');
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Delivery error codes after which a post may or may not have reached Slack. */
export const UNANSWERED_DELIVERY: ReadonlySet<string> = new Set(['slack_unreachable', 'no_ts']);

/**
 * Slack refused or could not take a message the bot posts on its own (a
 * digest, an alert). `hint` says what a person should do; `code` is Slack's
 * error, or `slack_unreachable` / `no_ts` when the outcome is unknown.
 */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  constructor(
    readonly code: string,
    readonly hint: string,
    details: ErrorDetails = {},
  ) {
    super(`Slack refused the message (${code}): ${hint}`, { cause: details.cause });
  }
}
