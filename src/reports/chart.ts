/**
 * The report's chart, drawn on the server as one PNG with two panels:
 * concurrent sessions over the period per endpoint (lines), and
 * connection-hours per day of the report's zone (bars stacked by endpoint,
 * same colours). Vega-Lite describes it, Vega renders SVG without a DOM, and
 * resvg turns the SVG into a PNG with the DejaVu Sans font shipped in the
 * `dejavu-fonts-ttf` package: no system fonts, libraries or browser.
 *
 * Times are drawn as wall-clock time in the report's zone (each instant
 * shifted by the zone's offset at that instant, then laid on a UTC scale), and
 * the axes say which zone.
 */
import { createRequire } from 'node:module';
import { tzOffset } from '@date-fns/tz';
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { UsageReport } from './usage.js';

export const CHART_WIDTH = 1200;
export const CHART_HEIGHT = 800;
const FONT_FAMILY = 'DejaVu Sans';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) =>
  createRequire(import.meta.url).resolve(`dejavu-fonts-ttf/ttf/${file}`),
);

/** Tableau 10: distinct, colour-blind-friendlier than Vega's default, readable on white. */
export const ENDPOINT_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

export interface ChartOptions {
  /** PNG width and height in pixels (default 1200 × 800). */
  readonly width?: number;
  readonly height?: number;
  /** The first line of the title, e.g. `VPN usage · last 7 days`. */
  readonly title?: string;
}

export interface RenderedChart {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** A sentence for the image's alt text. */
  readonly altText: string;
}

function wallClock(at: Date, timeZone: string): number {
  return at.getTime() + tzOffset(timeZone, at) * 60_000;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mon 23 Nov` for a week, `23 Nov` for longer periods. */
function dayLabel(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  const short = `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]}`;
  return days > 10 ? short : `${WEEKDAYS[date.getUTCDay()]} ${short}`;
}

function formatWall(at: Date, timeZone: string): string {
  return new Date(wallClock(at, timeZone)).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The Vega-Lite spec of the chart: a pure function of the report, so a test
 * (or a person) can inspect what is drawn. Panel sizes leave room for axes,
 * legend and title inside `width` × `height`. It is long because the spec is one declarative
 * object: split into pieces it would read worse than whole.
 */
export function buildChartSpec(report: UsageReport, options: ChartOptions = {}): TopLevelSpec {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? CHART_HEIGHT;
  const zone = report.period.timeZone;
  const endpoints = report.endpoints.map((e) => e.endpoint);
  const colours = endpoints.map((_, i) => ENDPOINT_COLOURS[i % ENDPOINT_COLOURS.length] as string);
  const lines = report.concurrency.flatMap((series) =>
    series.points.map((p) => ({
      endpoint: series.endpoint,
      t: wallClock(p.at, zone),
      active: p.active,
    })),
  );
  const bars = report.days.flatMap((day, d) =>
    day.byEndpoint.map((hours, i) => ({
      endpoint: endpoints[i] ?? '',
      order: d,
      day: dayLabel(day.day, report.days.length),
      hours,
    })),
  );
  const color = {
    field: 'endpoint',
    type: 'nominal' as const,
    scale: { domain: endpoints, range: colours },
    legend: { title: 'Endpoint', orient: 'top' as const, direction: 'horizontal' as const },
  };
  const axisTime = {
    title: `Time (${zone})`,
    labelOverlap: true,
    format: report.days.length > 3 ? '%a %d %b' : '%H:%M',
    tickCount: Math.min(12, Math.max(4, report.days.length)),
  };
  const panelWidth = width - 110;
  const plots = height - 250;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: '#ffffff',
    padding: { left: 20, right: 30, top: 16, bottom: 16 },
    config: {
      font: FONT_FAMILY,
      view: { stroke: null },
      axis: {
        labelFontSize: 12,
        titleFontSize: 13,
        labelColor: '#374151',
        titleColor: '#374151',
        gridColor: '#e5e7eb',
        domainColor: '#9ca3af',
        tickColor: '#9ca3af',
        titleFontWeight: 'normal',
      },
      legend: { labelFontSize: 13, titleFontSize: 13, symbolStrokeWidth: 3 },
      title: { fontSize: 18, subtitleFontSize: 13, anchor: 'start', subtitleColor: '#4b5563' },
    },
    title: {
      text: options.title ?? 'VPN usage',
      subtitle: `${formatWall(report.period.start, zone)} – ${formatWall(report.period.end, zone)} (${zone})`,
    },
    vconcat: [
      {
        title: { text: 'Concurrent sessions', fontSize: 14, fontWeight: 'bold' },
        width: panelWidth,
        height: Math.round(plots * 0.55),
        data: { values: lines },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: { field: 't', type: 'temporal', scale: { type: 'utc' }, axis: axisTime },
          y: {
            field: 'active',
            type: 'quantitative',
            title: 'sessions',
            axis: { tickMinStep: 1, format: 'd' },
          },
          color,
        },
      },
      {
        title: { text: 'Connection-hours per day', fontSize: 14, fontWeight: 'bold' },
        width: panelWidth,
        height: Math.round(plots * 0.45),
        data: { values: bars },
        mark: { type: 'bar' },
        encoding: {
          x: {
            field: 'day',
            type: 'ordinal',
            sort: { field: 'order' },
            scale: { paddingInner: 0.2 },
            axis: { title: `Day (${zone})`, labelAngle: report.days.length > 10 ? -45 : 0 },
          },
          y: { field: 'hours', type: 'quantitative', title: 'connection-hours', stack: 'zero' },
          color,
        },
      },
    ],
    resolve: { scale: { color: 'shared', x: 'independent' } },
  } as TopLevelSpec;
}

/**
 * SVG → PNG of exactly `width` × `height` pixels on white: the SVG is scaled
 * to fit, keeping its proportions. Text uses the bundled DejaVu Sans only.
 */
export function svgToPng(svg: string, width: number, height: number): Buffer {
  const sized = svg.replace(
    /<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"/,
    `<svg$1 width="${width}" height="${height}" preserveAspectRatio="xMidYMid meet"`,
  );
  const resvg = new Resvg(sized, {
    background: '#ffffff',
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT_FAMILY },
  });
  return resvg.render().asPng();
}

/** One sentence describing the chart, for the image's alt text. */
export function chartAltText(report: UsageReport): string {
  const peaks = report.endpoints.map((e) => `${e.endpoint} peaked at ${e.peak.count}`).join(', ');
  const hours = report.totals.connectionHours.toFixed(1);
  return `Concurrent VPN sessions per endpoint (${peaks || 'no endpoints'}) and ${hours} connection-hours by day.`;
}

/**
 * Draws the report's chart as a PNG of `width` × `height` (default 1200 × 800).
 * Takes about 0.1–0.3 s (bench/report.ts measures it).
 */
export async function renderUsageChart(
  report: UsageReport,
  options: ChartOptions = {},
): Promise<RenderedChart> {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? CHART_HEIGHT;
  const vegaSpec = compile(buildChartSpec(report, options)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return { png: svgToPng(svg, width, height), width, height, altText: chartAltText(report) };
  } finally {
    view.finalize();
  }
}
