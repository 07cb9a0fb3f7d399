/**
 * `/vpn-conns alerts`: the rules of the YAML file and what each fires for now, read from the
 * store the rules' check writes (a real SQLite file), answered by the real Bolt app.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertWatch } from '../../src/jobs/alerts.js';
import { createLogger } from '../../src/logger.js';
import { createSlackAlertPoster } from '../../src/slack/alert-poster.js';
import { createAlertsAnswer } from '../../src/slack/alerts-command.js';
import { openStore, type StateStore } from '../../src/store/index.js';
import { testRule } from '../support/alert-rules.js';
import { type BotHarness, startBotHarness } from '../support/bot-harness.js';
import { blockText } from '../support/slack-message.js';

const RULES = [testRule('shared-credentials'), testRule('long-sessions')];

describe('/vpn-conns alerts', () => {
  let bot: BotHarness;
  let store: StateStore;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpn-conns-alerts-'));
    store = await openStore(`sqlite:${join(dir, 'state.db')}`);
    const logger = createLogger('error', () => {});
    const watch = createAlertWatch({
      rules: RULES,
      store,
      // Never called: listing reads the store only.
      poster: createSlackAlertPoster({
        token: 'xoxb-unused',
        apiUrl: 'http://127.0.0.1:9/',
        logger,
      }),
      logger,
      now: () => new Date(),
    });
    for (const [key, name] of [
      ['shared-credentials/person/alice', 'alice'],
      ['shared-credentials/person/<!channel>', '<!channel>'],
    ] as const) {
      await store.recordFiringAlert({
        key,
        ruleName: 'shared-credentials',
        subjectKind: 'person',
        subjectName: name,
        channel: 'C0ALERTS1',
        firedAt: new Date('2026-12-01T09:00:00Z'),
        postId: key,
        ts: '1.000100',
      });
    }
    bot = await startBotHarness({
      fleet: {
        endpoints: [{ id: 'cvpn-endpoint-0123456789abcdef0', name: 'prod' }],
        connections: [],
      },
      alerts: createAlertsAnswer({ watch, now: () => new Date('2026-12-01T10:00:00Z') }),
    });
  });
  afterAll(async () => {
    await bot.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists each rule with its channel, condition and endpoints, and who it fires for now', async () => {
    const sent = await bot.command('alerts');
    const answer = (await bot.waitForAnswer(sent.responseUrlId)).body;
    expect(answer.response_type).toBe('ephemeral');
    const text = blockText(answer);
    expect(text).toContain('2 rules · 2 alerts firing now');
    expect(text).toContain(
      '*shared-credentials* → <#C0ALERTS1> · a person with more than 3 active sessions · every endpoint',
    );
    expect(text).toContain(':rotating_light: Firing for ');
    expect(text).toContain('*alice* since');
    // A hostile subject is shown literally, never as a mention.
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain(
      '*long-sessions* → <#C0ALERTS1> · a session active for more than 20 hours · prod',
    );
    expect(text).toContain('Quiet now.');
  });

  it('takes no arguments', async () => {
    const sent = await bot.command('alerts now');
    // A usage error is answered in the acknowledgement itself.
    expect(sent.body).toContain("`alerts` takes no arguments; I don't understand");
  });
});
