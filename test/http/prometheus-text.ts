/**
 * A strict reader of the Prometheus text exposition format (0.0.4), written from the format's
 * specification for the tests: prom-client has no parser, and a scrape that Prometheus would
 * refuse must fail here. It throws on the first line it cannot accept, naming the line.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(text: string, where: string): number {
  // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case, optionally signed.
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y\"z"}` starting at `i` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string) {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq === -1) throw new Error(`${where}: label without "="`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    }
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = line[j];
      if (ch === undefined) throw new Error(`${where}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = line[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape \\${next ?? ''}`);
        j += 2;
      } else {
        value += ch;
        j += 1;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i += 1;
    else if (line[i] !== '}') throw new Error(`${where}: expected "," or "}" after a label`);
  }
  return { labels, end: i + 1 };
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base?.type === 'histogram') return base;
    if (base?.type === 'summary' && suffix !== '_bucket') return base;
  }
  return undefined;
}

/**
 * Parses a whole scrape. Refuses: a missing final newline, a sample before its `# TYPE`, a
 * family declared twice or interleaved with another, a bad name, label or value, the same
 * series twice, and histograms whose buckets are not cumulative or whose `+Inf` bucket is not
 * `_count`.
 */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the scrape does not end with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  for (const [n, line] of lines.entries()) {
    const where = `line ${n + 1}`;
    // The format allows empty lines (prom-client puts one between families).
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`${where}: family ${name} declared again`);
      if (current && current.name !== name) closed.add(current.name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: bad type ${rest}`);
        const existing = families.get(name);
        if (existing && existing.samples.length > 0)
          throw new Error(`${where}: TYPE after samples`);
        current = { name, type: rest as Family['type'], help: existing?.help ?? '', samples: [] };
        families.set(name, current);
      } else {
        const existing = families.get(name);
        if (existing?.help) throw new Error(`${where}: HELP twice for ${name}`);
        current = existing ?? { name, type: 'untyped', help: '', samples: [] };
        current = { ...current, help: rest };
        families.set(name, current);
      }
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: no sample name`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || parts[0] === undefined) throw new Error(`${where}: bad value part`);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))
      throw new Error(`${where}: bad timestamp`);
    const value = parseValue(parts[0], where);
    const family = familyOf(name, families);
    if (!family) throw new Error(`${where}: ${name} has no # TYPE before it`);
    if (current?.name !== family.name) throw new Error(`${where}: ${name} outside its family`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) throw new Error(`${where}: series ${id} twice`);
    series.add(id);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([parseValue(le, family.name), s.value]);
    } else if (s.name.endsWith('_count')) {
      group.count = s.value;
    }
  }
  for (const group of groups.values()) {
    let previous = -1;
    for (const [, value] of group.buckets.sort((a, b) => a[0] - b[0])) {
      if (value < previous) throw new Error(`${family.name}: buckets not cumulative`);
      previous = value;
    }
    const inf = group.buckets.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY || inf[1] !== group.count) {
      throw new Error(`${family.name}: +Inf bucket missing or not equal to _count`);
    }
  }
}

/** The value of one series, or `undefined`. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(s.labels);
      if (keys.length !== Object.keys(labels).length) continue;
      if (keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}
