/**
 * A thrown error as a Slack reply and as an audit outcome: a person can act on the message,
 * the log has the rest.
 */
import { AwsError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SlackMessage } from './blocks/limits.js';
import { buildAwsErrorMessage, buildUsageErrorMessage } from './blocks/messages.js';

/** The message for a thrown error; AWS errors and unexpected ones are logged. */
export function errorMessage(
  error: unknown,
  logger: Pick<Logger, 'warn' | 'error'>,
  context: string,
): SlackMessage {
  if (error instanceof UsageError) return buildUsageErrorMessage(error);
  if (error instanceof AwsError) {
    logger.warn(
      `${context}: ${error.name} ${error.code ?? ''} requestId=${error.requestId ?? '-'}`,
    );
    return buildAwsErrorMessage(error, context);
  }
  logger.error(
    `${context}: unexpected error`,
    error instanceof Error ? (error.stack ?? error) : error,
  );
  return buildAwsErrorMessage(error, context);
}

/** The audit outcome of a thrown error: `usage-error`, `error: EndpointNotFoundError`, … */
export function outcomeOf(error: unknown): string {
  if (error instanceof UsageError) return 'usage-error';
  if (error instanceof AwsError) return `error: ${error.name}`;
  return 'error';
}

/** The AWS request id an error carries, for the audit trail (none or one). */
export function requestIdsOf(error: unknown): string[] {
  return error instanceof AwsError && error.requestId ? [error.requestId] : [];
}

/** What a person is told about a failed endpoint or call: AWS's own words, or a generic line. */
export function failureText(error: unknown): string {
  return error instanceof AwsError ? error.message : 'unexpected error (logged)';
}
