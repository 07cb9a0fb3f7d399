/**
 * The App Home builder: what the tab says for a fleet, that names from AWS and people are
 * escaped, that every time is a `<!date>` token, and that the view fits Slack's view limits
 * (checked by the independent checker the stand-in uses).
 */
import { describe, expect, it } from 'vitest';
import { BLOCK_KIT_LIMITS, validateBlocks } from '../../../src/sandbox/block-kit-limits.js';
import type { HomeInput, HomeSession } from '../../../src/services/home.js';
import {
  buildHomeDeniedView,
  buildHomeUnavailableView,
  buildHomeView,
  HOME_DENIED_TEXT,
} from '../../../src/slack/blocks/home.js';
import { ACTION_HOME_REFRESH } from '../../../src/slack/blocks/ids.js';
import { allText, buttonsWith } from '../../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function session(name: string, minutes: number, endpoint = 'prod'): HomeSession {
  return {
    endpoint,
    username: name,
    commonName: name,
    clientIp: '10.0.0.2',
    establishedAt: minutesAgo(minutes),
  };
}

const INPUT: HomeInput = {
  endpoints: [
    { alias: 'prod', id: 'cvpn-endpoint-0aaa', active: 12, endedLastHour: 3 },
    { alias: 'dev', id: 'cvpn-endpoint-0bbb', active: 0, endedLastHour: 1 },
    { alias: 'broken', id: 'cvpn-endpoint-0ccc', active: null, endedLastHour: null },
  ],
  longest: [
    session('<!channel>', 600),
    session('*admin*', 300, 'dev'),
    session('<https://evil.example|click me>', 120),
    session('dana', 60),
    session('erin', 30),
    session('frank', 10),
  ],
  digests: [
    { name: 'hourly', channel: 'C0OPS', lastPostAt: minutesAgo(20), sessions: 7 },
    { name: 'nightly <!here>', channel: 'C0NIGHT', lastPostAt: null, sessions: 0 },
  ],
  usage: {
    sessions: 42,
    people: 17,
    connectionHours: 63.25,
    estimatedCost: 3.1625,
    currency: 'USD',
    endpoints: [{ endpoint: 'prod', connectionHours: 63.25, peak: 14, peakAt: minutesAgo(180) }],
    historyStartsAt: new Date('2026-11-01T00:00:00Z'),
    chart: { fileId: 'F0CHART', altText: 'Concurrent VPN sessions per endpoint' },
  },
  fetchedAt: NOW,
};

describe('buildHomeView', () => {
  const view = buildHomeView(INPUT, NOW);
  const text = allText(view as unknown as Record<string, unknown>);

  it('is a home view Slack accepts, with a Refresh button', () => {
    expect(view.type).toBe('home');
    expect(validateBlocks(view.blocks, 'view')).toEqual([]);
    expect(
      buttonsWith(view as unknown as Record<string, unknown>, ACTION_HOME_REFRESH),
    ).toHaveLength(1);
  });

  it('shows per endpoint the active sessions and those ended in the last hour, and which could not be read', () => {
    expect(text).toContain(
      '*prod* `cvpn-endpoint-0aaa` · active now: *12* · ended in the last hour: 3',
    );
    expect(text).toContain(
      '*dev* `cvpn-endpoint-0bbb` · active now: *0* · ended in the last hour: 1',
    );
    expect(text).toContain('*broken* `cvpn-endpoint-0ccc` · active now: *:warning: unreadable*');
    expect(text).toContain(':warning: 1 endpoint could not be read just now.');
  });

  it('lists the five longest-running sessions, most senior first, with how long they have run', () => {
    expect(text).toContain(
      `1. *&lt;!channel&gt;* on prod · \`10.0.0.2\` · since <!date^${unix(minutesAgo(600))}^`,
    );
    expect(text).toContain('(10h 00m)');
    expect(text).toContain('5. *erin*');
    expect(text).not.toContain('frank');
  });

  it('escapes every name: no mention, link or formatting gets through', () => {
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;https://evil.example|click me&gt;');
    expect(text).toContain('\u200B*admin\u200B*');
    expect(text).toContain('*nightly &lt;!here&gt;*');
  });

  it('shows each digest’s last post and the last 24 hours, with the uploaded chart', () => {
    expect(text).toContain(`*hourly* → <#C0OPS> · last posted: <!date^${unix(minutesAgo(20))}^`);
    expect(text).toContain('(7 sessions)');
    expect(text).toContain('last posted: never');
    expect(text).toContain(
      'Sessions: *42* · people: *17* · connection-hours: *63.3 h* · estimated cost: *3.16 USD*',
    );
    expect(text).toContain(`peak 14 at <!date^${unix(minutesAgo(180))}^`);
    expect(view.blocks).toContainEqual({
      type: 'image',
      slack_file: { id: 'F0CHART' },
      alt_text: 'Concurrent VPN sessions per endpoint',
    });
  });

  it('writes every time as a <!date> token', () => {
    expect(text).toContain(`Updated <!date^${unix(NOW)}^`);
    expect(text).not.toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC(?!>)/);
  });

  it('says what is missing when there are no digests, no history and nobody connected', () => {
    const bare = buildHomeView({ ...INPUT, longest: [], digests: null, usage: null }, NOW);
    const bareText = allText(bare as unknown as Record<string, unknown>);
    expect(bareText).toContain('Nobody is connected.');
    expect(bareText).toContain('Digests are not configured');
    expect(bareText).toContain('Session history is not available on this instance.');
    expect(bare.blocks.some((b) => b.type === 'image')).toBe(false);
  });

  it('stays within a view’s limits for 500 endpoints with the longest names AWS allows', () => {
    const many: HomeInput = {
      ...INPUT,
      endpoints: Array.from({ length: 500 }, (_, i) => ({
        alias: `${'<&>'.repeat(80)}${i}`,
        id: `cvpn-endpoint-${String(i).padStart(17, '0')}`,
        active: i,
        endedLastHour: i,
      })),
      longest: Array.from({ length: 5 }, (_, i) => session('x'.repeat(5000) + i, 100 - i)),
      usage: INPUT.usage && {
        ...INPUT.usage,
        endpoints: Array.from({ length: 500 }, (_, i) => ({
          endpoint: `${'*'.repeat(250)}${i}`,
          connectionHours: i,
          peak: i,
          peakAt: NOW,
        })),
      },
    };
    const big = buildHomeView(many, NOW);
    expect(validateBlocks(big.blocks, 'view')).toEqual([]);
    expect(big.blocks.length).toBeLessThanOrEqual(BLOCK_KIT_LIMITS.blocksPerView);
    expect(allText(big as unknown as Record<string, unknown>)).toContain(
      '…and 440 more endpoints.',
    );
  });
});

describe('the other Home views', () => {
  it('tells a person who is not allowed just that, with no data and no button', () => {
    const view = buildHomeDeniedView();
    expect(validateBlocks(view.blocks, 'view')).toEqual([]);
    expect(allText(view as unknown as Record<string, unknown>)).toContain(HOME_DENIED_TEXT);
    expect(view.blocks.map((b) => b.type)).toEqual(['header', 'section']);
  });

  it('offers Refresh when the endpoints could not be read', () => {
    const view = buildHomeUnavailableView(NOW);
    expect(validateBlocks(view.blocks, 'view')).toEqual([]);
    expect(
      buttonsWith(view as unknown as Record<string, unknown>, ACTION_HOME_REFRESH),
    ).toHaveLength(1);
  });
});

describe('validateBlocks for views', () => {
  const dividers = (n: number) => Array.from({ length: n }, () => ({ type: 'divider' }));

  it('allows 100 blocks in a view where a message allows 50', () => {
    expect(validateBlocks(dividers(100), 'view')).toEqual([]);
    expect(validateBlocks(dividers(51))).toEqual(['blocks: 51 blocks (max 50)']);
    expect(validateBlocks(dividers(101), 'view')).toEqual(['blocks: 101 blocks (max 100)']);
  });

  it('takes an image from image_url or slack_file, exactly one', () => {
    expect(validateBlocks([{ type: 'image', slack_file: { id: 'F1' }, alt_text: 'a' }])).toEqual(
      [],
    );
    expect(validateBlocks([{ type: 'image', alt_text: 'a' }])).toEqual([
      'blocks[0]: needs exactly one of image_url and slack_file',
    ]);
    expect(validateBlocks([{ type: 'image', slack_file: {}, alt_text: 'a' }])[0]).toMatch(
      /slack_file: must be an object with an id or a url/,
    );
  });
});
