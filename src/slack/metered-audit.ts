/**
 * Commands and clicks by outcome, for `/metrics`: every command and click ends in exactly one
 * audit entry, so the audit trail is wrapped once here instead of each listener counting.
 */
import type { AuditEvent, AuditTrail } from '../audit.js';
import type { AppMetrics, Outcome } from '../http/metrics.js';

/** The metrics outcome of an audit outcome (`usage-error`, `denied`, `error: AwsRequestError`, …). */
export function metricsOutcome(audit: string): Outcome {
  if (audit === 'ok') return 'ok';
  if (audit === 'usage-error') return 'usage_error';
  if (audit === 'denied' || audit.startsWith('refused')) return 'refused';
  if (audit.startsWith('error: ')) return 'aws_error';
  // Terminate's `partial` and `failed`: AWS did not end every session asked for.
  if (audit === 'partial' || audit === 'failed') return 'aws_error';
  return 'error';
}

/** The audit trail, also counting each entry as a command (`action: command`) or a click. */
export function meteredAuditTrail(trail: AuditTrail, metrics: AppMetrics): AuditTrail {
  return {
    async record(event: AuditEvent) {
      const outcome = metricsOutcome(event.outcome);
      if (event.action === 'command') metrics.recordCommand(event.detail, outcome);
      else metrics.recordClick(`vpn_conns_${event.action.replace(/-/g, '_')}`, outcome);
      await trail.record(event);
    },
    recent: (limit) => trail.recent(limit),
  };
}
