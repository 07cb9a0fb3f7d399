import { describe, expect, it } from 'vitest';
import { normalizeConnection } from '../../src/vpn/connection.js';
import { csvHeader, RECORD_COLUMNS, toCsv, toRecord } from '../../src/vpn/records.js';

const connection = normalizeConnection({
  ClientVpnEndpointId: 'cvpn-endpoint-0123456789abcdef0',
  ConnectionId: 'cvpn-connection-0aa11bb22cc33dd44',
  Username: '=HYPERLINK("http://evil","x"), inc',
  ConnectionEstablishedTime: '2026-11-27 08:00:00',
  ConnectionEndTime: '-',
  IngressBytes: '10',
  Status: { Code: 'active' },
  PostureComplianceStatuses: ['compliant', 'unknown'],
});

describe('toRecord', () => {
  it('has exactly the documented keys, ISO UTC times and null for absent values', () => {
    const record = toRecord(connection);
    expect(Object.keys(record)).toEqual([...RECORD_COLUMNS]);
    expect(record.establishedAt).toBe('2026-11-27T08:00:00.000Z');
    expect(record.endedAt).toBeNull();
    expect(record.egressBytes).toBeNull();
    expect(record.ingressBytes).toBe(10);
    expect(record.postureCompliance).toBe('compliant;unknown');
  });
});

describe('toCsv', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas', () => {
    const lines = toCsv([connection]).split('\n');
    expect(lines[0]).toBe(csvHeader());
    expect(lines[1]).toBe(
      'cvpn-endpoint-0123456789abcdef0,cvpn-connection-0aa11bb22cc33dd44,"\'=HYPERLINK(""http://evil"",""x""), inc",,active,,,2026-11-27T08:00:00.000Z,,10,,,,compliant;unknown',
    );
    expect(lines[2]).toBe('');
  });
});
