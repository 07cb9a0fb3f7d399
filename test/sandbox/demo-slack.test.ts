/**
 * `npm run demo -- --slack`: the bot in Socket Mode against a Slack workspace (here the stand-in's
 * Socket Mode, reached through SLACK_API_URL as through an egress proxy), AWS still emulated.
 */
import { afterEach, expect, it } from 'vitest';
import { type Demo, startDemo } from '../../src/sandbox/demo.js';
import { type SlackStandIn, startSlackStandIn } from '../../src/sandbox/slack-stand-in.js';

let slack: SlackStandIn | undefined;
let demo: Demo | undefined;

afterEach(async () => {
  await demo?.close();
  await slack?.close();
});

it('connects the bot in Socket Mode and answers from the emulated fleet', async () => {
  slack = await startSlackStandIn({ botToken: 'xoxb-real', appToken: 'xapp-real' });
  demo = await startDemo({
    port: 0,
    connections: 30,
    churnMs: 0,
    slack: { botToken: 'xoxb-real', appToken: 'xapp-real' },
    slackSettings: { SLACK_API_URL: slack.url },
  });
  expect(demo.url).toBeUndefined();
  expect(demo.workbench).toBeUndefined();
  await slack.socket.waitForConnection(10_000);

  const responseUrl = slack.newResponseUrl();
  await slack.socket.send('slash_commands', {
    command: '/vpn-conns',
    text: 'user bob',
    user_id: 'U0ANYONE',
    team_id: 'T0TEST',
    channel_id: 'C0OPS',
    response_url: responseUrl,
    trigger_id: '1.2.3',
  });
  const answer = await slack.waitFor(
    () =>
      slack?.responseUrlPosts.find(
        (p) => responseUrl.endsWith(p.id) && JSON.stringify(p.body).includes('3 connections'),
      ),
    10_000,
  );
  expect(JSON.stringify(answer.body)).toContain('bob on every endpoint');
  expect(demo.emulator.requests.every((r) => r.accessKeyId === 'AKIAVPNCONNSDEMO0000')).toBe(true);
});
