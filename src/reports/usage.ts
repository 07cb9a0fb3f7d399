/**
 * The usage report: who used the VPN in a period, for how long, at what
 * estimated cost, and how close each endpoint came to its peak. A pure
 * function of the recorded sessions, the concurrency samples, the period and
 * the prices, built to summarize half a million sessions in one pass plus
 * one sort of typed arrays (see bench/report.ts).
 *
 * Rules (issue 11): a period counts every session that overlaps it;
 * connection-hours, cost and peaks count only the time inside it; bytes are
 * the sessions' totals; an active session (no end) counts up to `now` or the
 * period's end, whichever is first. A person is the user name, or the common
 * name on certificate endpoints.
 *
 * Peaks: each source is a lower bound of the truth. The sessions' own
 * intervals are exact to the millisecond, see spikes between two polls and
 * reach back before collection began; the samples (AWS's active count at each
 * poll) also see sessions the store never recorded. So the concurrency at an
 * instant is the interval count, raised to a sample's count at its instant
 * when the sample saw more; the peak and the chart series are its maximum.
 */
import type { AuthenticationType } from '../vpn/endpoint.js';
import { type Period, type ZoneDay, zoneDays } from './period.js';

/** One recorded session, as the history store keeps it. */
export interface SessionRecord {
  /** The endpoint's alias when it has one, else its id: the report's key and label. */
  readonly endpoint: string;
  readonly connectionId: string;
  readonly username: string | null;
  readonly commonName: string | null;
  /** The endpoint's authentication types; certificate-only endpoints name people by common name. */
  readonly authentication: readonly AuthenticationType[];
  readonly start: Date;
  /** `null` while the session is active. */
  readonly end: Date | null;
  readonly ingressBytes: number | null;
  readonly egressBytes: number | null;
}

/** The active count AWS reported for one endpoint at one poll. */
export interface ConcurrencySample {
  readonly endpoint: string;
  readonly at: Date;
  readonly active: number;
}

/** Price per connection-hour: one default, overridden per endpoint (alias or id, as in `SessionRecord.endpoint`). */
export interface Pricing {
  readonly currency: string;
  readonly perConnectionHour: number;
  readonly byEndpoint?: Readonly<Record<string, number>>;
}

/** The us-east-1 list price (USD per connection-hour), the default of `VPN_CONNECTION_HOUR_PRICE`. */
export const DEFAULT_PRICING: Pricing = { currency: 'USD', perConnectionHour: 0.05 };

export interface UsageInput {
  readonly sessions: Iterable<SessionRecord>;
  readonly samples?: Iterable<ConcurrencySample>;
  readonly period: Period;
  readonly now: Date;
  readonly pricing?: Pricing;
  /** Endpoints to show even without sessions (the ones the report was asked about). */
  readonly endpoints?: readonly string[];
  /** Points per concurrency series at most (default 480): the bucket width follows. */
  readonly maxSeriesPoints?: number;
}

export interface Peak {
  readonly count: number;
  /** The first instant the count was reached; `null` when it is 0. */
  readonly at: Date | null;
}

export interface PersonUsage {
  readonly person: string;
  readonly sessions: number;
  readonly connectionHours: number;
  readonly ingressBytes: number;
  readonly egressBytes: number;
  readonly estimatedCost: number;
}

export interface EndpointUsage {
  readonly endpoint: string;
  readonly sessions: number;
  readonly connectionHours: number;
  readonly ingressBytes: number;
  readonly egressBytes: number;
  readonly estimatedCost: number;
  readonly pricePerConnectionHour: number;
  readonly peak: Peak;
}

export interface DayUsage extends ZoneDay {
  readonly connectionHours: number;
  /** Connection-hours per endpoint, in `UsageReport.endpoints` order. */
  readonly byEndpoint: readonly number[];
}

/** Concurrency over the period for one endpoint: the maximum in each bucket. */
export interface ConcurrencySeries {
  readonly endpoint: string;
  /** Bucket width in milliseconds. */
  readonly stepMs: number;
  readonly points: readonly { readonly at: Date; readonly active: number }[];
}

export interface UsageReport {
  readonly period: Period;
  /** When the numbers were computed; active sessions count up to here. */
  readonly now: Date;
  readonly currency: string;
  readonly totals: {
    readonly sessions: number;
    readonly people: number;
    readonly connectionHours: number;
    readonly ingressBytes: number;
    readonly egressBytes: number;
    readonly estimatedCost: number;
  };
  /** By endpoint name (numbers in names compared as numbers). */
  readonly endpoints: readonly EndpointUsage[];
  /** Everyone, most connection-hours first (then name). */
  readonly people: readonly PersonUsage[];
  readonly days: readonly DayUsage[];
  readonly concurrency: readonly ConcurrencySeries[];
}

const HOUR_MS = 3_600_000;
const ENDPOINT_ORDER = new Intl.Collator('en', { numeric: true });
const MAX_ENDPOINTS = 2048; // keys below pack the endpoint index above 2^42 ms
const ENDPOINT_SHIFT = 2 ** 42;
/** Bucket widths for the chart series, smallest that keeps the points under the limit. */
const STEPS_MIN = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080];

interface PersonAcc {
  sessions: number;
  ms: number;
  ingress: number;
  egress: number;
  /** Σ ms × price; divided by an hour at the end. */
  costMs: number;
}

interface EndpointAcc {
  sessions: number;
  ms: number;
  ingress: number;
  egress: number;
  price: number;
}

function isCertificateOnly(authentication: readonly AuthenticationType[]): boolean {
  return (
    authentication.length > 0 && authentication.every((a) => a === 'certificate-authentication')
  );
}

function personName(s: SessionRecord, certificateOnly: boolean): string {
  const first = certificateOnly ? s.commonName : s.username;
  return first ?? (certificateOnly ? s.username : s.commonName) ?? '(unknown)';
}

/** Who a session belongs to: the user name, or the common name on certificate-only endpoints. */
export function personOf(s: SessionRecord): string {
  return personName(s, isCertificateOnly(s.authentication));
}

function bytes(n: number | null): number {
  return n !== null && Number.isFinite(n) && n > 0 ? n : 0;
}

/** The first index `i` with `bounds[i] > t` minus one: the day holding `t`. */
function dayIndex(bounds: Float64Array, t: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((bounds[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Summarizes the sessions overlapping `input.period`. One pass over the
 * sessions accumulates totals, people, endpoints and days, and packs each
 * clipped interval into typed arrays; the peaks and series come from one
 * sweep over those arrays sorted (see `sweepConcurrency`). It is long on
 * purpose: splitting the loop into per-session helper calls that allocate or
 * return tuples costs measurably at 500,000 sessions (bench/report.ts).
 *
 * `sessions` may be any iterable — a store cursor streaming rows works, and
 * keeps memory flat. Sessions need not be sorted.
 */
export function summarizeUsage(input: UsageInput): UsageReport {
  const { period, now } = input;
  const pricing = input.pricing ?? DEFAULT_PRICING;
  const p0 = period.start.getTime();
  const p1 = Math.min(period.end.getTime(), Math.max(p0, now.getTime()));
  const days = zoneDays(period);
  const bounds = Float64Array.from(days, (d) => d.start.getTime());
  const dayEnds = Float64Array.from(days, (d) => d.end.getTime());

  const endpointIndex = new Map<string, number>();
  const endpoints: EndpointAcc[] = [];
  const endpointNames: string[] = [];
  const endpointOf = (name: string): number => {
    let i = endpointIndex.get(name);
    if (i === undefined) {
      i = endpoints.length;
      if (i >= MAX_ENDPOINTS) throw new RangeError(`more than ${MAX_ENDPOINTS} endpoints`);
      endpointIndex.set(name, i);
      endpointNames.push(name);
      const price = pricing.byEndpoint?.[name] ?? pricing.perConnectionHour;
      endpoints.push({ sessions: 0, ms: 0, ingress: 0, egress: 0, price });
    }
    return i;
  };
  for (const name of input.endpoints ?? []) endpointOf(name);

  const people = new Map<string, PersonAcc>();
  let dayMs: Float64Array<ArrayBuffer> = new Float64Array(days.length * 8);
  let starts: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let ends: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let n = 0; // sessions counted
  let lastEndpoint: string | null = null;
  let lastIndex = 0;
  let lastAuthentication: readonly AuthenticationType[] | null = null;
  let certificateOnly = false;
  let m = 0; // intervals packed for the sweep
  let ingressTotal = 0;
  let egressTotal = 0;

  for (const s of input.sessions) {
    const start = s.start.getTime();
    const end = s.end === null ? Math.max(start, now.getTime()) : s.end.getTime();
    // Overlap: [start, end) meets [p0, p1); an instant session counts where it happened.
    if (!(start < p1 && (end > p0 || (end === start && start >= p0)))) continue;
    const from = Math.max(start, p0);
    const to = Math.max(from, Math.min(end, p1));
    const ms = to - from;
    // Runs of one endpoint are common (the store orders by endpoint or time): skip the lookup.
    if (s.endpoint !== lastEndpoint) {
      lastEndpoint = s.endpoint;
      lastIndex = endpointOf(s.endpoint);
    }
    const e = lastIndex;
    const ep = endpoints[e] as EndpointAcc;
    const inBytes = bytes(s.ingressBytes);
    const outBytes = bytes(s.egressBytes);
    ep.sessions += 1;
    ep.ms += ms;
    ep.ingress += inBytes;
    ep.egress += outBytes;
    ingressTotal += inBytes;
    egressTotal += outBytes;

    if (s.authentication !== lastAuthentication) {
      lastAuthentication = s.authentication;
      certificateOnly = isCertificateOnly(s.authentication);
    }
    const name = personName(s, certificateOnly);
    let person = people.get(name);
    if (person === undefined) {
      person = { sessions: 0, ms: 0, ingress: 0, egress: 0, costMs: 0 };
      people.set(name, person);
    }
    person.sessions += 1;
    person.ms += ms;
    person.ingress += inBytes;
    person.egress += outBytes;
    person.costMs += ms * ep.price;

    if (ms > 0) {
      if ((e + 1) * days.length > dayMs.length) dayMs = grow(dayMs, (e + 1) * days.length * 2);
      let d = dayIndex(bounds, from);
      let t = from;
      while (t < to) {
        const dayEnd = Math.min(to, dayEnds[d] as number);
        dayMs[e * days.length + d] = (dayMs[e * days.length + d] as number) + (dayEnd - t);
        t = dayEnd;
        d += 1;
      }
    }
    n += 1;
    // A session of no length inside the period is counted, but is never concurrent.
    if (ms === 0) continue;
    if (m === starts.length) {
      starts = grow(starts, m * 2);
      ends = grow(ends, m * 2);
    }
    starts[m] = e * ENDPOINT_SHIFT + (from - p0);
    ends[m] = e * ENDPOINT_SHIFT + (to - p0);
    m += 1;
  }

  const sampleKeys = packSamples(input.samples ?? [], endpointOf, p0, p1);
  const sweep = sweepConcurrency({
    starts: starts.subarray(0, m),
    ends: ends.subarray(0, m),
    samples: sampleKeys,
    endpoints: endpoints.length,
    spanMs: p1 - p0,
    maxPoints: input.maxSeriesPoints ?? 480,
  });

  // By name, numbers in names compared as numbers (`vpn-2` before `vpn-10`).
  const order = endpointNames
    .map((name, i) => ({ name, i }))
    .sort((a, b) => ENDPOINT_ORDER.compare(a.name, b.name));
  const endpointRows: EndpointUsage[] = order.map(({ name, i }) => {
    const ep = endpoints[i] as EndpointAcc;
    const peak = sweep.peaks[i] as { count: number; atMs: number };
    return {
      endpoint: name,
      sessions: ep.sessions,
      connectionHours: ep.ms / HOUR_MS,
      ingressBytes: ep.ingress,
      egressBytes: ep.egress,
      estimatedCost: (ep.ms * ep.price) / HOUR_MS,
      pricePerConnectionHour: ep.price,
      peak: { count: peak.count, at: peak.count > 0 ? new Date(p0 + peak.atMs) : null },
    };
  });

  const peopleRows: PersonUsage[] = [...people].map(([person, acc]) => ({
    person,
    sessions: acc.sessions,
    connectionHours: acc.ms / HOUR_MS,
    ingressBytes: acc.ingress,
    egressBytes: acc.egress,
    estimatedCost: acc.costMs / HOUR_MS,
  }));
  peopleRows.sort(
    (a, b) =>
      b.connectionHours - a.connectionHours ||
      (a.person < b.person ? -1 : a.person > b.person ? 1 : 0),
  );

  const totalMs = endpoints.reduce((sum, ep) => sum + ep.ms, 0);
  return {
    period,
    now,
    currency: pricing.currency,
    totals: {
      sessions: n,
      people: people.size,
      connectionHours: totalMs / HOUR_MS,
      ingressBytes: ingressTotal,
      egressBytes: egressTotal,
      estimatedCost: endpointRows.reduce((sum, ep) => sum + ep.estimatedCost, 0),
    },
    endpoints: endpointRows,
    people: peopleRows,
    days: days.map((day, d) => {
      const byEndpoint = order.map(({ i }) => (dayMs[i * days.length + d] ?? 0) / HOUR_MS);
      const ms = order.reduce((sum, { i }) => sum + (dayMs[i * days.length + d] ?? 0), 0);
      return { ...day, connectionHours: ms / HOUR_MS, byEndpoint };
    }),
    concurrency: order.map(({ name, i }) => ({
      endpoint: name,
      stepMs: sweep.stepMs,
      points: Array.from(sweep.series[i] ?? [], (active, b) => ({
        at: new Date(p0 + b * sweep.stepMs),
        active: Math.max(0, active),
      })),
    })),
  };
}

function grow(array: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(size);
  bigger.set(array);
  return bigger;
}

/** Samples inside the period as `endpoint << 42 | offset` keys, with their counts alongside. */
function packSamples(
  samples: Iterable<ConcurrencySample>,
  endpointOf: (name: string) => number,
  p0: number,
  p1: number,
): { keys: Float64Array; counts: Float64Array } {
  const list: [number, number][] = [];
  for (const s of samples) {
    const at = s.at.getTime();
    if (at < p0 || at >= p1) continue;
    list.push([endpointOf(s.endpoint) * ENDPOINT_SHIFT + (at - p0), s.active]);
  }
  list.sort((a, b) => a[0] - b[0]);
  return {
    keys: Float64Array.from(list, (x) => x[0]),
    counts: Float64Array.from(list, (x) => x[1]),
  };
}

interface SweepInput {
  /** `endpoint * 2^42 + offset from the period's start`, one per session (clipped start). */
  readonly starts: Float64Array;
  /** Same packing, the clipped end. */
  readonly ends: Float64Array;
  readonly samples: { keys: Float64Array; counts: Float64Array };
  readonly endpoints: number;
  readonly spanMs: number;
  readonly maxPoints: number;
}

interface SweepResult {
  readonly peaks: { count: number; atMs: number }[];
  readonly stepMs: number;
  readonly series: Int32Array[];
}

/**
 * One sweep over the sorted starts, ends and samples of every endpoint in
 * time order (the packing keeps endpoints apart). At one instant ends go
 * first, then starts, then samples: intervals are half-open, so a session
 * ending at 10:00 and one starting at 10:00 never overlap, and a sample at
 * 10:00 sees the second. Intervals must have positive length. Each bucket keeps the maximum it saw; a bucket no
 * event falls in carries the running count.
 */
function sweepConcurrency(input: SweepInput): SweepResult {
  const starts = isSorted(input.starts) ? input.starts : input.starts.slice().sort();
  const ends = input.ends.slice().sort();
  const { keys, counts } = input.samples;
  const stepMs = bucketWidth(input.spanMs, input.maxPoints);
  const buckets = Math.max(1, Math.ceil(input.spanMs / stepMs));
  const peaks = Array.from({ length: input.endpoints }, () => ({ count: 0, atMs: 0 }));
  const series = Array.from({ length: input.endpoints }, () => new Int32Array(buckets));
  let i = 0;
  let j = 0;
  let k = 0;
  for (let e = 0; e < input.endpoints; e += 1) {
    const base = e * ENDPOINT_SHIFT;
    const limit = base + ENDPOINT_SHIFT;
    const buckets_ = series[e] as Int32Array;
    const peak = peaks[e] as { count: number; atMs: number };
    let active = 0;
    let open = 0; // buckets before `open` have seen the running count
    // Before an event at `atMs`: every bucket up to its own has seen the count
    // that held until now (its own only when `atMs` is past the bucket's start).
    const reach = (atMs: number): number => {
      const b = Math.min(buckets - 1, Math.floor(atMs / stepMs));
      const upTo = atMs > b * stepMs ? b : b - 1;
      for (; open <= upTo; open += 1) buckets_[open] = Math.max(buckets_[open] as number, active);
      return b;
    };
    const see = (b: number, atMs: number, count: number) => {
      if (count > (buckets_[b] as number)) buckets_[b] = count;
      if (count > peak.count) {
        peak.count = count;
        peak.atMs = atMs;
      }
    };
    for (;;) {
      const nextEnd = j < ends.length && (ends[j] as number) < limit ? (ends[j] as number) : limit;
      const nextStart =
        i < starts.length && (starts[i] as number) < limit ? (starts[i] as number) : limit;
      const nextSample =
        k < keys.length && (keys[k] as number) < limit ? (keys[k] as number) : limit;
      const t = Math.min(nextEnd, nextStart, nextSample);
      if (t === limit) break;
      const b = reach(t - base);
      if (nextEnd === t) {
        active -= 1;
        j += 1;
      } else if (nextStart === t) {
        active += 1;
        i += 1;
        see(b, t - base, active);
      } else {
        see(b, t - base, Math.max(active, counts[k] as number));
        k += 1;
      }
    }
    for (; open < buckets; open += 1) buckets_[open] = Math.max(buckets_[open] as number, active);
  }
  return { peaks, stepMs, series };
}

function isSorted(a: Float64Array): boolean {
  for (let i = 1; i < a.length; i += 1) if ((a[i] as number) < (a[i - 1] as number)) return false;
  return true;
}

/** The smallest step in {@link STEPS_MIN} that keeps `span / step` within `maxPoints`. */
function bucketWidth(spanMs: number, maxPoints: number): number {
  for (const minutes of STEPS_MIN) {
    if (spanMs / (minutes * 60_000) <= maxPoints) return minutes * 60_000;
  }
  return Math.ceil(spanMs / maxPoints);
}
