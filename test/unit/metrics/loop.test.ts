// The stall detector (src/metrics/loop.ts): a loop blocked on purpose is counted as a stall, and the
// families render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoopMonitor, STALL_TICK_MS } from '../../../src/metrics/loop.ts';
import { renderExposition } from '../../../src/metrics/exposition.ts';

test('a 400 ms synchronous block is one stall of at least 300 ms; the families say so', async () => {
  const monitor = startLoopMonitor({ stallMs: 100 });
  try {
    await new Promise((r) => setTimeout(r, STALL_TICK_MS * 2));
    assert.equal(monitor.stalls().count, 0, 'an idle loop has no stall');
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // blocking the loop on purpose
    }
    // The ticker runs after the block: wait until it has seen it (a positive signal, not a sleep).
    while (monitor.stalls().count === 0) await new Promise((r) => setTimeout(r, 10));
    const s = monitor.stalls();
    assert.equal(s.count, 1);
    assert.ok(s.longestMs >= 300, `longest stall ${s.longestMs} ms`);
    const text = renderExposition(monitor.families());
    assert.match(text, /^berth_event_loop_stalls_total 1$/m);
    assert.match(text, /^berth_event_loop_delay_seconds\{quantile="1"\} 0\.[3-9]\d*|^berth_event_loop_delay_seconds\{quantile="1"\} [1-9]/m);
  } finally {
    monitor.stop();
  }
});
