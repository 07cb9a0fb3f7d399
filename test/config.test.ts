import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

function problems(
  env: Record<string, string | undefined>,
  file = '',
  purpose: 'cli' | 'bot' = 'cli',
): readonly string[] {
  try {
    loadConfig(env, () => file, purpose);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads endpoints in order, the first being the default, with per-endpoint regions', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      VPN_ENDPOINTS:
        'prod=cvpn-endpoint-0123456789abcdef0, US=cvpn-endpoint-0123456789abcdef1@us-east-1',
    });
    const origin = { kind: 'VPN_ENDPOINTS' };
    expect(config.aws.endpoints).toEqual([
      { alias: 'prod', id: 'cvpn-endpoint-0123456789abcdef0', region: 'eu-west-1', origin },
      { alias: 'us', id: 'cvpn-endpoint-0123456789abcdef1', region: 'us-east-1', origin },
    ]);
  });

  it('discovers endpoints when VPN_ENDPOINTS is unset, and applies defaults', () => {
    const config = loadConfig({ AWS_REGION: 'eu-west-1' });
    expect(config).toEqual({
      access: { allowed: '*', admins: { users: [], groups: [], channels: [] } },
      aws: {
        region: 'eu-west-1',
        endpoints: null,
        requestTimeoutMs: 10_000,
        maxAttempts: 3,
        concurrency: 4,
      },
      slack: null,
      digests: [],
      pollSeconds: 300,
      databaseUrl: 'sqlite:./data/vpn-conns.db',
      role: 'all',
      logLevel: 'info',
      history: { pollSeconds: 300, days: 90, timeZone: 'UTC' },
      pricing: { currency: 'USD', perConnectionHour: 0.05, byEndpoint: {} },
      reports: [],
      alerts: { rules: [], maxConnections: {} },
      metricsPort: null,
    });
  });

  it('takes METRICS_PORT from 1 to 65535, and refuses anything else by name', () => {
    const base = { AWS_REGION: 'eu-west-1' };
    expect(loadConfig({ ...base, METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({ ...base, METRICS_PORT: '' }).metricsPort).toBeNull();
    for (const bad of ['0', '65536', 'nine', '9464.5']) {
      expect(() => loadConfig({ ...base, METRICS_PORT: bad })).toThrow(/METRICS_PORT/);
    }
  });

  it('reads the history and price settings, the history polling as often as the digest by default', () => {
    const base = { AWS_REGION: 'eu-west-1' };
    expect(loadConfig({ ...base, DIGEST_POLL_SECONDS: '120' }).history).toEqual({
      pollSeconds: 120,
      days: 90,
      timeZone: 'UTC',
    });
    expect(
      loadConfig({ ...base, DIGEST_CHANNEL: 'C0123456789', DIGEST_TIMEZONE: 'Europe/Berlin' })
        .history.timeZone,
    ).toBe('Europe/Berlin');
    const config = loadConfig({
      ...base,
      DIGEST_POLL_SECONDS: '120',
      HISTORY_POLL_SECONDS: '60',
      HISTORY_DAYS: '30',
      VPN_CONNECTION_HOUR_PRICE: '0.1',
    });
    expect(config.history).toEqual({ pollSeconds: 60, days: 30, timeZone: 'UTC' });
    expect(config.pricing.perConnectionHour).toBe(0.1);
    expect(
      problems({
        ...base,
        HISTORY_POLL_SECONDS: '5',
        HISTORY_DAYS: '0',
        VPN_CONNECTION_HOUR_PRICE: 'free',
      }),
    ).toEqual([
      'HISTORY_POLL_SECONDS: "5" is not a whole number from 10 to 3600 (seconds)',
      'HISTORY_DAYS: "0" is not a whole number from 1 to 3650 (days)',
      'VPN_CONNECTION_HOUR_PRICE: "free" is not a price such as 0.05 (USD per connection-hour)',
    ]);
  });

  it('reads scheduled reports from the YAML file, with defaults, and names what is wrong', () => {
    const yaml = [
      'endpoints:',
      '  - alias: prod',
      '    id: cvpn-endpoint-0123456789abcdef0',
      'reports:',
      '  - name: weekly',
      '    channel: C0123456789',
      '    cron: "0 9 * * 1"',
      '    timezone: Europe/Berlin',
      '  - name: monthly',
      '    channel: C0123456789',
      '    cron: "0 9 1 * *"',
      '    period: last-month',
      '    endpoints: [prod]',
    ].join('\n');
    const config = loadConfig({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' }, () => yaml);
    expect(config.reports).toEqual([
      {
        name: 'weekly',
        channel: 'C0123456789',
        cron: '0 9 * * 1',
        period: 'last-7d',
        timezone: 'Europe/Berlin',
        endpoints: 'all',
      },
      {
        name: 'monthly',
        channel: 'C0123456789',
        cron: '0 9 1 * *',
        period: 'last-month',
        timezone: 'UTC',
        endpoints: ['prod'],
      },
    ]);
    expect(
      problems(
        { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' },
        yaml.replace('last-month', 'fortnight').replace('[prod]', '[staging]'),
      ),
    ).toEqual([
      'f.yml:12: reports[1].period: must be one of 24h, 7d, 30d, month, last-month, last-7d',
    ]);
    expect(
      problems(
        { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' },
        yaml.replace('[prod]', '[staging]'),
      ),
    ).toEqual(['report "monthly": unknown endpoint staging (known: prod)']);
  });

  it('reads per-endpoint connection-hour prices from the YAML file', () => {
    const yaml = [
      'endpoints:',
      '  - alias: prod',
      '    id: cvpn-endpoint-0123456789abcdef0',
      '    connectionHourPrice: 0.15',
      '  - alias: us',
      '    id: cvpn-endpoint-0123456789abcdef1',
    ].join('\n');
    const config = loadConfig({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' }, () => yaml);
    expect(config.pricing).toEqual({
      currency: 'USD',
      perConnectionHour: 0.05,
      byEndpoint: { prod: 0.15 },
    });
    expect(config.aws.endpoints?.[0]).not.toHaveProperty('connectionHourPrice');
    expect(
      problems({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' }, yaml.replace('0.15', '-1')),
    ).toEqual(['f.yml:4: endpoints[0].connectionHourPrice: must not be negative']);
  });

  it('reads alert rules and connection limits from the YAML file, every problem in one run', () => {
    const yaml = [
      'endpoints:',
      '  - alias: prod',
      '    id: cvpn-endpoint-0123456789abcdef0',
      '    maxConnections: 500',
      '  - alias: dev',
      '    id: cvpn-endpoint-0123456789abcdef1',
      'alerts:',
      '  - name: shared-credentials',
      '    channel: C0123456789',
      '    maxSessionsPerUser: 3',
      '  - name: long-sessions',
      '    channel: C0123456789',
      '    endpoints: [prod]',
      '    maxSessionHours: 20',
    ].join('\n');
    const env = { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' };
    const config = loadConfig(env, () => yaml);
    expect(config.alerts).toEqual({
      rules: [
        {
          name: 'shared-credentials',
          channel: 'C0123456789',
          endpoints: 'all',
          condition: { kind: 'maxSessionsPerUser', sessions: 3 },
        },
        {
          name: 'long-sessions',
          channel: 'C0123456789',
          endpoints: ['prod'],
          condition: { kind: 'maxSessionHours', hours: 20 },
        },
      ],
      maxConnections: { prod: 500 },
    });
    expect(config.aws.endpoints?.[0]).not.toHaveProperty('maxConnections');
    const broken = yaml
      .replace('maxConnections: 500', 'maxConnections: 0')
      .replace('[prod]', '[staging]')
      .replace('maxSessionsPerUser: 3', 'maxSessionsPerUser: 3\n    idleHours: 4')
      .replace('long-sessions', 'shared-credentials');
    expect(problems(env, broken)).toEqual([
      'f.yml:4: endpoints[0].maxConnections: must be at least 1',
      'f.yml:8: alerts[0]: rule "shared-credentials" has 2 conditions (maxSessionsPerUser, idleHours): keep one, or make one rule each',
    ]);
    expect(
      problems(
        env,
        yaml.replace('[prod]', '[staging]').replace('long-sessions', 'shared-credentials'),
      ),
    ).toEqual([
      'alert rule "shared-credentials" is defined twice',
      'alert rule "shared-credentials": unknown endpoint staging (known: prod, dev)',
    ]);
    expect(problems(env, yaml.replace('maxSessionsPerUser: 3', 'maxSessionPerUser: 3'))).toEqual([
      'f.yml:10: alerts[0].maxSessionPerUser: is not a field of an alert rule (did you mean maxSessionsPerUser?)',
    ]);
    expect(problems(env, yaml.replace('maxSessionsPerUser: 3', 'colour: red'))).toEqual([
      'f.yml:10: alerts[0].colour: is not a field of an alert rule (fields: name, channel, endpoints, maxSessionsPerUser, maxSessionHours, postureNonCompliant, failedToTerminate, endpointUsagePercent, idleHours, newUser)',
    ]);
    expect(problems(env, yaml.replace('channel: C0123456789', 'channel: "#security"'))).toEqual([
      'f.yml:9: alerts[0].channel: is not a channel ID such as C0123456789 (channel details → bottom of the About tab)',
    ]);
  });

  it('falls back to AWS_DEFAULT_REGION and treats empty values as unset', () => {
    const config = loadConfig({
      AWS_REGION: '',
      AWS_DEFAULT_REGION: 'us-west-2',
      VPN_ENDPOINTS: '',
    });
    expect(config.aws.region).toBe('us-west-2');
    expect(config.aws.endpoints).toBeNull();
  });

  it('names the missing region', () => {
    expect(problems({})).toEqual([
      'AWS_REGION: is required (the AWS region of your endpoints, e.g. eu-west-1)',
    ]);
  });

  it('reports one line per problem, each naming its variable', () => {
    expect(
      problems({
        AWS_REGION: 'Europe',
        VPN_ENDPOINTS:
          'prod=cvpn-endpoint-0123456789abcdef0,prod=cvpn-endpoint-0123456789abcdef1,all=cvpn-endpoint-0123456789abcdef2,dev=vpn-1,x=cvpn-endpoint-0123456789abcdef3@mars,junk',
        AWS_REQUEST_TIMEOUT_SECONDS: '0',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'AWS_REGION: is not an AWS region such as eu-west-1',
      'VPN_ENDPOINTS: alias "prod" appears twice',
      'VPN_ENDPOINTS: alias "all" must be letters, digits, ".", "_" or "-" and not one of list, user, endpoints, help, digest, audit, alerts, history, report, all, public, me, now',
      'VPN_ENDPOINTS: "vpn-1" (for dev) is not a cvpn-endpoint-… id',
      'VPN_ENDPOINTS: region "mars" (for x) is not an AWS region such as eu-west-1',
      'VPN_ENDPOINTS: "junk" should look like alias=cvpn-endpoint-0123456789abcdef0 (optionally @region)',
      'AWS_REQUEST_TIMEOUT_SECONDS: "0" is not a whole number from 1 to 120 (seconds)',
      'LOG_LEVEL: must be debug, info, warn or error',
    ]);
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ AWS_REGION: 'x' })).toThrow(
      /Invalid configuration:\n {2}- AWS_REGION/,
    );
  });

  it('reads one digest from DIGEST_* variables with defaults', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      DIGEST_CHANNEL: 'C0123456789',
      DIGEST_ENDPOINTS: 'Prod, dev',
    });
    expect(config.digests).toEqual([
      {
        name: 'default',
        channel: 'C0123456789',
        cron: '0 * * * *',
        timezone: 'UTC',
        endpoints: ['prod', 'dev'],
        empty: 'skip',
      },
    ]);
  });

  it('names each bad digest variable', () => {
    expect(
      problems({
        AWS_REGION: 'eu-west-1',
        DIGEST_CHANNEL: '#security',
        DIGEST_CRON: 'every hour',
        DIGEST_TIMEZONE: 'Mars/Base',
        DIGEST_EMPTY: 'maybe',
        DIGEST_POLL_SECONDS: '5',
      }),
    ).toEqual([
      'DIGEST_POLL_SECONDS: "5" is not a whole number from 10 to 3600 (seconds)',
      'DIGEST_CHANNEL: is not a channel ID such as C0123456789 (channel details → bottom of the About tab)',
      'DIGEST_CRON: is not a cron expression such as "0 * * * *"',
      'DIGEST_TIMEZONE: is not an IANA time zone such as Europe/Berlin',
      'DIGEST_EMPTY: must be skip or post',
    ]);
  });

  it('says when a digest variable has no effect', () => {
    expect(problems({ AWS_REGION: 'eu-west-1', DIGEST_CRON: '0 * * * *' })).toEqual([
      'DIGEST_CRON: has no effect without DIGEST_CHANNEL',
    ]);
  });

  it('refuses a digest over an endpoint that is not configured', () => {
    expect(
      problems({
        AWS_REGION: 'eu-west-1',
        VPN_ENDPOINTS: 'prod=cvpn-endpoint-0123456789abcdef0',
        DIGEST_CHANNEL: 'C0123456789',
        DIGEST_ENDPOINTS: 'prod,staging',
      }),
    ).toEqual(['digest "default": unknown endpoint staging (known: prod)']);
  });

  it('reads several digests from the YAML file named by VPN_CONNS_CONFIG', () => {
    const yaml = [
      'pollSeconds: 60',
      'digests:',
      '  - name: security',
      '    channel: C0123456789',
      '    timezone: Europe/Berlin',
      '  - name: it',
      '    channel: G0123456789',
      '    cron: "30 8 * * 1-5"',
      '    endpoints: [prod]',
      '    empty: post',
    ].join('\n');
    const config = loadConfig(
      { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'vpn-conns.yml' },
      () => yaml,
    );
    expect(config.pollSeconds).toBe(60);
    expect(
      config.digests.map((d) => [d.name, d.channel, d.cron, d.timezone, d.endpoints, d.empty]),
    ).toEqual([
      ['security', 'C0123456789', '0 * * * *', 'Europe/Berlin', 'all', 'skip'],
      ['it', 'G0123456789', '30 8 * * 1-5', 'UTC', ['prod'], 'post'],
    ]);
  });

  it('names the file, line and field of each problem in the YAML file', () => {
    const yaml = [
      'digests:',
      '  - name: security',
      '    channel: C0123456789',
      '  - name: it',
      '    channel: C0123456789',
      '    timezone: Mars/Base',
      '    colour: red',
    ].join('\n');
    expect(problems({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'vpn-conns.yml' }, yaml)).toEqual([
      'vpn-conns.yml:6: digests[1].timezone: is not an IANA time zone such as Europe/Berlin',
      'vpn-conns.yml:7: digests[1].colour: Unrecognized key: "colour"',
    ]);
  });

  it('reports YAML syntax errors and unreadable files with their place', () => {
    expect(
      problems(
        { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'bad.yml' },
        'digests:\n  - name: [x\n',
      )[0],
    ).toMatch(/^bad\.yml:\d+: /);
    expect(() =>
      loadConfig({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: '/nonexistent/vpn-conns.yml' }),
    ).toThrow('VPN_CONNS_CONFIG: cannot read /nonexistent/vpn-conns.yml (ENOENT)');
  });

  it('rejects two digests with the same name', () => {
    const yaml = 'digests:\n  - name: default\n    channel: C0123456789\n';
    expect(
      problems(
        { AWS_REGION: 'eu-west-1', DIGEST_CHANNEL: 'C0123456789', VPN_CONNS_CONFIG: 'f.yml' },
        yaml,
      ),
    ).toEqual(['digest "default" is defined twice']);
  });

  it('reads access lists of Slack IDs and refuses names', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      VPN_CONNS_ALLOWED: 'U0123ABCD, S0GROUP1, C0CHANNEL1, W0ENTERPR',
      VPN_CONNS_ADMINS: 'U0ADMIN01,S0ADMINS1',
    });
    expect(config.access).toEqual({
      allowed: {
        users: ['U0123ABCD', 'W0ENTERPR'],
        groups: ['S0GROUP1'],
        channels: ['C0CHANNEL1'],
      },
      admins: { users: ['U0ADMIN01'], groups: ['S0ADMINS1'], channels: [] },
    });
    expect(
      problems({
        AWS_REGION: 'eu-west-1',
        VPN_CONNS_ALLOWED: 'alice',
        VPN_CONNS_ADMINS: 'C0CHANNEL1',
      }),
    ).toEqual([
      'VPN_CONNS_ALLOWED: "alice" is not a Slack user, user group or channel ID (U…, W…, S…, C…, G…); names are not accepted',
      'VPN_CONNS_ADMINS: "C0CHANNEL1" is not a Slack user or user group ID (U…, W…, S…); names are not accepted',
    ]);
  });

  it('reads endpoints with IAM roles from the YAML file, not beside VPN_ENDPOINTS', () => {
    const yaml = [
      'endpoints:',
      '  - alias: Prod',
      '    id: cvpn-endpoint-0123456789abcdef0',
      '    roleArn: arn:aws:iam::123456789012:role/vpn-conns',
      '  - alias: us',
      '    id: cvpn-endpoint-0123456789abcdef1',
      '    region: us-east-1',
    ].join('\n');
    const config = loadConfig({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' }, () => yaml);
    expect(config.aws.endpoints).toEqual([
      {
        alias: 'prod',
        id: 'cvpn-endpoint-0123456789abcdef0',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::123456789012:role/vpn-conns',
        origin: { kind: 'file', file: 'f.yml' },
      },
      {
        alias: 'us',
        id: 'cvpn-endpoint-0123456789abcdef1',
        region: 'us-east-1',
        origin: { kind: 'file', file: 'f.yml' },
      },
    ]);
    expect(
      problems(
        {
          AWS_REGION: 'eu-west-1',
          VPN_CONNS_CONFIG: 'f.yml',
          VPN_ENDPOINTS: 'x=cvpn-endpoint-0123456789abcdef0',
        },
        yaml,
      ),
    ).toEqual([
      'VPN_ENDPOINTS: endpoints are also listed in VPN_CONNS_CONFIG; keep them in one place',
    ]);
    expect(
      problems(
        { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'f.yml' },
        yaml.replace('role/vpn-conns', 'user/bob'),
      ),
    ).toEqual([
      'f.yml:4: endpoints[0].roleArn: is not an IAM role ARN such as arn:aws:iam::123456789012:role/vpn-conns',
    ]);
  });

  it('chooses the Slack mode from the tokens it is given', () => {
    const base = { AWS_REGION: 'eu-west-1', SLACK_BOT_TOKEN: 'xoxb-1234-abcd' };
    expect(loadConfig({ ...base, SLACK_SIGNING_SECRET: 'abcdef0123456789' }).slack).toMatchObject({
      mode: 'http',
      port: 3000,
    });
    expect(
      loadConfig({ ...base, SLACK_APP_TOKEN: 'xapp-1-abcdef', PORT: '8080' }).slack,
    ).toMatchObject({
      mode: 'socket',
      appToken: 'xapp-1-abcdef',
    });
    expect(loadConfig({ ...base, VPN_CONNS_ROLE: 'worker' }).slack).toMatchObject({ mode: 'none' });
    expect(() => loadConfig(base)).toThrow(/SLACK_SIGNING_SECRET: is required for HTTP mode/);
  });

  it('names a malformed token without ever printing it', () => {
    const lines = problems({
      AWS_REGION: 'eu-west-1',
      SLACK_BOT_TOKEN: 'xoxp-user-token-not-a-bot-token',
      SLACK_APP_TOKEN: 'not-an-app-token',
      SLACK_API_URL: 'slack api',
    });
    expect(lines).toEqual([
      'SLACK_BOT_TOKEN: does not look right: a bot token starts with "xoxb-"',
      'SLACK_APP_TOKEN: does not look right: an app-level token starts with "xapp-"',
      'SLACK_API_URL: is not a URL such as https://slack.com/api/',
    ]);
    expect(lines.join('\n')).not.toContain('xoxp-user-token');
    expect(lines.join('\n')).not.toContain('not-an-app-token');
  });

  it('reads VPN_USER_MAP and refuses names in it', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      SLACK_BOT_TOKEN: 'xoxb-1234-abcd',
      SLACK_SIGNING_SECRET: 'abcdef0123456789',
      VPN_USER_MAP: 'U012ABCDEF=alice, W0987ZYX=bob.smith',
    });
    expect([...(config.slack?.userMap ?? [])]).toEqual([
      ['U012ABCDEF', 'alice'],
      ['W0987ZYX', 'bob.smith'],
    ]);
    expect(problems({ AWS_REGION: 'eu-west-1', VPN_USER_MAP: 'alice=alice' })).toEqual([
      'VPN_USER_MAP: "alice=alice" should look like U012ABCDEF=alice (a Slack user ID, "=", the VPN user name)',
    ]);
  });

  it('reports every problem of a bot start in one run, Slack settings included', () => {
    expect(problems({}, '', 'bot')).toEqual([
      'AWS_REGION: is required (the AWS region of your endpoints, e.g. eu-west-1)',
      'SLACK_BOT_TOKEN: is required to run the bot (with SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode): OAuth & Permissions → Bot User OAuth Token, xoxb-…; the terminal command needs no Slack settings (vpn-conns help)',
    ]);
    expect(
      problems({ AWS_REGION: 'eu-west-1', SLACK_BOT_TOKEN: 'xoxb-1234-abcd' }, '', 'bot'),
    ).toEqual([
      'SLACK_SIGNING_SECRET: is required for HTTP mode (Basic Information → Signing Secret), or set SLACK_APP_TOKEN=xapp-… for Socket Mode',
    ]);
    // A worker with no digest still collects the session history.
    expect(
      loadConfig(
        { AWS_REGION: 'eu-west-1', SLACK_BOT_TOKEN: 'xoxb-1234-abcd', VPN_CONNS_ROLE: 'worker' },
        () => '',
        'bot',
      ).role,
    ).toBe('worker');
  });

  it('checks DATABASE_URL with the rest, naming the scheme and never the URL', () => {
    const lines = problems(
      {
        AWS_REGION: 'Europe',
        DATABASE_URL: 'mysql://root:hunter2@db:3306/vpn',
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
      },
      '',
      'bot',
    );
    expect(lines).toEqual([
      'PORT: "eighty" is not a whole number from 0 to 65535 (port)',
      'AWS_REGION: is not an AWS region such as eu-west-1',
      'LOG_LEVEL: must be debug, info, warn or error',
      'DATABASE_URL: has the unsupported scheme mysql:; expected sqlite:PATH or postgres://user:password@host:5432/db',
      expect.stringMatching(/^SLACK_BOT_TOKEN: is required/),
    ]);
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(problems({ AWS_REGION: 'eu-west-1', DATABASE_URL: 'sqlite:' })).toEqual([
      'DATABASE_URL: sqlite: takes a file path (sqlite:./data/vpn-conns.db, sqlite:/abs/path.db or sqlite::memory:)',
    ]);
    expect(problems({ AWS_REGION: 'eu-west-1', DATABASE_URL: 'user:secret@host' })).toEqual([
      'DATABASE_URL: is not a URL; expected sqlite:PATH or postgres://user:password@host:5432/db',
    ]);
  });

  it('checks a bad DIGEST_CRON even without DIGEST_CHANNEL, in the same run as the rest', () => {
    expect(
      problems({ DIGEST_CRON: '61 * * * *', DIGEST_TIMEZONE: 'Mars/Base', LOG_LEVEL: 'loud' }),
    ).toEqual([
      'AWS_REGION: is required (the AWS region of your endpoints, e.g. eu-west-1)',
      'LOG_LEVEL: must be debug, info, warn or error',
      'DIGEST_CRON: is not a cron expression such as "0 * * * *", and has no effect without DIGEST_CHANNEL',
      'DIGEST_TIMEZONE: is not an IANA time zone such as Europe/Berlin, and has no effect without DIGEST_CHANNEL',
    ]);
  });

  it('checks digests against VPN_ENDPOINTS while other variables are wrong too', () => {
    expect(
      problems({
        AWS_REGION: 'Europe',
        VPN_ENDPOINTS: 'prod=cvpn-endpoint-0123456789abcdef0',
        DIGEST_CHANNEL: 'C0123456789',
        DIGEST_ENDPOINTS: 'staging',
      }),
    ).toEqual([
      'AWS_REGION: is not an AWS region such as eu-west-1',
      'digest "default": unknown endpoint staging (known: prod)',
    ]);
  });
});
