import type { Query } from '../../vpn/query.js';

/** A few words for the "working on it" message: what is being looked up. */
export function describeTarget(query: Query): string {
  switch (query.kind) {
    case 'list':
      if (query.endpoints.kind === 'all') return 'every endpoint';
      if (query.endpoints.kind === 'named') return query.endpoints.names.join(', ');
      return 'the default endpoint';
    case 'user':
      return query.who.kind === 'me'
        ? 'your sessions'
        : query.who.kind === 'slack-user'
          ? `the sessions of Slack user ${query.who.userId}`
          : `the sessions of ${query.who.name}`;
    case 'endpoints':
      return 'the endpoints';
    case 'digest':
      return 'the digest';
    case 'audit':
      return 'the audit trail';
    case 'help':
      return 'help';
  }
}
