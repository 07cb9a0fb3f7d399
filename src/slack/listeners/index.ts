/** Registers every listener on the app; one file per listener under `commands/` and `actions/`. */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { AnswerDeps } from '../answer.js';
import { ACTION_EXPORT_CSV, ACTION_PAGE_NEXT, ACTION_PAGE_PREV } from '../blocks/ids.js';
import { createIdentityResolver, type IdentityResolver } from '../identity.js';
import { createExportCsvAction } from './actions/export-csv.js';
import { createPagingAction } from './actions/paging.js';
import { COMMAND, createVpnConnsCommand } from './commands/vpn-conns.js';

export function registerListeners(
  app: App,
  deps: Omit<AnswerDeps, 'identity'> & {
    identity?: IdentityResolver;
    userMap?: ReadonlyMap<string, string>;
  },
): void {
  const answerDeps: AnswerDeps = {
    ...deps,
    identity:
      deps.identity ??
      createIdentityResolver({ client: app.client, userMap: deps.userMap ?? new Map() }),
  };
  app.command(COMMAND, createVpnConnsCommand(answerDeps));
  const paging = createPagingAction(answerDeps);
  app.action<BlockButtonAction>(ACTION_PAGE_PREV, paging);
  app.action<BlockButtonAction>(ACTION_PAGE_NEXT, paging);
  app.action<BlockButtonAction>(ACTION_EXPORT_CSV, createExportCsvAction(answerDeps));
}
