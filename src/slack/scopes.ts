/**
 * The bot scopes each Web API method we call needs. The manifest test checks
 * that the scopes the code uses are exactly the scopes the manifests declare.
 */
export const METHOD_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'conversations.open': ['im:write'],
  filesUploadV2: ['files:write'],
  'users.info': ['users:read', 'users:read.email'],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  // The digest looks for a post interrupted before its commit (public and private channels).
  'conversations.history': ['channels:history', 'groups:history'],
  'usergroups.users.list': ['usergroups:read'],
  // The App Home tab: publishing a view needs no scope (the app_home_opened event needs none either).
  'views.publish': [],
};

/** Needed by any app with a slash command. */
export const BASE_SCOPES: readonly string[] = ['commands'];
