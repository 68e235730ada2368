import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderExposition } from '../../../src/metrics/exposition.ts';
import { controllerFamilies, speakerFamilies } from '../../../src/metrics/families.ts';

test('text format: HELP and TYPE per family, labels in order, escapes, special values, final line feed', () => {
  const text = renderExposition([
    { name: 'a_total', help: 'back\\slash and\nnewline', type: 'counter', samples: [{ value: 3 }] },
    {
      name: 'b',
      help: 'gauge',
      type: 'gauge',
      samples: [
        { labels: { x: 'q"uote', y: 'back\\slash', z: 'line\nfeed' }, value: 1.5 },
        { labels: { x: 'n' }, value: Number.NaN },
        { labels: { x: 'p' }, value: Number.POSITIVE_INFINITY },
        { labels: { x: 'm' }, value: Number.NEGATIVE_INFINITY },
      ],
    },
    { name: 'c', help: 'no samples', type: 'gauge', samples: [] },
  ]);
  assert.equal(
    text,
    [
      '# HELP a_total back\\\\slash and\\nnewline',
      '# TYPE a_total counter',
      'a_total 3',
      '# HELP b gauge',
      '# TYPE b gauge',
      'b{x="q\\"uote",y="back\\\\slash",z="line\\nfeed"} 1.5',
      'b{x="n"} NaN',
      'b{x="p"} +Inf',
      'b{x="m"} -Inf',
      '# HELP c no samples',
      '# TYPE c gauge',
      '',
    ].join('\n'),
  );
  assert.equal(renderExposition([]), '');
});

test('bad metric or label names, and a family given twice, are programming errors', () => {
  assert.throws(() => renderExposition([{ name: '1abc', help: '', type: 'gauge', samples: [] }]), /invalid metric name "1abc"/);
  assert.throws(() => renderExposition([{ name: 'a-b', help: '', type: 'gauge', samples: [] }]), /invalid metric name/);
  assert.throws(() => renderExposition([{ name: 'a', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]), /invalid label name "bad-label" on a/);
  assert.throws(() => renderExposition([{ name: 'a', help: '', type: 'gauge', samples: [{ labels: { __name__: 'x' }, value: 1 }] }]), /invalid label name "__name__"/);
  const f = { name: 'a', help: '', type: 'gauge' as const, samples: [] };
  assert.throws(() => renderExposition([f, f]), /metric family "a" given twice/);
});

test('speaker families: layer 2 counters and ownership, answer threads, BGP sessions and prefixes', () => {
  const text = renderExposition(
    speakerFamilies({
      l2: {
        stats: () => ({ arpReplies: 7, ndpReplies: 2, announcementsSent: 10, sendErrors: 1, drops: { 'ndp:badChecksum': 1, 'arp:notOwned': 4 } }),
        owned: () => new Map([
          ['203.0.113.10', new Set(['eth1', 'eth0'])],
          ['2001:db8::10', new Set(['eth1'])],
        ]),
      },
      bgp: {
        sessions: () => [
          { peer: 'router-b', state: 'Active' },
          { peer: 'router-a', state: 'Established' },
        ],
        advertised: (peer) => new Map(peer === 'router-a' ? [['203.0.113.0/32', {}], ['203.0.113.1/32', {}]] : []),
      },
      answerThreads: () => 2,
    }),
  );
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.deepEqual(samples, [
    'berth_l2_replies_total{protocol="arp"} 7',
    'berth_l2_replies_total{protocol="ndp"} 2',
    'berth_l2_dropped_frames_total{protocol="arp",reason="notOwned"} 4',
    'berth_l2_dropped_frames_total{protocol="ndp",reason="badChecksum"} 1',
    'berth_l2_announcements_total 10',
    'berth_l2_send_errors_total 1',
    'berth_l2_vip_owned{vip="2001:db8::10",interface="eth1"} 1',
    'berth_l2_vip_owned{vip="203.0.113.10",interface="eth0"} 1',
    'berth_l2_vip_owned{vip="203.0.113.10",interface="eth1"} 1',
    'berth_l2_answer_threads 2',
    'berth_bgp_session_up{peer="router-a"} 1',
    'berth_bgp_session_up{peer="router-b"} 0',
    'berth_bgp_announced_prefixes{peer="router-a"} 2',
    'berth_bgp_announced_prefixes{peer="router-b"} 0',
  ]);
  assert.match(text, /^# TYPE berth_l2_replies_total counter$/m);
  assert.match(text, /^# TYPE berth_bgp_session_up gauge$/m);
});

test('controller families: leader, ready and the write counters', () => {
  const text = renderExposition(controllerFamilies({ isLeader: () => true, ready: () => false, stats: () => ({ statusWrites: 5, poolStatusWrites: 2, allocations: 4 }) }));
  assert.deepEqual(
    text.split('\n').filter((l) => l !== '' && !l.startsWith('#')),
    ['berth_controller_leader 1', 'berth_controller_ready 0', 'berth_controller_allocations_total 4', 'berth_controller_service_status_writes_total 5', 'berth_controller_pool_status_writes_total 2'],
  );
});
