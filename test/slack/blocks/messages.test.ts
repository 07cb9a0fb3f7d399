import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
  UsageError,
} from '../../../src/errors.js';
import type { SlackMessage } from '../../../src/slack/blocks/limits.js';
import {
  buildAwsErrorMessage,
  buildEndpointsMessage,
  buildHelpMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../../src/slack/blocks/messages.js';
import type { Endpoint } from '../../../src/vpn/endpoint.js';
import { parseCommand, usage } from '../../../src/vpn/query.js';
import { limitProblems } from './limit-problems.js';

/** Every mrkdwn or plain text in the blocks, in order. */
function blockTexts(message: SlackMessage): string[] {
  const texts: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (
        (record.type === 'mrkdwn' || record.type === 'plain_text') &&
        typeof record.text === 'string'
      ) {
        texts.push(record.text);
      } else Object.values(record).forEach(visit);
    }
  };
  visit(message.blocks);
  return texts;
}

const allText = (message: SlackMessage) => [message.text, ...blockTexts(message)].join('\n');

function expectSendable(message: SlackMessage): void {
  expect(limitProblems(message)).toEqual([]);
  expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|Invalid Date|\[object /);
  // No raw `<` anywhere: these messages carry no Slack tokens of their own.
  expect(allText(message)).not.toContain('<');
}

describe('buildHelpMessage', () => {
  it('says what the bot does and shows the Slack usage in a code block', () => {
    const message = buildHelpMessage();
    const texts = blockTexts(message);
    expect(texts[0]).toContain('shows who is connected to the AWS Client VPN endpoints');
    expect(texts[1]).toBe(`\`\`\`\n${usage('slack')}\n\`\`\``);
    expect(message.text).toBe('How to use /vpn-conns');
    expectSendable(message);
  });
});

describe('buildUsageErrorMessage', () => {
  it('gives the reason, escaped, then the usage', () => {
    const message = buildUsageErrorMessage(new UsageError('I don\'t understand "<!channel>".'));
    const texts = blockTexts(message);
    expect(texts[0]).toBe(':x: I don\'t understand "&lt;!channel&gt;".');
    expect(texts[1]).toContain('/vpn-conns [ENDPOINT…|all]');
    expect(message.text).toBe(':x: I don\'t understand "&lt;!channel&gt;".');
    expectSendable(message);
  });

  it('keeps a very long reason within the limits', () => {
    expectSendable(buildUsageErrorMessage(new UsageError('&'.repeat(5000))));
  });
});

describe('buildAwsErrorMessage', () => {
  const details = { requestId: 'req-1234', code: 'Some.Code' };
  const cases = [
    [
      new EndpointNotFoundError('Endpoint cvpn-endpoint-0abc was not found.', details),
      ':mag:',
      '/vpn-conns endpoints',
    ],
    [
      new AccessDeniedError('Not allowed.', details),
      ':no_entry:',
      'ec2:DescribeClientVpnConnections',
    ],
    [new ThrottledError('Slow down.', details), ':snail:', 'wait a minute'],
    [new CredentialsError('No credentials.', details), ':key:', 'credentials'],
    [new AwsUnavailableError('Timed out.', details), ':electric_plug:', 'try again in a moment'],
    [new AwsRequestError('Bad parameter.', details), ':x:', 'check the command'],
  ] as const;

  for (const [error, emoji, advice] of cases) {
    it(`explains ${error.kind} with ${emoji}, the message, what to do and the request id`, () => {
      const message = buildAwsErrorMessage(error, 'Listing connections on prod');
      const [main, context] = blockTexts(message);
      const [heading, shown, todo] = main?.split('\n') ?? [];
      expect(heading).toBe(`${emoji} *Listing connections on prod*`);
      expect(shown).toBe(error.message);
      expect(todo).toContain(advice);
      expect(context).toBe('AWS request id: `req-1234` · error code: `Some.Code`');
      expect(message.text).toBe(`${emoji} ${error.message}`);
      expectSendable(message);
    });
  }

  it('leaves the request id out when AWS gave none', () => {
    const message = buildAwsErrorMessage(new ThrottledError('Slow down.'), 'prod');
    expect(message.blocks).toHaveLength(1);
    expect(allText(message)).not.toContain('request id');
  });

  it('escapes the message, the context and the request id', () => {
    const message = buildAwsErrorMessage(
      new AwsRequestError('<!channel> & <https://evil.example|click>', { requestId: '<@U1>' }),
      '<!here>',
    );
    const text = allText(message);
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(text).toContain('*&lt;!here&gt;*');
    expect(text).toContain('`&lt;@U1&gt;`');
    expectSendable(message);
  });

  it('shows a generic line for anything else, never a stack trace or its message', () => {
    const secret = new Error('connect ECONNREFUSED 10.1.2.3:5432 password=hunter2');
    for (const thrown of [secret, 'a string', undefined, null, { message: 'x' }, 42]) {
      const message = buildAwsErrorMessage(thrown, 'prod');
      expect(message.text).toBe(
        ':boom: Something went wrong looking that up; the error was logged.',
      );
      expect(allText(message)).not.toMatch(/hunter2|ECONNREFUSED|at .*\.ts|Error:/);
      expectSendable(message);
    }
  });

  it('shows a usage error as one, since its message is meant for the user', () => {
    const error = new UsageError('Unknown endpoint "qa". Known endpoints: prod, dev.');
    expect(buildAwsErrorMessage(error, 'prod')).toEqual(buildUsageErrorMessage(error));
  });

  it('keeps a huge AWS message within the limits', () => {
    expectSendable(buildAwsErrorMessage(new AwsRequestError('<'.repeat(10_000)), 'x'.repeat(5000)));
  });
});

describe('buildEndpointsMessage', () => {
  const endpoints: Endpoint[] = [
    {
      alias: 'prod',
      id: 'cvpn-endpoint-0123456789abcdef0',
      region: 'eu-west-1',
      description: 'Production <main> & *all*',
      authenticationTypes: ['directory-service-authentication', 'certificate-authentication'],
    },
    { alias: 'dev', id: 'cvpn-endpoint-0fedcba9876543210', region: 'us-east-1' },
  ];

  it('lists alias, id, region, auth types and description, escaped, and marks the default', () => {
    const message = buildEndpointsMessage(endpoints, 'prod');
    const texts = blockTexts(message);
    expect(texts[0]).toBe('2 Client VPN endpoints');
    expect(texts[1]).toBe(
      '*prod* (default) · `cvpn-endpoint-0123456789abcdef0` · eu-west-1 · ' +
        'auth: Active Directory, certificate · Production &lt;main&gt; &amp; \u200B*all\u200B*\n' +
        '*dev* · `cvpn-endpoint-0fedcba9876543210` · us-east-1',
    );
    expect(message.text).toBe('2 Client VPN endpoints: prod, dev');
    expectSendable(message);
  });

  it('says how to configure endpoints when there are none', () => {
    const message = buildEndpointsMessage([], 'prod');
    expect(message.text).toContain('No Client VPN endpoints are configured');
    expectSendable(message);
  });

  it('keeps hundreds of endpoints with long descriptions within the limits', () => {
    const many: Endpoint[] = Array.from({ length: 400 }, (_, i) => ({
      alias: `vpn-${i}`,
      id: `cvpn-endpoint-${i.toString(16).padStart(17, '0')}`,
      region: 'us-east-1',
      description: '<&>'.repeat(300),
    }));
    const message = buildEndpointsMessage(many, 'vpn-0');
    expect(allText(message)).toContain('*vpn-0* (default)');
    expectSendable(message);
  });
});

describe('buildWorkingMessage', () => {
  const ack = (text: string) => buildWorkingMessage(parseCommand(text, 'slack').query).text;

  it('phrases each kind of query as a sentence', () => {
    expect(ack('')).toBe(
      ':hourglass_flowing_sand: Looking up connections on the default endpoint…',
    );
    expect(ack('prod dev status=active')).toBe(
      ':hourglass_flowing_sand: Looking up connections on prod, dev (active)…',
    );
    expect(ack('all user=bob')).toBe(
      ':hourglass_flowing_sand: Looking up the connections of bob on every endpoint…',
    );
    expect(ack('conn=cvpn-connection-0123456789abcdef0')).toBe(
      ':hourglass_flowing_sand: Looking up connection `cvpn-connection-0123456789abcdef0` on the default endpoint…',
    );
    expect(ack('user bob')).toBe(
      ":hourglass_flowing_sand: Looking up bob's sessions on every endpoint…",
    );
    expect(ack('user me prod')).toBe(':hourglass_flowing_sand: Looking up your sessions on prod…');
    expect(ack('user <@U0ALICE1|alice>')).toBe(
      ":hourglass_flowing_sand: Looking up <@U0ALICE1>'s sessions on every endpoint…",
    );
    expect(ack('endpoints')).toBe(':hourglass_flowing_sand: Listing the Client VPN endpoints…');
    expect(ack('digest now')).toBe(':hourglass_flowing_sand: Preparing a preview of the digest…');
    expect(ack('audit')).toBe(':hourglass_flowing_sand: Reading the audit trail…');
  });

  it('escapes what the person typed', () => {
    const message = buildWorkingMessage(
      parseCommand('user="<!channel> *x*" prod', 'slack', { slackEscaped: false }).query,
    );
    expect(message.text).toBe(
      ':hourglass_flowing_sand: Looking up the connections of &lt;!channel&gt; \u200B*x\u200B* on prod…',
    );
    expect(blockTexts(message)).toEqual([message.text]);
    expectSendable(message);
  });

  it('stays within the limits for any query', () => {
    expectSendable(buildWorkingMessage(parseCommand(`user=${'t'.repeat(5000)}`, 'slack').query));
    expectSendable(buildWorkingMessage(parseCommand(`user ${'u'.repeat(5000)}`, 'slack').query));
  });
});
