// The stall detector every berth process exports on /metrics: how long its main event loop was late.
// A late loop is a late keepalive, hold-timer check or L2 refresh (docs/scale.md "Timers are never
// starved"). Two sources:
//   - Node's event-loop delay histogram (perf_hooks.monitorEventLoopDelay, 10 ms resolution), since
//     the start: p50, p99 and max;
//   - a 50 ms ticker that counts each tick that came more than `stallMs` (default 100 ms) late: a
//     stall, with the time lost.
//   berth_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}   gauge    delay quantiles since start
//   berth_event_loop_stalls_total                              counter  ticks more than 100 ms late
//   berth_event_loop_stall_seconds_total                       counter  time those ticks were late
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { MetricFamily } from './exposition.ts';

export const STALL_TICK_MS = 50;
export const DEFAULT_STALL_MS = 100;

export interface LoopMonitor {
  families(): MetricFamily[];
  /** Stalls seen so far, and the longest (ms). */
  stalls(): { readonly count: number; readonly seconds: number; readonly longestMs: number };
  stop(): void;
}

export function startLoopMonitor(opts: { readonly stallMs?: number } = {}): LoopMonitor {
  const threshold = opts.stallMs ?? DEFAULT_STALL_MS;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let count = 0;
  let seconds = 0;
  let longestMs = 0;
  let expected = performance.now() + STALL_TICK_MS;
  const ticker = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    if (late > threshold) {
      count++;
      seconds += late / 1000;
      longestMs = Math.max(longestMs, late);
    }
    expected = now + STALL_TICK_MS;
  }, STALL_TICK_MS);
  ticker.unref();
  const ns = (v: number): number => (Number.isFinite(v) ? v / 1e9 : 0);
  return {
    families: () => [
      {
        name: 'berth_event_loop_delay_seconds',
        help: 'Event-loop delay of the main thread since the start (quantile 1 = the largest).',
        type: 'gauge',
        samples: [
          { labels: { quantile: '0.5' }, value: ns(histogram.percentile(50)) },
          { labels: { quantile: '0.99' }, value: ns(histogram.percentile(99)) },
          { labels: { quantile: '1' }, value: ns(histogram.max) },
        ],
      },
      { name: 'berth_event_loop_stalls_total', help: `Times the main event loop was more than ${threshold} ms late.`, type: 'counter', samples: [{ value: count }] },
      { name: 'berth_event_loop_stall_seconds_total', help: 'Time the main event loop lost in those stalls.', type: 'counter', samples: [{ value: seconds }] },
    ],
    stalls: () => ({ count, seconds, longestMs }),
    stop() {
      clearInterval(ticker);
      histogram.disable();
    },
  };
}
