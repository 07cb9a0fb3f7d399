/**
 * Alert rules: the `alerts:` entries of the YAML file (`VPN_CONNS_CONFIG`), checked with zod.
 *
 * Each rule has a name, a channel, the endpoints it watches (default all) and exactly one
 * condition. The schema's issues carry the path of the field at fault, so the config loader's
 * `file:line: alerts[1].maxSessionHours: …` reporting works unchanged once `alerts` is added to
 * its file schema; problems that span entries (a name used twice, an unknown endpoint) come from
 * {@link checkAlertRules}.
 */
import { z } from 'zod';
import { channelIdSchema } from '../slack/channel-id.js';

/** The conditions a rule can watch, in the order they are documented. */
export const CONDITION_KINDS = [
  'maxSessionsPerUser',
  'maxSessionHours',
  'postureNonCompliant',
  'failedToTerminate',
  'endpointUsagePercent',
  'idleHours',
  'newUser',
] as const;

export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** One rule's condition; the number is the threshold the YAML gave. */
export type AlertCondition =
  | { readonly kind: 'maxSessionsPerUser'; readonly sessions: number }
  | { readonly kind: 'maxSessionHours'; readonly hours: number }
  | { readonly kind: 'postureNonCompliant' }
  | { readonly kind: 'failedToTerminate' }
  | { readonly kind: 'endpointUsagePercent'; readonly percent: number }
  | { readonly kind: 'idleHours'; readonly hours: number }
  | { readonly kind: 'newUser' };

/** What an alert is about: one session, one person (user name or certificate name), one endpoint. */
export type SubjectKind = 'session' | 'person' | 'endpoint';

/** The subject each condition is about. */
export const SUBJECT_OF: Readonly<Record<ConditionKind, SubjectKind>> = {
  maxSessionsPerUser: 'person',
  maxSessionHours: 'session',
  postureNonCompliant: 'session',
  failedToTerminate: 'session',
  endpointUsagePercent: 'endpoint',
  idleHours: 'endpoint',
  newUser: 'person',
};

/** A checked alert rule. */
export interface AlertRule {
  /** Identifies the rule in the store: renaming it starts its alerts afresh. */
  readonly name: string;
  /** Channel ID (`C…`/`G…`) the alerts are posted to. */
  readonly channel: string;
  /** Endpoint aliases (lower case), or every endpoint. */
  readonly endpoints: 'all' | readonly string[];
  readonly condition: AlertCondition;
}

/** An endpoint's connection limit when the YAML does not give `maxConnections`. */
export const DEFAULT_MAX_CONNECTIONS = 2000;

/**
 * The `maxConnections` field of a YAML endpoint (for `endpointUsagePercent`): add it to the
 * endpoint schema as `maxConnections: maxConnectionsSchema.optional()`; absent means
 * {@link DEFAULT_MAX_CONNECTIONS}.
 */
export const maxConnectionsSchema = z
  .number({ error: 'must be a whole number of connections such as 2000' })
  .int({ error: 'must be a whole number of connections such as 2000' })
  .min(1, { error: 'must be at least 1' })
  .max(1_000_000, { error: 'must be at most 1000000' });

const positiveInteger = (example: string, max: number) =>
  z
    .number({ error: `must be a whole number such as ${example}` })
    .int({ error: `must be a whole number such as ${example}` })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` });

const hours = (example: string) =>
  z
    .number({ error: `must be a number of hours such as ${example}` })
    .positive({ error: 'must be more than 0 hours' })
    .max(24 * 365, { error: 'must be at most 8760 hours (a year)' });

const onlyTrue = z.literal(true, { error: 'must be true (or leave the condition out)' });

/** The condition fields of an entry, each optional here; exactly one must be present. */
const conditionFields = {
  maxSessionsPerUser: positiveInteger('3', 10_000).optional(),
  maxSessionHours: hours('20').optional(),
  postureNonCompliant: onlyTrue.optional(),
  failedToTerminate: onlyTrue.optional(),
  endpointUsagePercent: z
    .number({ error: 'must be a percentage such as 90' })
    .positive({ error: 'must be more than 0' })
    .max(100, { error: 'must be at most 100' })
    .optional(),
  idleHours: hours('4').optional(),
  newUser: onlyTrue.optional(),
} satisfies Record<ConditionKind, z.ZodType>;

const CONDITION_LIST = CONDITION_KINDS.map((k) => k).join(', ');

/**
 * One `alerts:` entry. Issues point at the field at fault (`[1].idleHours`), or at the entry
 * itself when it has no condition or several, naming the rule.
 */
export const alertRuleSchema = z
  .strictObject(
    {
      name: z
        .string({ error: 'is required (a short name such as shared-credentials)' })
        .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, {
          error: 'must be letters, digits, "_" or "-" (at most 64)',
        }),
      channel: channelIdSchema,
      endpoints: z
        .union(
          [
            z.literal('all'),
            z
              .array(z.string({ error: 'must be an endpoint alias' }).trim().toLowerCase())
              .min(1, { error: 'lists no endpoint (use "all" or leave it out)' }),
          ],
          { error: 'must be "all" or a list of endpoint aliases such as [prod]' },
        )
        .default('all'),
      ...conditionFields,
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? unknownFieldMessage(issue.keys) : undefined,
    },
  )
  .transform((entry, ctx): AlertRule => {
    // An unknown field is often a misspelt condition: say that, not also "no condition".
    if (ctx.issues.length > 0) return z.NEVER;
    const given = CONDITION_KINDS.filter((kind) => entry[kind] !== undefined);
    const rule = `rule "${entry.name}"`;
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `${rule} has no condition: give one of ${CONDITION_LIST}`
            : `${rule} has ${given.length} conditions (${given.join(', ')}): keep one, or make one rule each`,
      });
      return z.NEVER;
    }
    return {
      name: entry.name,
      channel: entry.channel,
      endpoints: entry.endpoints,
      condition: conditionOf(given[0] as ConditionKind, entry),
    };
  });

/** The fields an alert rule may have. */
const RULE_FIELDS = ['name', 'channel', 'endpoints', ...CONDITION_KINDS] as const;

/** Levenshtein distance, case-insensitive: how far a typo is from a field name. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/** `is not a field of an alert rule (did you mean newUser?)`; the loader names the field. */
function unknownFieldMessage(keys: readonly string[]): string {
  const key = keys[0] ?? '';
  const best = [...RULE_FIELDS].sort((a, b) => distance(key, a) - distance(key, b))[0];
  const hint =
    best !== undefined && distance(key, best) <= Math.max(2, Math.floor(best.length / 4))
      ? ` (did you mean ${best}?)`
      : ` (fields: ${RULE_FIELDS.join(', ')})`;
  const what = keys.length === 1 ? 'is not a field' : `${keys.join(', ')} are not fields`;
  return `${what} of an alert rule${hint}`;
}

/** The `alerts:` list of the YAML file. */
export const alertRulesSchema = z.array(alertRuleSchema, {
  error: 'must be a list of rules (each "- name: …")',
});

type Entry = { [K in ConditionKind]?: number | true | undefined };

function conditionOf(kind: ConditionKind, entry: Entry): AlertCondition {
  const n = Number(entry[kind]);
  switch (kind) {
    case 'maxSessionsPerUser':
      return { kind, sessions: n };
    case 'maxSessionHours':
    case 'idleHours':
      return { kind, hours: n };
    case 'endpointUsagePercent':
      return { kind, percent: n };
    case 'postureNonCompliant':
    case 'failedToTerminate':
    case 'newUser':
      return { kind };
  }
}

/**
 * Problems across the checked rules, one line each, for the config loader to add to its list:
 * a rule name used twice, an endpoint alias no endpoint has (only when the endpoints are
 * known; discovered endpoints are checked when they are found).
 */
export function checkAlertRules(
  rules: readonly AlertRule[],
  knownAliases: ReadonlySet<string> | null,
): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) problems.push(`alert rule "${rule.name}" is defined twice`);
    names.add(rule.name);
    if (knownAliases === null || rule.endpoints === 'all') continue;
    const unknown = rule.endpoints.filter((alias) => !knownAliases.has(alias));
    if (unknown.length > 0) {
      problems.push(
        `alert rule "${rule.name}": unknown endpoint ${unknown.join(', ')} (known: ${[...knownAliases].join(', ')})`,
      );
    }
  }
  return problems;
}

/** Whether a rule watches the endpoint with this alias. */
export function watches(rule: AlertRule, alias: string): boolean {
  return rule.endpoints === 'all' || rule.endpoints.includes(alias);
}

const formatNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** The condition in words, for messages and the rule list: `more than 3 active sessions per person`. */
export function describeCondition(condition: AlertCondition): string {
  switch (condition.kind) {
    case 'maxSessionsPerUser':
      return `a person with more than ${formatNumber.format(condition.sessions)} active ${condition.sessions === 1 ? 'session' : 'sessions'}`;
    case 'maxSessionHours':
      return `a session active for more than ${formatNumber.format(condition.hours)} ${condition.hours === 1 ? 'hour' : 'hours'}`;
    case 'postureNonCompliant':
      return 'a session whose device is not posture compliant';
    case 'failedToTerminate':
      return 'a session AWS failed to terminate';
    case 'endpointUsagePercent':
      return `an endpoint at ${formatNumber.format(condition.percent)} % or more of its connection limit`;
    case 'idleHours':
      return `an endpoint with no active session for ${formatNumber.format(condition.hours)} ${condition.hours === 1 ? 'hour' : 'hours'}`;
    case 'newUser':
      return 'a person not seen before';
  }
}
