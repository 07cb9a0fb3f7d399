/** The EC2 emulator's public types: what tests put in, read back and inject. */
export type EmulatedAuthenticationType =
  | 'certificate-authentication'
  | 'directory-service-authentication'
  | 'federated-authentication';

export interface EmulatedEndpoint {
  /** `cvpn-endpoint-<17 hex>` */
  id: string;
  /** Becomes the `Name` tag. */
  name?: string;
  description?: string;
  /** Default `directory-service-authentication`. */
  authenticationType?: EmulatedAuthenticationType;
  /** Informational; shows in `dnsName`. Default `us-east-1`. */
  region?: string;
  /** `SessionTimeoutHours` (AWS allows 8, 10, 12 or 24); default 24, as AWS. */
  sessionTimeoutHours?: number;
  /** Default `udp`; matched by the `transport-protocol` filter. */
  transportProtocol?: 'udp' | 'tcp';
}

export type EmulatedConnectionStatus =
  | 'active'
  | 'failed-to-terminate'
  | 'terminating'
  | 'terminated';

export interface EmulatedConnection {
  endpointId: string;
  /** `cvpn-connection-<17 hex>` */
  connectionId: string;
  /** Omitted for certificate auth. */
  username?: string | undefined;
  commonName?: string | undefined;
  clientIp?: string | undefined;
  clientIpv6?: string | undefined;
  establishedAt: Date;
  /** `null`/`undefined` while active: serialised as `-`. */
  endedAt?: Date | null | undefined;
  status: EmulatedConnectionStatus;
  statusMessage?: string | undefined;
  ingressBytes: number;
  egressBytes: number;
  ingressPackets: number;
  egressPackets: number;
  postureCompliance?: string[] | undefined;
  /**
   * Raw overrides of wire element values (e.g. `{ connectionEstablishedTime: 'garbage' }`) for
   * malformed-record tests. Keys are element names of the `<item>` (`status.code` and
   * `status.message` for the nested status); a key present with value `undefined` omits the
   * element; an unknown key is appended as an extra element.
   */
  raw?: Partial<Record<string, string>> | undefined;
}

export interface RequestLogEntry {
  action: string;
  /** The access key id the request was signed with (from the SigV4 `Authorization` header). */
  accessKeyId?: string;
  /**
   * Who signed it: `assumed-role/ROLE/SESSION` for credentials this emulator issued through
   * STS AssumeRole, else `base`.
   */
  principal?: string;
  params: Record<string, string>;
  /** HTTP status answered; 0 for a dropped request (and while a request is still in flight). */
  status: number;
  /** Error code, when the answer was an error. */
  code?: string;
  requestId: string;
  /** Arrival time, on the emulator's clock. */
  at: Date;
}

export interface Ec2EmulatorOptions {
  /** Injectable clock; default `() => new Date()`. */
  now?: () => Date;
  /** Port to listen on (127.0.0.1); default 0, any free port. */
  port?: number;
}

export interface Ec2EmulatorFaults {
  /** The next `n` calls answer 503 RequestLimitExceeded. */
  throttleNext(n: number): void;
  /**
   * Token buckets like EC2's (e.g. 100 burst / 20 per s for Describe*); mutating calls get a
   * bucket of `burst / 4` refilled at `perSecond / 4`. `null` turns them off.
   */
  tokenBucket(config: { burst: number; perSecond: number } | null): void;
  /** The next `n` calls fail with `status` (default 500) and `code` (default InternalError). */
  failNext(n: number, status?: number, code?: string): void;
  /** Delay before answering each call (ms, or per action). */
  latency(ms: number | ((action: string) => number)): void;
  /** Destroy the socket of the next `n` calls without answering. */
  dropNext(n: number): void;
  /** 403 UnauthorizedOperation for that action (or every action), DryRun included. */
  deny(action: string): void;
  /** 401 AuthFailure for every call while on. */
  authFailure(on: boolean): void;
  reset(): void;
}

export interface Ec2Emulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Every request, in order of arrival. */
  requests: RequestLogEntry[];
  addEndpoints(endpoints: EmulatedEndpoint[]): void;
  /**
   * Adds connections to endpoints already added. The emulator keeps these objects and never
   * mutates them (a change replaces the stored object), so do not mutate them afterwards.
   */
  addConnections(connections: EmulatedConnection[]): void;
  /** Copies of the current state (after terminate transitions and expiry), insertion order. */
  connections(endpointId?: string): EmulatedConnection[];
  /**
   * The client of an `active` (or `failed-to-terminate`) connection disconnected: it becomes
   * `terminated` with the clock's time as its end, as AWS shows a session the user ended.
   * Returns false (and changes nothing) for an unknown or already ending connection.
   */
  disconnect(connectionId: string): boolean;
  /** Removes all endpoints, connections, faults and the request log; invalidates tokens. */
  clear(): void;
  faults: Ec2EmulatorFaults;
  /** Closes the server and any open sockets promptly. */
  close(): Promise<void>;
}
