/**
 * The App Home tab: published for a person when they open it
 * (`app_home_opened`, Home tab only) and again on its Refresh button, with
 * `views.publish`. The global access middleware lets these through; the
 * check is here, because a refusal is a view, not a message: someone not
 * allowed by `VPN_CONNS_ALLOWED` gets a short "not allowed" Home and no AWS
 * or history read is made. Home has no channel, so only people and user
 * groups in the allow-list count (an allowed channel does not).
 */
import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
  webApi,
} from '@slack/bolt';
import type { Logger } from '../../../logger.js';
import { gatherHomeInput, type HomeSources } from '../../../services/home.js';
import type { AccessChecker } from '../../access.js';
import {
  buildHomeDeniedView,
  buildHomeUnavailableView,
  buildHomeView,
  type HomeView,
} from '../../blocks/home.js';
import { clockOf } from '../../request-timing.js';

export interface AppHomeDeps extends HomeSources {
  /** Absent = everyone may use the bot. */
  readonly access?: AccessChecker;
}

/** The view this person may see, read now. Never throws. */
async function viewFor(userId: string, deps: AppHomeDeps, logger: Logger): Promise<HomeView> {
  let allowed = true;
  try {
    allowed = deps.access ? await deps.access.canUse(userId, null) : true;
  } catch (error) {
    logger.error('access check failed; showing the not-allowed Home', error);
    allowed = false;
  }
  if (!allowed) return buildHomeDeniedView();
  try {
    return buildHomeView(await gatherHomeInput(deps), deps.now());
  } catch (error) {
    logger.warn('App Home: could not read the endpoints', error);
    return buildHomeUnavailableView(deps.now());
  }
}

async function publish(client: webApi.WebClient, userId: string, deps: AppHomeDeps) {
  const view = await viewFor(userId, deps, deps.logger);
  await client.views.publish({ user_id: userId, view });
}

/** The `app_home_opened` listener: the Home tab only (not Messages or About). */
export function createAppHomeOpened(deps: AppHomeDeps) {
  return async ({
    event,
    client,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await publish(client, event.user, deps);
  };
}

/** The Home tab's Refresh button: acked at once, then the tab is published again. */
export function createHomeRefreshAction(deps: AppHomeDeps) {
  return async ({
    ack,
    body,
    client,
    context,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    const clock = clockOf(context);
    await ack();
    clock.acked();
    await publish(client, body.user.id, deps);
    clock.answered();
  };
}
