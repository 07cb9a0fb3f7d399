import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { formatQuery, parseCommand, type Query, tokenize, usage } from '../../src/vpn/query.js';

const slack = (text: string) => parseCommand(text, 'slack');
const cli = (...args: string[]) => parseCommand(args, 'cli');

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseCommand', () => {
  it('reads an empty command as the default endpoint, every status', () => {
    expect(slack('')).toEqual({
      query: {
        kind: 'list',
        endpoints: { kind: 'default' },
        usernames: [],
        connectionIds: [],
        statuses: null,
      },
      public: false,
    });
  });

  it('reads aliases, endpoint ids and `all`', () => {
    expect(slack('prod').query).toMatchObject({
      kind: 'list',
      endpoints: { kind: 'named', names: ['prod'] },
    });
    expect(slack('cvpn-endpoint-0123456789abcdef0').query).toMatchObject({
      endpoints: { kind: 'named', names: ['cvpn-endpoint-0123456789abcdef0'] },
    });
    expect(slack('prod all').query).toMatchObject({ endpoints: { kind: 'all' } });
    expect(cli('list', 'prod', 'dev').query).toMatchObject({
      endpoints: { kind: 'named', names: ['prod', 'dev'] },
    });
  });

  it('reads repeatable user= filters, conn= and status=', () => {
    expect(
      slack('prod user=alice user=bob conn=cvpn-connection-0aa11bb22cc33dd44 status=active').query,
    ).toEqual({
      kind: 'list',
      endpoints: { kind: 'named', names: ['prod'] },
      usernames: ['alice', 'bob'],
      connectionIds: ['cvpn-connection-0aa11bb22cc33dd44'],
      statuses: ['active'],
    });
  });

  it('reads status=all as no status filter and accepts a comma list', () => {
    expect(slack('status=all').query).toMatchObject({ statuses: null });
    expect(slack('status=terminated,failed-to-terminate').query).toMatchObject({
      statuses: ['terminated', 'failed-to-terminate'],
    });
  });

  it('rejects an unknown status and names it', () => {
    expect(usageError(() => slack('status=gone')).message).toContain('"gone"');
  });

  it('rejects a word it does not know and names it', () => {
    expect(usageError(() => slack('prod user:alice')).message).toBe(
      'I don\'t understand "user:alice".',
    );
    expect(usageError(() => slack('prod now')).message).toBe('I don\'t understand "now".');
    expect(usageError(() => slack('prod <!channel>')).message).toContain('<!channel>');
  });

  it('rejects an unknown filter key and a malformed connection id', () => {
    expect(usageError(() => slack('ip=10.0.0.1')).message).toContain('"ip="');
    expect(usageError(() => slack('conn=12345')).message).toContain('"12345"');
    expect(usageError(() => slack('user=')).message).toContain('needs a value');
  });

  it('reads `user NAME`, `user @mention` and `user me` on every endpoint by default', () => {
    expect(slack('user alice').query).toEqual({
      kind: 'user',
      who: { kind: 'name', name: 'alice' },
      endpoints: { kind: 'all' },
      statuses: null,
    });
    expect(slack('user <@U012ABCDEF|alice>').query).toMatchObject({
      who: { kind: 'slack-user', userId: 'U012ABCDEF' },
    });
    expect(slack('user <@W012ABCDEF>').query).toMatchObject({
      who: { kind: 'slack-user', userId: 'W012ABCDEF' },
    });
    expect(slack('user me prod').query).toMatchObject({
      who: { kind: 'me' },
      endpoints: { kind: 'named', names: ['prod'] },
    });
    expect(slack('user @alice').query).toMatchObject({ who: { kind: 'name', name: 'alice' } });
  });

  it('refuses Slack-only forms on the command line', () => {
    expect(usageError(() => cli('user', 'me')).message).toContain('only in Slack');
    expect(usageError(() => cli('digest')).message).toContain('only in Slack');
    expect(usageError(() => cli('public')).message).toContain('"public"');
  });

  it('asks for a name after `user`', () => {
    expect(usageError(() => slack('user')).message).toContain('needs a name');
  });

  it('takes `public` anywhere in Slack', () => {
    expect(slack('public prod')).toMatchObject({
      public: true,
      query: { endpoints: { kind: 'named', names: ['prod'] } },
    });
    expect(slack('user alice public').public).toBe(true);
  });

  it('reads `audit [N]` in Slack only, N from 1 to 100', () => {
    expect(slack('audit').query).toEqual({ kind: 'audit', limit: 20 });
    expect(slack('audit 50').query).toEqual({ kind: 'audit', limit: 50 });
    expect(usageError(() => slack('audit 500')).message).toContain('"500"');
    expect(usageError(() => slack('audit lots')).message).toContain('"lots"');
    expect(usageError(() => cli('audit')).message).toContain('only in Slack');
  });

  it('reads endpoints, help and digest', () => {
    expect(slack('endpoints').query).toEqual({ kind: 'endpoints' });
    expect(slack('HELP').query).toEqual({ kind: 'help' });
    expect(slack('digest').query).toEqual({ kind: 'digest', action: 'show' });
    expect(slack('digest now').query).toEqual({ kind: 'digest', action: 'now' });
    expect(usageError(() => slack('endpoints prod')).message).toContain('"prod"');
  });

  it("undoes Slack's escaping of & < > in what the person typed", () => {
    expect(slack('user=a&amp;b user=&lt;x&gt;').query).toMatchObject({ usernames: ['a&b', '<x>'] });
  });

  it("keeps quoted values with spaces together, also with Slack's curly quotes", () => {
    expect(slack('user="Jane Doe"').query).toMatchObject({ usernames: ['Jane Doe'] });
    expect(slack('user \u201CJane Doe\u201D').query).toMatchObject({
      who: { kind: 'name', name: 'Jane Doe' },
    });
    expect(usageError(() => slack('user="Jane')).message).toContain('Unclosed quote');
  });
});

describe('parseCommand: history and report', () => {
  it('reads history with its defaults: everyone, every endpoint, the last 24 hours', () => {
    expect(slack('history').query).toEqual({
      kind: 'history',
      who: null,
      endpoints: { kind: 'all' },
      since: null,
      at: null,
    });
  });

  it('reads a person, endpoints, since= and at= in any order after the person', () => {
    expect(slack('history user bob prod since=7d').query).toEqual({
      kind: 'history',
      who: { kind: 'name', name: 'bob' },
      endpoints: { kind: 'named', names: ['prod'] },
      since: '7d',
      at: null,
    });
    expect(slack('history user me at=2026-12-01T14:00').query).toMatchObject({
      at: '2026-12-01T14:00',
    });
    expect(slack('history user <@U012ABCDEF|bob> all at=2026-12-01T14:00Z').query).toMatchObject({
      who: { kind: 'slack-user', userId: 'U012ABCDEF' },
      endpoints: { kind: 'all' },
    });
  });

  it('refuses bad durations and dates, both since= and at=, and other filters, naming the word', () => {
    expect(usageError(() => slack('history since=0d')).message).toContain('`0d`');
    expect(usageError(() => slack('history since=yesterday')).message).toContain('`yesterday`');
    expect(usageError(() => slack('history at=14:00')).message).toContain('`14:00`');
    expect(usageError(() => slack('history since=1d at=2026-12-01T14:00')).message).toContain(
      'not both',
    );
    expect(usageError(() => slack('history status=active')).message).toContain('status=');
    expect(usageError(() => cli('history', 'user', 'me')).message).toContain('works only in Slack');
  });

  it('reads a report period (default 7d) and endpoints', () => {
    expect(slack('report').query).toEqual({
      kind: 'report',
      period: '7d',
      endpoints: { kind: 'all' },
    });
    expect(slack('report prod LAST-MONTH').query).toEqual({
      kind: 'report',
      period: 'last-month',
      endpoints: { kind: 'named', names: ['prod'] },
    });
    // The first period word is the period; a later one names an endpoint (an alias may be `30d`).
    expect(slack('report 7d 30d').query).toMatchObject({
      period: '7d',
      endpoints: { kind: 'named', names: ['30d'] },
    });
    expect(usageError(() => slack('report since=7d')).message).toContain('report takes a period');
  });

  it('lists both in the usage of each surface', () => {
    for (const surface of ['slack', 'cli'] as const) {
      expect(usage(surface)).toContain('history [user NAME');
      expect(usage(surface)).toContain('report [24h|7d|30d|month|last-month');
    }
  });
});

describe('formatQuery', () => {
  const roundTrip = (query: Query) =>
    parseCommand(formatQuery(query), 'slack', { slackEscaped: false }).query;

  it.each<Query>([
    {
      kind: 'list',
      endpoints: { kind: 'default' },
      usernames: [],
      connectionIds: [],
      statuses: null,
    },
    {
      kind: 'list',
      endpoints: { kind: 'named', names: ['prod', 'cvpn-endpoint-0123456789abcdef0'] },
      usernames: ['Jane "JD" Doe', 'a&b', '<!channel>', 'zoë', 'back\\slash'],
      connectionIds: ['cvpn-connection-0aa11bb22cc33dd44'],
      statuses: ['terminated', 'active'],
    },
    {
      kind: 'list',
      endpoints: { kind: 'all' },
      usernames: [],
      connectionIds: [],
      statuses: ['active'],
    },
    {
      kind: 'user',
      who: { kind: 'name', name: 'Jane Doe' },
      endpoints: { kind: 'all' },
      statuses: null,
    },
    {
      kind: 'user',
      who: { kind: 'slack-user', userId: 'U012ABCDEF' },
      endpoints: { kind: 'named', names: ['dev'] },
      statuses: null,
    },
    { kind: 'user', who: { kind: 'me' }, endpoints: { kind: 'all' }, statuses: ['terminated'] },
    { kind: 'endpoints' },
    { kind: 'help' },
    { kind: 'digest', action: 'now' },
    { kind: 'audit', limit: 7 },
    { kind: 'history', who: null, endpoints: { kind: 'all' }, since: null, at: null },
    {
      kind: 'history',
      who: { kind: 'name', name: 'Jane Doe' },
      endpoints: { kind: 'named', names: ['prod', 'dev'] },
      since: '2026-12-01T14:00+01:00',
      at: null,
    },
    {
      kind: 'history',
      who: { kind: 'slack-user', userId: 'U012ABCDEF' },
      endpoints: { kind: 'all' },
      since: null,
      at: '2026-12-01T14:00:30Z',
    },
    { kind: 'history', who: { kind: 'me' }, endpoints: { kind: 'all' }, since: '7d', at: null },
    { kind: 'report', period: '7d', endpoints: { kind: 'all' } },
    { kind: 'report', period: 'last-month', endpoints: { kind: 'named', names: ['prod'] } },
    { kind: 'report', period: '24h', endpoints: { kind: 'named', names: ['month', '7d'] } },
  ])('gives back the same query when parsed: %j', (query) => {
    expect(roundTrip(query)).toEqual(query);
  });
});

describe('tokenize', () => {
  it('splits on any whitespace and drops empty words', () => {
    expect(tokenize('  prod \t user=alice\n')).toEqual(['prod', 'user=alice']);
    expect(tokenize('user=""')).toEqual(['user=']);
  });
});

describe('usage', () => {
  it('shows each surface its own command name', () => {
    expect(usage('slack')).toMatch(/^\/vpn-conns /m);
    expect(usage('cli')).toMatch(/^vpn-conns list /m);
    expect(usage('cli')).toContain('--json');
  });
});
