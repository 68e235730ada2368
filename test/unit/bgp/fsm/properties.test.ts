// Properties of the FSM over random event sequences (fast-check): whatever arrives, in any order, the
// FSM answers with a legal state and actions that keep the driver's invariants.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initialFsm, step, type FsmConfig, type FsmEvent, type OpenView, type SessionState } from '../../../../src/bgp/fsm.ts';

const config: FsmConfig = {
  localAsn: 64512,
  peerAsn: 64513,
  routerId: 0xc0000201,
  holdTimeSec: 9,
  connectRetrySec: 30,
  passive: false,
  localCapabilities: { fourOctetAs: 64512, multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false },
};

const goodOpen: OpenView = {
  version: 4,
  myAutonomousSystem: 64513,
  holdTimeSec: 9,
  bgpIdentifier: 0xc0000202,
  capabilities: { fourOctetAs: 64513, multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false },
};
const badOpen: OpenView = { ...goodOpen, myAutonomousSystem: 65000, capabilities: { ...goodOpen.capabilities, fourOctetAs: 65000 } };
const n = { code: 6, subcode: 2 };

const event: fc.Arbitrary<FsmEvent> = fc.constantFrom<FsmEvent>(
  { type: 'ManualStart' },
  { type: 'ManualStop' },
  { type: 'AutomaticStart' },
  { type: 'AutomaticStop' },
  { type: 'ConnectRetryTimer_Expires' },
  { type: 'HoldTimer_Expires' },
  { type: 'KeepaliveTimer_Expires' },
  { type: 'IdleHoldTimer_Expires' },
  { type: 'Tcp_CR_Acked' },
  { type: 'TcpConnectionConfirmed' },
  { type: 'TcpConnectionFails' },
  { type: 'BGPOpen', open: goodOpen },
  { type: 'BGPOpen', open: badOpen },
  { type: 'BGPHeaderErr', notification: { code: 1, subcode: 2 } },
  { type: 'BGPOpenMsgErr', notification: { code: 2, subcode: 4 } },
  { type: 'OpenCollisionDump' },
  { type: 'NotifMsgVerErr', notification: { code: 2, subcode: 1 } },
  { type: 'NotifMsg', notification: n },
  { type: 'KeepAliveMsg' },
  { type: 'UpdateMsg' },
  { type: 'UpdateMsgErr', notification: { code: 3, subcode: 1 } },
  { type: 'RouteRefreshMsg' },
);

const STATES: readonly SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

describe('FSM properties (random event sequences)', () => {
  it('keeps its invariants', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(event, { maxLength: 60 }), (passive, events) => {
        let fsm = initialFsm({ ...config, passive });
        for (const ev of events) {
          const before = fsm.state;
          const r = step(fsm, ev);
          const types = r.actions.map((a) => a.type);
          assert.ok(STATES.includes(r.fsm.state));
          // `established` exactly when entering Established; `down` exactly when leaving it.
          assert.equal(types.includes('established'), before !== 'Established' && r.fsm.state === 'Established');
          assert.equal(types.includes('down'), before === 'Established' && r.fsm.state !== 'Established');
          // A passive FSM never dials.
          if (passive) assert.ok(!types.includes('connect'));
          // An OPEN goes out exactly when entering OpenSent.
          assert.equal(types.includes('sendOpen'), before !== 'OpenSent' && r.fsm.state === 'OpenSent');
          // A NOTIFICATION is sent only where an OPEN exchange may have started, and never answers one.
          if (types.includes('sendNotification')) {
            assert.ok(before === 'OpenSent' || before === 'OpenConfirm' || before === 'Established');
            assert.ok(ev.type !== 'NotifMsg' && ev.type !== 'NotifMsgVerErr');
          }
          // Entering Idle from a connected state stops the session timers and drops the connection.
          if (r.fsm.state === 'Idle' && before !== 'Idle') {
            for (const t of ['Hold', 'Keepalive', 'ConnectRetry']) {
              assert.ok(r.actions.some((a) => a.type === 'stopTimer' && a.timer === t), `stops ${t}`);
            }
            assert.ok(types.includes('dropConnection') || before === 'Active');
            assert.equal(r.fsm.negotiated, undefined);
          }
          // Negotiated parameters exist exactly in OpenConfirm and Established.
          assert.equal(r.fsm.negotiated !== undefined, r.fsm.state === 'OpenConfirm' || r.fsm.state === 'Established');
          // Timer durations are sane: hold 0 or >= 3 s, never negative.
          for (const a of r.actions) if (a.type === 'startTimer') assert.ok(a.ms >= 0 && (a.timer !== 'Hold' || a.ms >= 3000));
          fsm = r.fsm;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
