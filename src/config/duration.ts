// metav1.Duration text (Go time.ParseDuration): a sequence of decimal numbers with units, e.g. "90s",
// "1m30s", "1.5h", "300ms". Returned in milliseconds (sub-millisecond parts are kept as fractions).

const UNIT_MS = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
} as const satisfies Readonly<Record<string, number>>;

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

export function parseDuration(text: string): DurationResult {
  const s = text.trim();
  if (s === '0') return { ok: true, ms: 0 };
  const bad = (): DurationResult => ({ ok: false, message: `"${text}" is not a duration: write e.g. "90s", "1m30s" or "500ms"` });
  if (s === '' || s.startsWith('-')) return bad();
  const body = s.startsWith('+') ? s.slice(1) : s;
  const re = /([0-9]*\.?[0-9]+|[0-9]+\.)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (m === null) return bad();
    const [, num, unit] = m;
    if (num === undefined || unit === undefined) return bad();
    total += Number(num) * UNIT_MS[unit as keyof typeof UNIT_MS];
    pos = re.lastIndex;
  }
  return { ok: true, ms: total };
}

/** Go's Duration.Round(time.Second): halves round away from zero. */
export function roundToSeconds(ms: number): number {
  return Math.round(ms / 1000);
}
