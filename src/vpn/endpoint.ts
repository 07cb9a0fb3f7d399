/** A Client VPN endpoint the bot knows about, by alias. */
import { UsageError } from '../errors.js';

export type AuthenticationType =
  | 'certificate-authentication'
  | 'directory-service-authentication'
  | 'federated-authentication';

/** Where the bot learnt of an endpoint: error messages say where to fix it. */
export type EndpointOrigin =
  | { readonly kind: 'VPN_ENDPOINTS' }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'discovered' }
  | { readonly kind: 'typed' };

export interface Endpoint {
  /** Short name used in commands (`prod`); from `VPN_ENDPOINTS` or the `Name` tag. */
  readonly alias: string;
  /** `cvpn-endpoint-…` */
  readonly id: string;
  readonly region: string;
  readonly description?: string;
  /** Known after discovery; empty when configured by hand and not yet described. */
  readonly authenticationTypes?: readonly AuthenticationType[];
  /**
   * Hours after which AWS ends a session (`SessionTimeoutHours`: 8, 10, 12 or 24). Known after
   * DescribeClientVpnEndpoints; `null` when AWS did not say, absent when not described yet.
   */
  readonly sessionTimeoutHours?: number | null;
  /** IAM role assumed (STS) to read and act on this endpoint: another AWS account. */
  readonly roleArn?: string;
  /** Where it came from (absent: not known, e.g. built by hand). */
  readonly origin?: EndpointOrigin;
}

/**
 * What to check when AWS does not know an endpoint, by where it came from:
 * the setting that names it, discovery, or the id the person typed.
 */
export function whereToCheck(endpoint: Endpoint): string {
  switch (endpoint.origin?.kind) {
    case 'file':
      return `It is listed in ${endpoint.origin.file} (VPN_CONNS_CONFIG): check its id and region there.`;
    case 'discovered':
      return `It was discovered in ${endpoint.region} and may have been deleted since: list the current endpoints with \`endpoints\`.`;
    case 'typed':
      return `The id was typed in the command and is not one of the known endpoints: check it, and that the endpoint is in ${endpoint.region}.`;
    default:
      return 'Check its id and region in VPN_ENDPOINTS (alias=cvpn-endpoint-…@region).';
  }
}

export const ENDPOINT_ID = /^cvpn-endpoint-[0-9a-z]{1,32}$/i;
export const CONNECTION_ID = /^cvpn-connection-[0-9a-z]{1,32}$/i;

/** Which endpoints a query names: see `EndpointSelector` in `query.ts`. */
export type EndpointChoice =
  | { readonly kind: 'default' }
  | { readonly kind: 'all' }
  | { readonly kind: 'named'; readonly names: readonly string[] };

/**
 * Resolves the endpoint words of a query against the known endpoints (the
 * first is the default). An id that is not configured is still allowed: it
 * is read in the default region, and AWS says whether it exists.
 *
 * @throws UsageError naming an unknown alias and listing the known ones.
 */
export function resolveEndpoints(
  choice: EndpointChoice,
  catalogue: readonly Endpoint[],
  defaultRegion: string,
): Endpoint[] {
  if (catalogue.length === 0 && choice.kind !== 'named') {
    throw new UsageError(
      'No Client VPN endpoints are configured or could be found: set VPN_ENDPOINTS (alias=cvpn-endpoint-…).',
    );
  }
  if (choice.kind === 'all') return [...catalogue];
  if (choice.kind === 'default') return catalogue.slice(0, 1);
  return choice.names.map((name) => {
    const found = catalogue.find((e) => e.alias === name || e.id === name);
    if (found) return found;
    if (ENDPOINT_ID.test(name)) {
      return { alias: name, id: name, region: defaultRegion, origin: { kind: 'typed' } };
    }
    const known = catalogue.map((e) => e.alias).join(', ') || '(none)';
    throw new UsageError(`Unknown endpoint "${name}". Known endpoints: ${known}.`);
  });
}

/**
 * An alias from an endpoint's `Name` tag: lower case, spaces and other
 * characters as `-`. `undefined` when nothing usable is left.
 */
export function aliasFromName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 64);
  return slug === '' ? undefined : slug;
}
