/**
 * Posts a scheduled usage report: the message of `buildReportMessage`, then
 * its chart (PNG) and everyone's rows (CSV) in the message's thread. A failed
 * post throws (the period stays unposted and the next run tries again); a
 * failed upload is logged only: the report itself is posted.
 */
import { webApi } from '@slack/bolt';
import type { ReportPoster } from '../jobs/report.js';
import type { Logger } from '../logger.js';
import { buildReportMessage, periodTitle } from './blocks/report.js';
import { SLACK_TIMEOUT_MS } from './delivery.js';
import { createWebClient, type SlackCallMetrics } from './web-client.js';

export interface SlackReportPosterOptions {
  readonly token: string;
  readonly apiUrl?: string | undefined;
  readonly logger: Logger;
  /** Counts the poster's Web API requests by method and error (`/metrics`). */
  readonly metrics?: SlackCallMetrics | undefined;
}

/** Builds the poster with its own Web API client (it runs in worker processes without Bolt). */
export function createSlackReportPoster(options: SlackReportPosterOptions): ReportPoster {
  const client = createWebClient(
    options.token,
    {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: SLACK_TIMEOUT_MS,
      logLevel: webApi.LogLevel.ERROR,
    },
    options.metrics,
  );
  return {
    async post(report, { query, answer }) {
      const message = buildReportMessage({
        report: answer.report,
        period: query.period,
        historyStartsAt: answer.historyStartsAt,
      });
      const posted = await client.chat.postMessage({
        channel: report.channel,
        text: message.text,
        blocks: message.blocks,
      });
      const ts = posted.ts;
      if (ts === undefined) throw new Error('chat.postMessage returned no ts');
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
