// Typed reads of untrusted object fields. Each reader returns the value, or undefined when the field is
// absent or has the wrong type (then it reports a problem). Validators stay short and every type error
// names its field.

export type Report = (field: string, message: string) => void;

export function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readString(v: unknown, field: string, report: Report): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    report(field, `must be a string, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

export function readBool(v: unknown, field: string, report: Report): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    report(field, `must be true or false, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

export interface IntBounds {
  readonly min?: number;
  readonly max?: number;
}

export function readInt(v: unknown, field: string, report: Report, bounds: IntBounds = {}): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    report(field, `must be an integer, got ${describe(v)}`);
    return undefined;
  }
  if (bounds.min !== undefined && v < bounds.min) {
    report(field, `${v} is below the minimum ${bounds.min}${bounds.max === undefined ? '' : ` (allowed: ${bounds.min}..${bounds.max})`}`);
    return undefined;
  }
  if (bounds.max !== undefined && v > bounds.max) {
    report(field, `${v} is above the maximum ${bounds.max}${bounds.min === undefined ? '' : ` (allowed: ${bounds.min}..${bounds.max})`}`);
    return undefined;
  }
  return v;
}

/** A list of strings. `unique` reports duplicates (MetalLB's webhooks reject them) and keeps the first. */
export function readStringList(v: unknown, field: string, report: Report, opts: { readonly unique?: boolean } = {}): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    report(field, `must be a list of strings, got ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((item: unknown, i) => {
    if (typeof item !== 'string') {
      report(`${field}[${i}]`, `must be a string, got ${describe(item)}`);
      return;
    }
    if (opts.unique === true && out.includes(item)) {
      report(`${field}[${i}]`, `duplicate entry "${item}": remove it`);
      return;
    }
    out.push(item);
  });
  return out;
}

export function readList(v: unknown, field: string, report: Report): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    report(field, `must be a list, got ${describe(v)}`);
    return [];
  }
  return v;
}

export function readRecord(v: unknown, field: string, report: Report): Readonly<Record<string, unknown>> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) {
    report(field, `must be a mapping, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

/** A map of string to string (labels, matchLabels). */
export function readStringMap(v: unknown, field: string, report: Report): Readonly<Record<string, string>> | undefined {
  const rec = readRecord(v, field, report);
  if (rec === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec)) {
    if (typeof val !== 'string') {
      report(`${field}.${k}`, `must be a string, got ${describe(val)} (quote it in YAML)`);
      continue;
    }
    out[k] = val;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}
