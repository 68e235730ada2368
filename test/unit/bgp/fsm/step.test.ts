// Scenario tables for the pure FSM: each row feeds one event to the state left by the previous row and
// checks the state, the actions (by type, plus the details that matter) and the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialFsm,
  step,
  idleHoldMs,
  LARGE_HOLD_TIME_SEC,
  type Fsm,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type OpenView,
  type SessionState,
  type ReasonCode,
} from '../../../../src/bgp/fsm.ts';

const config: FsmConfig = {
  localAsn: 64512,
  peerAsn: 64513,
  routerId: 0xc0000201, // 192.0.2.1
  holdTimeSec: 90,
  connectRetrySec: 120,
  passive: false,
  localCapabilities: {
    fourOctetAs: 64512,
    multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: false,
  },
};

const peerOpen: OpenView = {
  version: 4,
  myAutonomousSystem: 64513,
  holdTimeSec: 30,
  bgpIdentifier: 0xc0000202,
  capabilities: {
    fourOctetAs: 64513,
    multiprotocol: [{ afi: 1, safi: 1 }],
    routeRefresh: true,
    enhancedRouteRefresh: false,
    extendedMessage: false,
  },
};

/** Actions rendered compactly: `sendOpen`, `startTimer:Hold:30000`, `sendNotification:4/0`, `down:HoldTimerExpired`. */
function show(a: FsmAction): string {
  switch (a.type) {
    case 'startTimer':
      return `startTimer:${a.timer}:${a.ms}`;
    case 'stopTimer':
      return `stopTimer:${a.timer}`;
    case 'sendNotification':
      return `sendNotification:${a.notification.code}/${a.notification.subcode}`;
    case 'down':
      return `down:${a.reason.code}`;
    case 'established':
      return `established:hold=${a.negotiated.holdTimeSec},ka=${a.negotiated.keepaliveSec}`;
    default:
      return a.type;
  }
}

interface Row {
  readonly event: FsmEvent;
  readonly state: SessionState;
  readonly reason: ReasonCode;
  /** Exact action list, when given. */
  readonly actions?: readonly string[];
  /** Actions that must be present (subset), when given. */
  readonly includes?: readonly string[];
  /** Actions that must be absent. */
  readonly excludes?: readonly string[];
  readonly counter?: number;
}

function run(name: string, rows: readonly Row[], cfg: FsmConfig = config, from?: Fsm): Fsm {
  let fsm = from ?? initialFsm(cfg);
  rows.forEach((row, i) => {
    const r = step(fsm, row.event);
    const got = r.actions.map(show);
    const where = `${name} row ${i} (${row.event.type} in ${fsm.state})`;
    assert.equal(r.fsm.state, row.state, `${where}: state`);
    assert.equal(r.reason.code, row.reason, `${where}: reason`);
    if (row.actions !== undefined) assert.deepEqual(got, row.actions, `${where}: actions`);
    for (const a of row.includes ?? []) assert.ok(got.includes(a), `${where}: missing ${a} in ${got.join(', ')}`);
    for (const a of row.excludes ?? []) assert.ok(!got.includes(a), `${where}: unexpected ${a} in ${got.join(', ')}`);
    if (row.counter !== undefined) assert.equal(r.fsm.connectRetryCounter, row.counter, `${where}: counter`);
    fsm = r.fsm;
  });
  return fsm;
}

const toEstablished: readonly Row[] = [
  {
    event: { type: 'ManualStart' },
    state: 'Connect',
    reason: 'Started',
    actions: ['stopTimer:IdleHold', 'startTimer:ConnectRetry:120000', 'connect'],
  },
  {
    event: { type: 'Tcp_CR_Acked' },
    state: 'OpenSent',
    reason: 'Connected',
    // RFC 4271 §8.2.2: OPEN sent and the hold timer set to the large value (4 minutes).
    actions: ['stopTimer:ConnectRetry', 'sendOpen', `startTimer:Hold:${LARGE_HOLD_TIME_SEC * 1000}`],
  },
  {
    event: { type: 'BGPOpen', open: peerOpen },
    state: 'OpenConfirm',
    reason: 'OpenAccepted',
    // hold = min(90, 30) = 30, keepalive = 10.
    actions: ['stopTimer:ConnectRetry', 'sendKeepalive', 'startTimer:Keepalive:10000', 'startTimer:Hold:30000'],
  },
  {
    event: { type: 'KeepAliveMsg' },
    state: 'Established',
    reason: 'KeepaliveReceived',
    actions: ['startTimer:Hold:30000', 'established:hold=30,ka=10'],
    counter: 0,
  },
];

describe('FSM: active session to Established and back', () => {
  it('reaches Established through Connect, OpenSent, OpenConfirm', () => {
    const fsm = run('up', toEstablished);
    assert.equal(fsm.negotiated?.peerAsn, 64513);
    assert.equal(fsm.negotiated?.internal, false);
    assert.deepEqual(fsm.negotiated?.families, [{ afi: 1, safi: 1 }]);
    assert.equal(fsm.negotiated?.routeRefresh, true);
    assert.equal(fsm.negotiated?.enhancedRouteRefresh, false);
  });

  it('keeps the session alive on KEEPALIVE, UPDATE, ROUTE-REFRESH and sends keepalives', () => {
    run('alive', [
      ...toEstablished,
      { event: { type: 'KeepaliveTimer_Expires' }, state: 'Established', reason: 'KeepaliveSent', actions: ['sendKeepalive', 'startTimer:Keepalive:10000'] },
      { event: { type: 'KeepAliveMsg' }, state: 'Established', reason: 'KeepaliveReceived', actions: ['startTimer:Hold:30000'] },
      { event: { type: 'UpdateMsg' }, state: 'Established', reason: 'UpdateReceived', actions: ['startTimer:Hold:30000'] },
      { event: { type: 'RouteRefreshMsg' }, state: 'Established', reason: 'RouteRefreshReceived', actions: ['startTimer:Hold:30000', 'resendTable'] },
    ]);
  });

  it('hold timer expiry sends NOTIFICATION 4, goes down and restarts after 1 s', () => {
    run('hold', [
      ...toEstablished,
      {
        event: { type: 'HoldTimer_Expires' },
        state: 'Idle',
        reason: 'HoldTimerExpired',
        actions: [
          'sendNotification:4/0',
          'dropConnection',
          'stopTimer:ConnectRetry',
          'stopTimer:Hold',
          'stopTimer:Keepalive',
          'down:HoldTimerExpired',
          'startTimer:IdleHold:1000',
        ],
        counter: 1,
      },
      { event: { type: 'IdleHoldTimer_Expires' }, state: 'Connect', reason: 'Started', includes: ['connect'], counter: 1 },
      { event: { type: 'TcpConnectionFails' }, state: 'Idle', reason: 'ConnectFailed', includes: ['startTimer:IdleHold:2000'], excludes: ['down:ConnectFailed'], counter: 2 },
    ]);
  });

  it('ManualStop sends Cease/Administrative Shutdown with the RFC 9003 message and stays down', () => {
    const fsm = run('up', toEstablished);
    const r = step(fsm, { type: 'ManualStop', communication: 'maintenance' });
    assert.equal(r.fsm.state, 'Idle');
    assert.equal(r.fsm.connectRetryCounter, 0);
    const n = r.actions.find((a) => a.type === 'sendNotification');
    assert.ok(n !== undefined && n.type === 'sendNotification');
    assert.equal(n.notification.code, 6);
    assert.equal(n.notification.subcode, 2);
    assert.deepEqual(n.notification.data, Buffer.from('\x0bmaintenance', 'latin1'));
    assert.ok(r.actions.some((a) => a.type === 'down' && a.reason.code === 'Stopped'));
    assert.ok(!r.actions.some((a) => a.type === 'startTimer'), 'a stopped session does not restart itself');
  });

  it('a received NOTIFICATION is not answered and reports the peer\'s code', () => {
    const fsm = run('up', toEstablished);
    const r = step(fsm, { type: 'NotifMsg', notification: { code: 6, subcode: 4 } });
    assert.equal(r.fsm.state, 'Idle');
    assert.ok(!r.actions.some((a) => a.type === 'sendNotification'));
    const down = r.actions.find((a) => a.type === 'down');
    assert.ok(down?.type === 'down');
    assert.equal(down.reason.code, 'NotificationReceived');
    assert.deepEqual(down.reason.notification, { code: 6, subcode: 4 });
  });

  it('an UPDATE error sends the codec\'s NOTIFICATION', () => {
    const fsm = run('up', toEstablished);
    const r = step(fsm, { type: 'UpdateMsgErr', notification: { code: 3, subcode: 1 } });
    assert.deepEqual(r.actions.map(show).slice(0, 2), ['sendNotification:3/1', 'dropConnection']);
    assert.equal(r.reason.code, 'UpdateMessageError');
  });
});

describe('FSM: OPEN validation (RFC 4271 §6.2)', () => {
  const upToOpenSent = toEstablished.slice(0, 2);
  const cases: readonly { name: string; open: OpenView; cfg?: Partial<FsmConfig>; notif: string }[] = [
    { name: 'wrong peer AS', open: { ...peerOpen, myAutonomousSystem: 65000, capabilities: { ...peerOpen.capabilities, fourOctetAs: 65000 } }, notif: '2/2' },
    { name: 'unsupported version', open: { ...peerOpen, version: 3 }, notif: '2/1' },
    { name: 'hold time 2', open: { ...peerOpen, holdTimeSec: 2 }, notif: '2/6' },
    { name: 'BGP identifier 0', open: { ...peerOpen, bgpIdentifier: 0 }, notif: '2/3' },
    {
      name: 'iBGP peer with our BGP identifier',
      open: { ...peerOpen, myAutonomousSystem: 64512, bgpIdentifier: config.routerId, capabilities: { ...peerOpen.capabilities, fourOctetAs: 64512 } },
      cfg: { peerAsn: 64512 },
      notif: '2/3',
    },
    { name: 'dynamic internal, external peer', open: peerOpen, cfg: { dynamicAsn: 'internal' }, notif: '2/2' },
    {
      name: 'dynamic external, internal peer',
      open: { ...peerOpen, myAutonomousSystem: 64512, capabilities: { ...peerOpen.capabilities, fourOctetAs: 64512 } },
      cfg: { dynamicAsn: 'external' },
      notif: '2/2',
    },
  ];
  for (const c of cases) {
    it(`${c.name} -> NOTIFICATION ${c.notif}, Idle`, () => {
      const { peerAsn: _drop, ...rest } = config;
      const base: FsmConfig = c.cfg?.dynamicAsn !== undefined ? rest : config;
      const cfg: FsmConfig = { ...base, ...c.cfg };
      const openView: OpenView = c.open.capabilities.fourOctetAs === undefined
        ? { ...c.open, capabilities: (({ fourOctetAs: _f, ...caps }) => caps)(c.open.capabilities) }
        : c.open;
      run(c.name, [
        ...upToOpenSent,
        { event: { type: 'BGPOpen', open: openView }, state: 'Idle', reason: 'OpenRejected', includes: [`sendNotification:${c.notif}`, 'dropConnection'], counter: 1 },
      ], cfg);
    });
  }

  it('unsupported version carries our version in the data', () => {
    const fsm = run('os', upToOpenSent);
    const r = step(fsm, { type: 'BGPOpen', open: { ...peerOpen, version: 5 } });
    const n = r.actions.find((a) => a.type === 'sendNotification');
    assert.ok(n?.type === 'sendNotification');
    assert.deepEqual(n.notification.data, Buffer.from([0, 4]));
  });

  it('4-octet local AS, eBGP peer without the capability (an OLD speaker): accepted, 2-octet session (RFC 6793 §4.2; test/integration/bgp-interop/exabgp.test.ts)', () => {
    const cfg: FsmConfig = { ...config, localAsn: 4200000000, localCapabilities: { ...config.localCapabilities, fourOctetAs: 4200000000 } };
    const fsm = run('old', upToOpenSent, cfg);
    const { fourOctetAs: _f, ...caps } = peerOpen.capabilities;
    const r = step(fsm, { type: 'BGPOpen', open: { ...peerOpen, capabilities: caps } });
    assert.equal(r.fsm.state, 'OpenConfirm');
    assert.equal(r.fsm.negotiated?.fourOctetAs, false);
  });

  it('accepts AS_TRANS in My AS when the 4-octet capability carries the real AS', () => {
    const cfg: FsmConfig = { ...config, peerAsn: 4200000001 };
    const fsm = run('as4', upToOpenSent, cfg);
    const r = step(fsm, {
      type: 'BGPOpen',
      open: { ...peerOpen, myAutonomousSystem: 23456, capabilities: { ...peerOpen.capabilities, fourOctetAs: 4200000001 } },
    });
    assert.equal(r.fsm.state, 'OpenConfirm');
    assert.equal(r.fsm.negotiated?.peerAsn, 4200000001);
    assert.equal(r.fsm.negotiated?.fourOctetAs, true);
  });

  it('dynamic internal accepts the same AS and marks the session internal', () => {
    const { peerAsn: _p, ...rest } = config;
    const cfg: FsmConfig = { ...rest, dynamicAsn: 'internal' };
    const fsm = run('dyn', upToOpenSent, cfg);
    const r = step(fsm, { type: 'BGPOpen', open: { ...peerOpen, myAutonomousSystem: 64512, capabilities: { ...peerOpen.capabilities, fourOctetAs: 64512 } } });
    assert.equal(r.fsm.state, 'OpenConfirm');
    assert.equal(r.fsm.negotiated?.internal, true);
  });

  it('hold time 0 negotiates no hold timer and no keepalives', () => {
    const fsm = run('h0', upToOpenSent);
    const r = step(fsm, { type: 'BGPOpen', open: { ...peerOpen, holdTimeSec: 0 } });
    assert.deepEqual(r.actions.map(show), ['stopTimer:ConnectRetry', 'sendKeepalive', 'stopTimer:Keepalive', 'stopTimer:Hold']);
    assert.equal(r.fsm.negotiated?.keepaliveSec, 0);
    const est = step(r.fsm, { type: 'KeepAliveMsg' });
    assert.deepEqual(est.actions.map(show), ['established:hold=0,ka=0']);
  });

  it('a configured keepalive is used, capped at a third of the negotiated hold', () => {
    const fsm = run('ka', upToOpenSent, { ...config, keepaliveTimeSec: 3 });
    const r = step(fsm, { type: 'BGPOpen', open: peerOpen });
    assert.equal(r.fsm.negotiated?.keepaliveSec, 3);
    const fsm2 = run('ka2', upToOpenSent, { ...config, keepaliveTimeSec: 60 });
    assert.equal(step(fsm2, { type: 'BGPOpen', open: peerOpen }).fsm.negotiated?.keepaliveSec, 10);
  });

  it('a peer without MP capabilities negotiates IPv4 unicast only', () => {
    const fsm = run('mp', upToOpenSent);
    const r = step(fsm, { type: 'BGPOpen', open: { ...peerOpen, capabilities: { ...peerOpen.capabilities, multiprotocol: [] } } });
    assert.deepEqual(r.fsm.negotiated?.families, [{ afi: 1, safi: 1 }]);
  });
});

describe('FSM: unexpected events and errors (RFC 4271 §8.2.2, RFC 6608)', () => {
  it('KEEPALIVE in OpenSent is an FSM error with subcode 1', () => {
    run('ka-os', [...toEstablished.slice(0, 2), { event: { type: 'KeepAliveMsg' }, state: 'Idle', reason: 'FsmError', includes: ['sendNotification:5/1'] }]);
  });
  it('UPDATE in OpenConfirm is an FSM error with subcode 2', () => {
    run('up-oc', [...toEstablished.slice(0, 3), { event: { type: 'UpdateMsg' }, state: 'Idle', reason: 'FsmError', includes: ['sendNotification:5/2'] }]);
  });
  it('OPEN in Established is an FSM error with subcode 3 and reports down', () => {
    run('open-est', [
      ...toEstablished,
      { event: { type: 'BGPOpen', open: peerOpen }, state: 'Idle', reason: 'FsmError', includes: ['sendNotification:5/3', 'down:FsmError'] },
    ]);
  });
  it('hold timer expiry in OpenSent sends NOTIFICATION 4 without a down event', () => {
    run('hold-os', [
      ...toEstablished.slice(0, 2),
      { event: { type: 'HoldTimer_Expires' }, state: 'Idle', reason: 'HoldTimerExpired', includes: ['sendNotification:4/0'], excludes: ['down:HoldTimerExpired'] },
    ]);
  });
  it('header error in OpenConfirm sends the given NOTIFICATION', () => {
    run('hdr', [
      ...toEstablished.slice(0, 3),
      { event: { type: 'BGPHeaderErr', notification: { code: 1, subcode: 2 } }, state: 'Idle', reason: 'HeaderError', includes: ['sendNotification:1/2'] },
    ]);
  });
  it('TCP loss in OpenSent returns to Active and retries after ConnectRetry', () => {
    run('tcp-os', [
      ...toEstablished.slice(0, 2),
      { event: { type: 'TcpConnectionFails' }, state: 'Active', reason: 'ConnectionLost', actions: ['dropConnection', 'stopTimer:Hold', 'startTimer:ConnectRetry:120000'] },
      { event: { type: 'ConnectRetryTimer_Expires' }, state: 'Connect', reason: 'ConnectRetry', actions: ['startTimer:ConnectRetry:120000', 'connect'] },
      { event: { type: 'ConnectRetryTimer_Expires' }, state: 'Connect', reason: 'ConnectRetry', actions: ['dropConnection', 'startTimer:ConnectRetry:120000', 'connect'] },
    ]);
  });
  it('Idle refuses connections and ignores messages', () => {
    run('idle', [
      { event: { type: 'TcpConnectionConfirmed' }, state: 'Idle', reason: 'Ignored', actions: ['dropConnection'] },
      { event: { type: 'KeepAliveMsg' }, state: 'Idle', reason: 'Ignored', actions: [] },
      { event: { type: 'ManualStop' }, state: 'Idle', reason: 'Ignored', actions: [] },
    ]);
  });
  it('collision dump in OpenConfirm sends Cease / Connection Collision Resolution', () => {
    run('dump', [
      ...toEstablished.slice(0, 3),
      { event: { type: 'OpenCollisionDump' }, state: 'Idle', reason: 'CollisionDump', includes: ['sendNotification:6/7', 'dropConnection'] },
    ]);
  });
});

describe('FSM: passive peers', () => {
  const passive: FsmConfig = { ...config, passive: true };
  it('wait in Active, never connect, come up on an incoming connection', () => {
    run('passive', [
      { event: { type: 'ManualStart' }, state: 'Active', reason: 'Started', actions: ['stopTimer:IdleHold'] },
      { event: { type: 'ConnectRetryTimer_Expires' }, state: 'Active', reason: 'Ignored', actions: [] },
      { event: { type: 'TcpConnectionConfirmed' }, state: 'OpenSent', reason: 'Connected', includes: ['sendOpen'] },
      { event: { type: 'TcpConnectionFails' }, state: 'Active', reason: 'ConnectionLost', excludes: ['connect', 'startTimer:ConnectRetry:120000'] },
    ], passive);
  });
});

describe('FSM: reconnect backoff (IdleHold)', () => {
  it('is 0, 1, 2, 4 ... seconds, capped at ConnectRetryTime', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 8, 40].map((n) => idleHoldMs(n, 120)), [0, 1000, 2000, 4000, 8000, 120000, 120000]);
    assert.equal(idleHoldMs(5, 5), 5000);
  });
});
