/**
 * Who may use the bot and who may act (terminate, read the audit trail).
 * Decided on Slack IDs from signed payloads only — never names, which anyone
 * can change. User-group membership comes from `usergroups.users.list`,
 * cached; on plans without user groups the bot falls back to the IDs listed
 * in config and says so once in the log.
 */
import type { webApi } from '@slack/bolt';
import { createSharedCache } from '../cache.js';
import type { AccessConfig, IdList } from '../config.js';
import type { Logger } from '../logger.js';

export interface AccessChecker {
  /** May this person, in this channel, use the bot at all? */
  canUse(userId: string, channelId: string | null): Promise<boolean>;
  /** May this person terminate sessions and read the audit trail? */
  isAdmin(userId: string): Promise<boolean>;
}

export const ACCESS_DENIED_MESSAGE =
  ':no_entry: You are not allowed to use /vpn-conns here. Ask a workspace admin to add you (or this channel) to VPN_CONNS_ALLOWED.';
export const ADMIN_ONLY_MESSAGE =
  ':no_entry: Only vpn-conns admins can do that. Ask a workspace admin to add you to VPN_CONNS_ADMINS.';

/** Errors that mean "this workspace cannot list user groups": fall back to plain IDs. */
const GROUPS_UNAVAILABLE = new Set([
  'plan_upgrade_required',
  'missing_scope',
  'not_allowed_token_type',
]);

export interface AccessCheckerOptions {
  readonly access: AccessConfig;
  readonly client: webApi.WebClient;
  readonly logger: Logger;
  /** How long a group's member list is reused. Default 5 minutes. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * The members of a user group, or the error code that says this workspace has no user groups.
 * @throws any other failure: the caller fails closed and does not remember it.
 */
async function readMembers(
  client: webApi.WebClient,
  group: string,
): Promise<
  { users: ReadonlySet<string>; unavailable?: never } | { users?: never; unavailable: string }
> {
  try {
    const result = await client.usergroups.users.list({ usergroup: group });
    return { users: new Set(result.users ?? []) };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code !== undefined && GROUPS_UNAVAILABLE.has(code)) return { unavailable: code };
    throw error;
  }
}

/** The cache key saying "user groups are unavailable here" (no group ID starts with `*`). */
const UNAVAILABLE = '*unavailable';

/** Builds the checker; nothing is fetched until a group rule is needed. */
export function createAccessChecker(options: AccessCheckerOptions): AccessChecker {
  const { access, client, logger } = options;
  // Member lists by group ID; under UNAVAILABLE, the news that this workspace has no user
  // groups (a plan without them), remembered for the same TTL and then asked again.
  const members = createSharedCache<ReadonlySet<string>>({
    ttlMs: options.ttlMs ?? 5 * 60_000,
    ...(options.now ? { now: options.now } : {}),
  });
  let warned = false;

  const fetchMembers = async (group: string): Promise<ReadonlySet<string>> => {
    const read = await readMembers(client, group);
    if (read.users) return read.users;
    if (!warned) {
      logger.warn(
        `access: Slack refused usergroups.users.list (${read.unavailable}); user-group IDs in VPN_CONNS_ALLOWED/VPN_CONNS_ADMINS are ignored, only user and channel IDs count`,
      );
      warned = true;
    }
    members.set(UNAVAILABLE, new Set());
    return new Set();
  };

  const inGroup = async (group: string, userId: string): Promise<boolean> => {
    if (members.peek(UNAVAILABLE) !== undefined) return false;
    try {
      return (await members.get(group, () => fetchMembers(group))).has(userId);
    } catch (error) {
      logger.warn(
        `access: could not read the members of ${group}; treating ${userId} as not a member`,
        error,
      );
      return false;
    }
  };

  const listed = async (list: IdList, userId: string): Promise<boolean> => {
    if (list.users.includes(userId)) return true;
    for (const group of list.groups) {
      if (await inGroup(group, userId)) return true;
    }
    return false;
  };

  return {
    async canUse(userId, channelId) {
      const { allowed } = access;
      if (allowed === '*') return true;
      if (channelId !== null && allowed.channels.includes(channelId)) return true;
      // Admins may always use the bot.
      return (await listed(allowed, userId)) || (await listed(access.admins, userId));
    },
    isAdmin(userId) {
      return listed(access.admins, userId);
    },
  };
}
