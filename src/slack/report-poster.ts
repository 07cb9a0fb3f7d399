/**
 * Posts a scheduled usage report: the message of `buildReportMessage`, with its post id in the
 * metadata (`vpn_conns_report`), then its chart (PNG) and everyone's rows (CSV) in the
 * message's thread. A failed post throws a `SlackDeliveryError` saying what to fix (the job
 * decides whether to try again); a failed upload is logged only: the report itself is posted.
 */
import { SlackDeliveryError } from '../errors.js';
import type { ReportPoster } from '../jobs/report.js';
import type { Logger } from '../logger.js';
import { buildReportMessage, periodTitle } from './blocks/report.js';
import {
  createDeliveryClient,
  type DeliveryClientOptions,
  type DeliveryContext,
  findPostedById,
  withRateLimitRetries,
} from './delivery.js';

/** The metadata event type of a report message; its payload's `id` is the post's. */
export const REPORT_EVENT_TYPE = 'vpn_conns_report';

export interface SlackReportPosterOptions extends Omit<DeliveryClientOptions, 'retries'> {
  readonly logger: Logger;
}

/** Builds the poster with its own Web API client (it runs in worker processes without Bolt). */
export function createSlackReportPoster(options: SlackReportPosterOptions): ReportPoster {
  // No retries in the client: the job retries, after looking for a post Slack did not confirm.
  const client = createDeliveryClient({ ...options, retries: 0 });
  const context: DeliveryContext = {
    logger: options.logger,
    job: 'report',
    retry: 'the report is tried again shortly',
  };
  return {
    findPosted: (report, postId, since) =>
      findPostedById(client, context, {
        channel: report.channel,
        eventType: REPORT_EVENT_TYPE,
        id: postId,
        since,
      }),
    async post(report, { query, answer }, postId) {
      const message = buildReportMessage({
        report: answer.report,
        period: query.period,
        historyStartsAt: answer.historyStartsAt,
      });
      const posted = await withRateLimitRetries(context, 'chat.postMessage', () =>
        client.chat.postMessage({
          channel: report.channel,
          text: message.text,
          blocks: message.blocks,
          metadata: {
            event_type: REPORT_EVENT_TYPE,
            event_payload: { id: postId, report: report.name },
          },
        }),
      );
      const ts = posted.ts;
      if (ts === undefined) {
        throw new SlackDeliveryError('no_ts', 'Slack accepted the report but returned no ts');
      }
      try {
        const [{ renderUsageChart }, { reportCsv }] = await Promise.all([
          import('../reports/chart.js'),
          import('../reports/rows.js'),
        ]);
        const title = `VPN usage · ${periodTitle(query.period)}`;
        const chart = await renderUsageChart(answer.report, { title });
        const stem = `vpn-conns-report-${report.name}-${answer.report.now.toISOString().slice(0, 10)}`;
        await client.filesUploadV2({
          channel_id: report.channel,
          thread_ts: ts,
          file_uploads: [
            { file: chart.png, filename: `${stem}.png`, title, alt_text: chart.altText },
            {
              file: Buffer.from(reportCsv(answer.report), 'utf8'),
              filename: `${stem}.csv`,
              title: `${title} (everyone)`,
            },
          ],
        });
      } catch (error) {
        options.logger.error(`report ${report.name}: chart and CSV upload failed`, error);
      }
      return { ts };
    },
  };
}
