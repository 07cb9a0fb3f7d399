import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads endpoints in order, the first being the default, with per-endpoint regions', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      VPN_ENDPOINTS:
        'prod=cvpn-endpoint-0123456789abcdef0, US=cvpn-endpoint-0123456789abcdef1@us-east-1',
    });
    expect(config.aws.endpoints).toEqual([
      { alias: 'prod', id: 'cvpn-endpoint-0123456789abcdef0', region: 'eu-west-1' },
      { alias: 'us', id: 'cvpn-endpoint-0123456789abcdef1', region: 'us-east-1' },
    ]);
  });

  it('discovers endpoints when VPN_ENDPOINTS is unset, and applies defaults', () => {
    const config = loadConfig({ AWS_REGION: 'eu-west-1' });
    expect(config).toEqual({
      aws: {
        region: 'eu-west-1',
        endpoints: null,
        requestTimeoutMs: 10_000,
        maxAttempts: 3,
        concurrency: 4,
      },
      logLevel: 'info',
    });
  });

  it('falls back to AWS_DEFAULT_REGION and treats empty values as unset', () => {
    const config = loadConfig({
      AWS_REGION: '',
      AWS_DEFAULT_REGION: 'us-west-2',
      VPN_ENDPOINTS: '',
    });
    expect(config.aws.region).toBe('us-west-2');
    expect(config.aws.endpoints).toBeNull();
  });

  it('names the missing region', () => {
    expect(problems({})).toEqual([
      'AWS_REGION: is required (the AWS region of your endpoints, e.g. eu-west-1)',
    ]);
  });

  it('reports one line per problem, each naming its variable', () => {
    expect(
      problems({
        AWS_REGION: 'Europe',
        VPN_ENDPOINTS:
          'prod=cvpn-endpoint-0123456789abcdef0,prod=cvpn-endpoint-0123456789abcdef1,all=cvpn-endpoint-0123456789abcdef2,dev=vpn-1,x=cvpn-endpoint-0123456789abcdef3@mars,junk',
        AWS_REQUEST_TIMEOUT_SECONDS: '0',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'AWS_REGION: is not an AWS region such as eu-west-1',
      'VPN_ENDPOINTS: alias "prod" appears twice',
      'VPN_ENDPOINTS: alias "all" must be letters, digits, ".", "_" or "-" and not one of list, user, endpoints, help, digest, all, public, me, now',
      'VPN_ENDPOINTS: "vpn-1" (for dev) is not a cvpn-endpoint-… id',
      'VPN_ENDPOINTS: region "mars" (for x) is not an AWS region such as eu-west-1',
      'VPN_ENDPOINTS: "junk" should look like alias=cvpn-endpoint-0123456789abcdef0 (optionally @region)',
      'AWS_REQUEST_TIMEOUT_SECONDS: "0" is not a whole number from 1 to 120 (seconds)',
      'LOG_LEVEL: must be debug, info, warn or error',
    ]);
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ AWS_REGION: 'x' })).toThrow(
      /Invalid configuration:\n {2}- AWS_REGION/,
    );
  });
});
