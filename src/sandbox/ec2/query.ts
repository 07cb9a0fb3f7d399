/** Request parsing: the body, Query parameters, filters, MaxResults, DryRun; the API error. */
import type { IncomingMessage } from 'node:http';

const DEFAULT_MAX_RESULTS = 1000;
const MAX_BODY_BYTES = 1024 * 1024;
/** An error the API answers with its HTTP status and EC2 error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An answer: HTTP status, XML body, and the error code for the request log. */
export interface ApiResult {
  status: number;
  body: string;
  code?: string;
}
/** One `Filter.N` of a Describe request. */
export interface Filter {
  name: string;
  values: Set<string>;
}
/** A 400 InvalidParameterValue with this message. */
export function invalidValue(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValue', message);
}

/** `MaxResults` (5–1000, default 1000). */
export function parseMaxResults(params: URLSearchParams): number {
  const raw = params.get('MaxResults');
  if (raw === null) return DEFAULT_MAX_RESULTS;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 5 && n <= 1000)) {
    throw invalidValue(
      `Value ( ${raw} ) for parameter maxResults is invalid. Parameter must be between 5 and 1000.`,
    );
  }
  return n;
}

const FILTER_KEY = /^Filter\.(\d+)\.(Name|Value)(?:\.(\d+))?$/;

/** The `Filter.N.Name` / `Filter.N.Value.M` parameters, in order, checked against `allowed`. */
export function parseFilters(params: URLSearchParams, allowed: readonly string[]): Filter[] {
  const byIndex = new Map<number, { name?: string; values: Array<[number, string]> }>();
  for (const [key, value] of params) {
    const match = FILTER_KEY.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const entry = byIndex.get(index) ?? { values: [] };
    byIndex.set(index, entry);
    if (match[2] === 'Name') entry.name = value;
    else if (match[3] !== undefined) entry.values.push([Number(match[3]), value]);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, entry]) => {
      if (entry.name === undefined) {
        throw invalidValue(`The filter Filter.${index} has no Name.`);
      }
      if (!allowed.includes(entry.name)) {
        throw invalidValue(
          `The filter '${entry.name}' is invalid. Valid filters: ${allowed.join(', ')}.`,
        );
      }
      if (entry.values.length === 0) {
        throw invalidValue(`The filter '${entry.name}' requires at least one value.`);
      }
      return { name: entry.name, values: new Set(entry.values.map(([, v]) => v)) };
    });
}

/** True when `DryRun=true`. */
export function isDryRun(params: URLSearchParams): boolean {
  return params.get('DryRun')?.toLowerCase() === 'true';
}

/** The 412 DryRunOperation a successful dry run answers. */
export function dryRun(): ApiError {
  return new ApiError(
    412,
    'DryRunOperation',
    'Request would have succeeded, but DryRun flag is set.',
  );
}

/** What a NextToken is bound to: action, scope, filters (canonical order) and MaxResults. */
export function queryKey(
  action: string,
  scope: string,
  filters: Filter[],
  maxResults: number,
): string {
  const canonical = filters
    .map((f) => JSON.stringify([f.name, [...f.values].sort()]))
    .sort()
    .join(',');
  return `${action}\n${scope}\n${canonical}\n${maxResults}`;
}
/** Reads a request body (at most 1 MiB, else 413 RequestEntityTooLarge). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A parameter that must be present and non-empty, or 400 MissingParameter. */
export function requireParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw new ApiError(400, 'MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}
