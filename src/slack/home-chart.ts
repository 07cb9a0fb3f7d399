/**
 * The App Home's 24-hour chart: drawn from the report (the charting library
 * is loaded on first use only) and uploaded with `files.uploadV2` without a
 * channel, which leaves it a private file of the bot that a Home view's
 * `image` block can show by `slack_file` id. One chart serves every person
 * for a few minutes, so opening the tab does not upload a file each time.
 */
import type { webApi } from '@slack/bolt';
import type { UsageReport } from '../reports/usage.js';
import type { HomeUsage } from '../services/home.js';

export interface HomeChartDeps {
  readonly client: webApi.WebClient;
  readonly now: () => Date;
  /** How long one uploaded chart is reused; default 5 minutes. */
  readonly ttlMs?: number;
}

export const HOME_CHART_WIDTH = 900;
export const HOME_CHART_HEIGHT = 600;

type Chart = NonNullable<HomeUsage['chart']>;

/** The id of the first file in a `filesUploadV2` answer (one completion per upload). */
function fileIdOf(answer: unknown): string | null {
  const completions = (answer as { files?: { files?: { id?: unknown }[] }[] }).files ?? [];
  const id = completions[0]?.files?.[0]?.id;
  return typeof id === 'string' ? id : null;
}

/** Answers the chart for a 24-hour report, uploading a new one at most every `ttlMs`. */
export function createHomeChart(deps: HomeChartDeps) {
  const ttl = deps.ttlMs ?? 5 * 60_000;
  let cached: { chart: Chart; at: number } | null = null;
  let inFlight: Promise<Chart | null> | null = null;
  const draw = async (report: UsageReport): Promise<Chart | null> => {
    const { renderUsageChart } = await import('../reports/chart.js');
    const rendered = await renderUsageChart(report, {
      width: HOME_CHART_WIDTH,
      height: HOME_CHART_HEIGHT,
      title: 'VPN usage · last 24 hours',
    });
    const stamp = report.now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
    const answer = await deps.client.filesUploadV2({
      file_uploads: [
        {
          file: rendered.png,
          filename: `vpn-conns-home-24h-${stamp}.png`,
          title: 'VPN usage · last 24 hours',
          alt_text: rendered.altText,
        },
      ],
    });
    const fileId = fileIdOf(answer);
    if (fileId === null) return null;
    const chart = { fileId, altText: rendered.altText };
    cached = { chart, at: deps.now().getTime() };
    return chart;
  };
  return (report: UsageReport): Promise<Chart | null> => {
    if (cached && deps.now().getTime() - cached.at < ttl) return Promise.resolve(cached.chart);
    inFlight ??= draw(report).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
