/**
 * Who a Slack user is on the VPN. Only IDs from signed payloads are trusted;
 * the VPN user name comes from an explicit mapping (`VPN_USER_MAP`) or from
 * the local part of the person's Slack profile email (`users.info`).
 */
import type { webApi } from '@slack/bolt';
import { createSharedCache } from '../cache.js';
import { UsageError } from '../errors.js';

export interface IdentityResolver {
  /** The VPN user name of a Slack user. @throws UsageError when it cannot be found. */
  vpnUsername(userId: string): Promise<string>;
}

/**
 * Builds the resolver. Answers are cached for `ttlMs` (default 10 minutes):
 * `users.info` is rate limited and emails rarely change.
 */
export function createIdentityResolver(options: {
  client: webApi.WebClient;
  userMap: ReadonlyMap<string, string>;
  ttlMs?: number;
  now?: () => number;
}): IdentityResolver {
  // A failed lookup is not kept: the next question asks Slack again.
  const cache = createSharedCache<string>({
    ttlMs: options.ttlMs ?? 10 * 60_000,
    max: 1000,
    ...(options.now ? { now: options.now } : {}),
  });

  const lookup = async (userId: string): Promise<string> => {
    let user: webApi.UsersInfoResponse['user'];
    try {
      ({ user } = await options.client.users.info({ user: userId }));
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      throw new UsageError(
        code === 'user_not_found'
          ? `I can't find Slack user ${userId} in this workspace.`
          : `I couldn't read Slack user ${userId}'s profile (${code ?? 'Slack unavailable'}). Try a VPN user name instead.`,
        { cause: error },
      );
    }
    if (!user || user.deleted)
      throw new UsageError(`Slack user ${userId} is deactivated in Slack.`);
    if (user.is_bot) throw new UsageError(`Slack user ${userId} is a bot, not a VPN user.`);
    const email = user.profile?.email;
    const local = email?.split('@', 1)[0];
    if (!local) {
      throw new UsageError(
        `Slack user ${userId}'s profile shows no email, so I can't tell their VPN user name. ` +
          'Look them up by name, or ask an admin to add them to VPN_USER_MAP.',
      );
    }
    return local;
  };

  return {
    vpnUsername(userId) {
      const mapped = options.userMap.get(userId);
      if (mapped !== undefined) return Promise.resolve(mapped);
      return cache.get(userId, () => lookup(userId));
    },
  };
}
