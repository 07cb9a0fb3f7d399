import { describe, expect, it } from 'vitest';
import {
  displayName,
  normalizeConnection,
  parseAwsTime,
  type RawConnection,
} from '../../src/vpn/connection.js';

// Every time in these tests must read as UTC even though the process runs in Los Angeles.
process.env.TZ = 'America/Los_Angeles';

const wellFormed: RawConnection = {
  ClientVpnEndpointId: 'cvpn-endpoint-0123456789abcdef0',
  Timestamp: '2019-08-12 08:02:54',
  ConnectionId: 'cvpn-connection-0aa11bb22cc33dd44',
  Username: 'alice',
  ConnectionEstablishedTime: '2019-08-12 07:58:34',
  IngressBytes: '2951',
  EgressBytes: '5000000000',
  IngressPackets: '9',
  EgressPackets: '6',
  ClientIp: '172.31.0.226',
  CommonName: 'alice',
  Status: { Code: 'active' },
  ConnectionEndTime: '-',
  PostureComplianceStatuses: ['compliant'],
};

describe('parseAwsTime', () => {
  it('runs under a non-UTC time zone, so the UTC checks below mean something', () => {
    expect(new Date(2019, 7, 12).getTimezoneOffset()).not.toBe(0);
  });

  it('reads a zone-less EC2 time as UTC whatever TZ is', () => {
    expect(parseAwsTime('2019-08-12 07:58:34')?.toISOString()).toBe('2019-08-12T07:58:34.000Z');
  });

  it('returns null for the active marker, empty text and garbage', () => {
    expect(parseAwsTime('-')).toBeNull();
    expect(parseAwsTime('')).toBeNull();
    expect(parseAwsTime(undefined)).toBeNull();
    expect(parseAwsTime('yesterday')).toBeNull();
  });

  it('rejects impossible calendar dates instead of rolling them over', () => {
    expect(parseAwsTime('2019-02-31 10:00:00')).toBeNull();
    expect(parseAwsTime('2019-13-01 10:00:00')).toBeNull();
  });
});

describe('normalizeConnection', () => {
  it('turns the all-string wire shape into typed fields', () => {
    const c = normalizeConnection(wellFormed);
    expect(c).toMatchObject({
      endpointId: 'cvpn-endpoint-0123456789abcdef0',
      connectionId: 'cvpn-connection-0aa11bb22cc33dd44',
      username: 'alice',
      commonName: 'alice',
      status: 'active',
      clientIp: '172.31.0.226',
      clientIpv6: null,
      endedAt: null,
      ingressBytes: 2951,
      egressBytes: 5_000_000_000,
      ingressPackets: 9,
      egressPackets: 6,
      postureCompliance: ['compliant'],
      issues: [],
    });
    expect(c.establishedAt?.toISOString()).toBe('2019-08-12T07:58:34.000Z');
  });

  it('keeps certificate users apart from AD users', () => {
    const { Username: _omit, ...certificate } = wellFormed;
    const c = normalizeConnection({ ...certificate, CommonName: 'laptop-7.corp.example' });
    expect(c.username).toBeNull();
    expect(c.commonName).toBe('laptop-7.corp.example');
    expect(displayName(c)).toBe('laptop-7.corp.example');
  });

  it('reads the end time of a terminated connection', () => {
    const c = normalizeConnection({
      ...wellFormed,
      Status: { Code: 'terminated' },
      ConnectionEndTime: '2019-08-12 09:00:00',
    });
    expect(c.status).toBe('terminated');
    expect(c.endedAt?.toISOString()).toBe('2019-08-12T09:00:00.000Z');
  });

  it('keeps a malformed record, marks the unreadable fields and never invents values', () => {
    const c = normalizeConnection(
      {
        ConnectionId: 'cvpn-connection-0aa11bb22cc33dd44',
        ConnectionEstablishedTime: 'not a time',
        IngressBytes: '12abc',
        EgressBytes: '-5',
        Status: { Code: 'exploded' },
      },
      'cvpn-endpoint-0123456789abcdef0',
    );
    expect(c.endpointId).toBe('cvpn-endpoint-0123456789abcdef0');
    expect(c.establishedAt).toBeNull();
    expect(c.ingressBytes).toBeNull();
    expect(c.egressBytes).toBeNull();
    expect(c.status).toBeNull();
    expect(c.issues).toEqual([
      'Status.Code="exploded"',
      'ConnectionEstablishedTime="not a time"',
      'IngressBytes="12abc"',
      'EgressBytes="-5"',
    ]);
    expect(JSON.stringify(c)).not.toMatch(/NaN|Invalid Date|undefined/);
  });

  it('names a record without id or status instead of crashing', () => {
    const c = normalizeConnection({});
    expect(c.connectionId).toBe('(unknown)');
    expect(c.issues).toContain('ConnectionId missing');
    expect(displayName(c)).toBe('(unknown user)');
  });
});
