import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertRulesSchema,
  checkAlertRules,
  DEFAULT_MAX_CONNECTIONS,
  describeCondition,
  maxConnectionsSchema,
} from '../../src/alerts/rules.js';

/** The issues of an `alerts:` list, as the config loader prints them: `[1].field: message`. */
function problems(yaml: string): string[] {
  const parsed = alertRulesSchema.safeParse(parse(yaml));
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const path =
      issue.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys] : [...issue.path];
    const field = path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
      .join('');
    return `${field}: ${issue.message}`;
  });
}

const ISSUE_EXAMPLE = `
- name: shared-credentials
  channel: C0123456789
  maxSessionsPerUser: 3
- name: long-sessions
  channel: C0123456789
  endpoints: [prod]
  maxSessionHours: 20
`;

describe('alertRulesSchema', () => {
  it("reads the issue's example file into rules with one condition each", () => {
    expect(alertRulesSchema.parse(parse(ISSUE_EXAMPLE))).toEqual([
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
    ]);
  });

  it('reads every condition', () => {
    const rules = alertRulesSchema.parse(
      parse(`
- { name: a, channel: G0123456789, postureNonCompliant: true }
- { name: b, channel: C0123456789, failedToTerminate: true }
- { name: c, channel: C0123456789, endpointUsagePercent: 90, endpoints: [Prod, dev] }
- { name: d, channel: C0123456789, idleHours: 4.5 }
- { name: e, channel: C0123456789, newUser: true, endpoints: all }
`),
    );
    expect(rules.map((r) => r.condition)).toEqual([
      { kind: 'postureNonCompliant' },
      { kind: 'failedToTerminate' },
      { kind: 'endpointUsagePercent', percent: 90 },
      { kind: 'idleHours', hours: 4.5 },
      { kind: 'newUser' },
    ]);
    expect(rules[2]?.endpoints).toEqual(['prod', 'dev']);
  });

  it('names the entry when a rule has no condition, and the conditions when it has two', () => {
    expect(problems('- { name: quiet, channel: C0123456789 }')).toEqual([
      expect.stringMatching(
        /^\[0\]: rule "quiet" has no condition: give one of maxSessionsPerUser, .*newUser$/,
      ),
    ]);
    expect(
      problems(`
- { name: ok, channel: C0123456789, newUser: true }
- { name: greedy, channel: C0123456789, idleHours: 2, maxSessionHours: 8 }
`),
    ).toEqual([
      '[1]: rule "greedy" has 2 conditions (maxSessionHours, idleHours): keep one, or make one rule each',
    ]);
  });

  it('names the field at fault with a message a person can act on', () => {
    expect(
      problems(`
- { name: a, channel: '#security', newUser: true }
- { name: b, channel: C0123456789, maxSessionsPerUser: 2.5 }
- { name: c, channel: C0123456789, maxSessionHours: 0 }
- { name: d, channel: C0123456789, postureNonCompliant: false }
- { name: e, channel: C0123456789, endpointUsagePercent: 120 }
- { name: f g, channel: C0123456789, newUser: true }
- { name: h, channel: C0123456789, endpoints: [], newUser: true }
- { name: i, channel: C0123456789, newUser: true, maxSesionHours: 3 }
- { channel: C0123456789, newUser: true }
`),
    ).toEqual([
      '[0].channel: is not a channel ID such as C0123456789 (channel details → bottom of the About tab)',
      '[1].maxSessionsPerUser: must be a whole number such as 3',
      '[2].maxSessionHours: must be more than 0 hours',
      '[3].postureNonCompliant: must be true (or leave the condition out)',
      '[4].endpointUsagePercent: must be at most 100',
      '[5].name: must be letters, digits, "_" or "-" (at most 64)',
      '[6].endpoints: lists no endpoint (use "all" or leave it out)',
      '[7].maxSesionHours: is not a field of an alert rule (did you mean maxSessionHours?)',
      '[8].name: is required (a short name such as shared-credentials)',
    ]);
  });

  it('refuses a list that is not a list', () => {
    expect(problems('shared-credentials: 3')).toEqual([
      ': must be a list of rules (each "- name: …")',
    ]);
  });
});

describe('checkAlertRules', () => {
  const rules = alertRulesSchema.parse(
    parse(`
- { name: a, channel: C0123456789, endpoints: [prod, nope], newUser: true }
- { name: a, channel: C0123456789, newUser: true }
`),
  );

  it('names a rule defined twice and an endpoint nobody has', () => {
    expect(checkAlertRules(rules, new Set(['prod', 'dev']))).toEqual([
      'alert rule "a": unknown endpoint nope (known: prod, dev)',
      'alert rule "a" is defined twice',
    ]);
  });

  it('leaves the endpoints alone while they are not known yet (discovery)', () => {
    expect(checkAlertRules(rules, null)).toEqual(['alert rule "a" is defined twice']);
  });
});

describe('maxConnectionsSchema', () => {
  it('takes a positive whole number (absent means the default of 2,000)', () => {
    expect(DEFAULT_MAX_CONNECTIONS).toBe(2000);
    expect(maxConnectionsSchema.parse(500)).toBe(500);
    expect(maxConnectionsSchema.safeParse(0).error?.issues[0]?.message).toBe('must be at least 1');
    expect(maxConnectionsSchema.safeParse('lots').success).toBe(false);
  });
});

describe('describeCondition', () => {
  it('says each condition in words', () => {
    expect(describeCondition({ kind: 'maxSessionsPerUser', sessions: 1 })).toBe(
      'a person with more than 1 active session',
    );
    expect(describeCondition({ kind: 'endpointUsagePercent', percent: 87.5 })).toBe(
      'an endpoint at 87.5 % or more of its connection limit',
    );
  });
});
