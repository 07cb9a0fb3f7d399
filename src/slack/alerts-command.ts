/**
 * `/vpn-conns alerts`: the alert rules of the YAML file and, per rule, what fires now (from the
 * store, so a `web` process answers for the worker that checks the rules).
 */
import type { AlertWatch } from '../jobs/alerts.js';
import { buildAlertsListMessage } from './blocks/alert.js';
import type { SlackMessage } from './blocks/limits.js';

/** The answer to `alerts`, for `AnswerDeps.alerts`. */
export function createAlertsAnswer(deps: {
  readonly watch: Pick<AlertWatch, 'rules' | 'firing'>;
  readonly now: () => Date;
}): () => Promise<SlackMessage> {
  return async () =>
    buildAlertsListMessage({
      rules: deps.watch.rules,
      firing: await deps.watch.firing(),
      now: deps.now(),
    });
}
