import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { aliasFromName, type Endpoint, resolveEndpoints } from '../../src/vpn/endpoint.js';

const prod: Endpoint = {
  alias: 'prod',
  id: 'cvpn-endpoint-0000000000000000a',
  region: 'eu-west-1',
};
const dev: Endpoint = { alias: 'dev', id: 'cvpn-endpoint-0000000000000000b', region: 'us-east-1' };

describe('resolveEndpoints', () => {
  it('takes the first endpoint as the default and `all` as every one', () => {
    expect(resolveEndpoints({ kind: 'default' }, [prod, dev], 'eu-west-1')).toEqual([prod]);
    expect(resolveEndpoints({ kind: 'all' }, [prod, dev], 'eu-west-1')).toEqual([prod, dev]);
  });

  it('finds endpoints by alias or id', () => {
    expect(
      resolveEndpoints({ kind: 'named', names: ['dev', prod.id] }, [prod, dev], 'eu-west-1'),
    ).toEqual([dev, prod]);
  });

  it('reads an unconfigured endpoint id in the default region', () => {
    expect(
      resolveEndpoints(
        { kind: 'named', names: ['cvpn-endpoint-0000000000000000c'] },
        [prod],
        'eu-west-1',
      ),
    ).toEqual([
      {
        alias: 'cvpn-endpoint-0000000000000000c',
        id: 'cvpn-endpoint-0000000000000000c',
        region: 'eu-west-1',
        origin: { kind: 'typed' },
      },
    ]);
  });

  it('names an unknown alias and lists the known ones', () => {
    expect(() =>
      resolveEndpoints({ kind: 'named', names: ['lsit'] }, [prod, dev], 'eu-west-1'),
    ).toThrow(new UsageError('Unknown endpoint "lsit". Known endpoints: prod, dev.'));
  });

  it('says how to configure endpoints when there are none', () => {
    expect(() => resolveEndpoints({ kind: 'default' }, [], 'eu-west-1')).toThrow(/VPN_ENDPOINTS/);
  });
});

describe('aliasFromName', () => {
  it('slugs a Name tag into a command word', () => {
    expect(aliasFromName('Prod VPN (EU)')).toBe('prod-vpn-eu');
    expect(aliasFromName('  ')).toBeUndefined();
    expect(aliasFromName(undefined)).toBeUndefined();
  });
});
