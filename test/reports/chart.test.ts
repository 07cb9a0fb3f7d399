import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  buildChartSpec,
  ENDPOINT_COLOURS,
  renderUsageChart,
  svgToPng,
} from '../../src/reports/chart.js';
import { parseReportPeriod } from '../../src/reports/period.js';
import { type SessionRecord, summarizeUsage, type UsageReport } from '../../src/reports/usage.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HOUR = 3_600_000;

function weekReport(): UsageReport {
  const now = new Date('2026-11-30T08:00:00Z');
  const sessions: SessionRecord[] = [];
  for (let d = 0; d < 7; d += 1) {
    for (const [endpoint, count] of [
      ['prod', 4],
      ['staging', 2],
    ] as const) {
      for (let i = 0; i < count; i += 1) {
        const start = Date.parse('2026-11-23T07:00:00Z') + d * 24 * HOUR + i * HOUR;
        sessions.push({
          endpoint,
          connectionId: `cvpn-connection-${endpoint}${d}${i}`,
          username: `user${i}`,
          commonName: null,
          authentication: ['federated-authentication'],
          start: new Date(start),
          end: new Date(start + (3 + i) * HOUR),
          ingressBytes: 1,
          egressBytes: 1,
        });
      }
    }
  }
  return summarizeUsage({
    sessions,
    period: parseReportPeriod('last-7d', now, 'Europe/Berlin'),
    now,
  });
}

/** Pixels within a small distance of the colour `#rrggbb`. */
function countColour(png: PNG, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const dr = Math.abs((png.data[i] as number) - r);
    const dg = Math.abs((png.data[i + 1] as number) - g);
    const db = Math.abs((png.data[i + 2] as number) - b);
    if (dr + dg + db < 24) n += 1;
  }
  return n;
}

function notWhite(png: PNG): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if ((png.data[i] as number) + (png.data[i + 1] as number) + (png.data[i + 2] as number) < 700)
      n += 1;
  }
  return n;
}

describe('renderUsageChart', () => {
  it('draws a valid PNG of the stated size whose pixels are not blank', async () => {
    const chart = await renderUsageChart(weekReport(), { width: 1000, height: 640 });
    expect(chart.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(chart.png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect([chart.png.readUInt32BE(16), chart.png.readUInt32BE(20)]).toEqual([1000, 640]);
    expect([chart.width, chart.height]).toEqual([1000, 640]);

    const png = PNG.sync.read(chart.png);
    expect([png.width, png.height]).toEqual([1000, 640]);
    const inked = notWhite(png);
    expect(inked).toBeGreaterThan(1000 * 640 * 0.03);
    expect(inked).toBeLessThan(1000 * 640 * 0.6);
  });

  it('draws each endpoint in its own colour, the same in the lines, the bars and the legend', async () => {
    const png = PNG.sync.read((await renderUsageChart(weekReport())).png);
    expect(countColour(png, ENDPOINT_COLOURS[0])).toBeGreaterThan(2000); // prod
    expect(countColour(png, ENDPOINT_COLOURS[1])).toBeGreaterThan(2000); // staging
    expect(countColour(png, ENDPOINT_COLOURS[2])).toBe(0); // no third endpoint
  });

  it('says what it shows in its alt text', async () => {
    const chart = await renderUsageChart(weekReport());
    expect(chart.altText).toBe(
      'Concurrent VPN sessions per endpoint (prod peaked at 3, staging peaked at 2) and 175.0 connection-hours by day.',
    );
  });

  it('labels the time axes with the report’s zone and titles the panels', () => {
    const spec = JSON.stringify(buildChartSpec(weekReport(), { title: 'VPN usage · last 7 days' }));
    expect(spec).toContain('Time (Europe/Berlin)');
    expect(spec).toContain('Day (Europe/Berlin)');
    expect(spec).toContain('2026-11-23 00:00 – 2026-11-30 00:00 (Europe/Berlin)');
    expect(spec).toContain('Concurrent sessions');
    expect(spec).toContain('Connection-hours per day');
  });
});

describe('svgToPng', () => {
  it('draws text with the bundled font, without system fonts', () => {
    const text =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><text x="10" y="40" font-family="DejaVu Sans" font-size="28" fill="#000">VPN 42</text></svg>';
    const empty =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><text x="10" y="40" font-size="28"></text></svg>';
    expect(countColour(PNG.sync.read(svgToPng(text, 200, 60)), '#000000')).toBeGreaterThan(150);
    expect(notWhite(PNG.sync.read(svgToPng(empty, 200, 60)))).toBe(0);
  });

  it('scales to exactly the size asked for', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" viewBox="0 0 100 50"><rect width="100" height="50" fill="#4e79a7"/></svg>';
    const png = PNG.sync.read(svgToPng(svg, 300, 150));
    expect([png.width, png.height]).toEqual([300, 150]);
    expect(countColour(png, '#4e79a7')).toBe(300 * 150);
  });
});
