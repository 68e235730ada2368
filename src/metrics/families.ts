// What `berth speaker` and `berth controller` expose on /metrics (exposition.ts renders it). Built from
// the engines' own counters and state at scrape time; nothing is counted twice or kept here.
//
// Speaker:
//   berth_l2_replies_total{protocol="arp"|"ndp"}            counter  answers sent (ARP replies, NAs)
//   berth_l2_dropped_frames_total{protocol,reason}           counter  frames not answered, by drop reason
//                                                                     (docs/layer2.md; reasons seen so far)
//   berth_l2_announcements_total                             counter  gratuitous ARP / unsolicited NA frames
//   berth_l2_send_errors_total                               counter  sends the kernel refused
//   berth_l2_vip_owned{vip,interface}                        gauge    1 per VIP and interface answered for
//   berth_l2_answer_threads                                  gauge    per-CPU answer threads running
//   berth_bgp_session_up{peer}                               gauge    1 when Established
//   berth_bgp_announced_prefixes{peer}                       gauge    prefixes sent to the peer
//   berth_bfd_session_up{peer}                               gauge    1 when the peer's BFD session is Up
//   berth_bfd_session_state{peer,state}                      gauge    1 for the current RFC 5880 state
//   berth_bfd_session_down_events_total{peer}                counter  Up -> not Up transitions
//   berth_bfd_detection_time_seconds{peer}                   gauge    detection time in force (0: none)
//   berth_liveness_*, berth_l2_takeovers_total, ...          with liveness on: src/liveness/runtime.ts
//                                                                     families() (docs/liveness.md "Metrics")
// Controller:
//   berth_controller_leader, berth_controller_ready          gauge    1 / 0
//   berth_controller_allocations_total                       counter  IPs assigned to Services
//   berth_controller_service_status_writes_total             counter  Service status writes
//   berth_controller_pool_status_writes_total                counter  pool / Eip status writes
import type { MetricFamily, Sample } from './exposition.ts';

export interface L2MetricsSource {
  stats(): {
    readonly arpReplies: number;
    readonly ndpReplies: number;
    readonly announcementsSent: number;
    readonly sendErrors: number;
    readonly drops: Readonly<Record<string, number>>;
  };
  owned(): ReadonlyMap<string, ReadonlySet<string>>;
}

export interface BgpMetricsSource {
  sessions(): readonly { readonly peer: string; readonly state: string }[];
  advertised(peer: string): ReadonlyMap<string, unknown>;
}

export interface BfdMetricsSource {
  bfdSessions(): readonly {
    readonly peer: string;
    readonly state: string;
    readonly downTransitions: number;
    readonly detectionTimeUs: number;
  }[];
}

/** RFC 5880 §4.1 states, for berth_bfd_session_state. */
const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

export interface SpeakerMetricsSource {
  readonly l2: L2MetricsSource;
  readonly bgp: BgpMetricsSource;
  /** BFD sessions (src/bgp/bfd); absent: no BFD families. */
  readonly bfd?: BfdMetricsSource;
  /** Per-CPU answer threads running (0 when answering on the main thread). */
  readonly answerThreads: () => number;
}

export function speakerFamilies(src: SpeakerMetricsSource): MetricFamily[] {
  const s = src.l2.stats();
  const drops: Sample[] = Object.entries(s.drops)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => {
      const [protocol = '', reason = ''] = key.split(':');
      return { labels: { protocol, reason }, value };
    });
  const owned: Sample[] = [...src.l2.owned()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([vip, ifaces]) => [...ifaces].sort().map((iface) => ({ labels: { vip, interface: iface }, value: 1 })));
  const sessions = [...src.bgp.sessions()].sort((a, b) => a.peer.localeCompare(b.peer));
  const bfd = [...(src.bfd?.bfdSessions() ?? [])].sort((a, b) => a.peer.localeCompare(b.peer));
  const bfdFamilies: MetricFamily[] =
    src.bfd === undefined
      ? []
      : [
          { name: 'berth_bfd_session_up', help: 'BFD session with the peer Up (1) or not (0).', type: 'gauge', samples: bfd.map((x) => ({ labels: { peer: x.peer }, value: x.state === 'Up' ? 1 : 0 })) },
          {
            name: 'berth_bfd_session_state',
            help: 'The BFD session state (RFC 5880 §4.1): 1 for the current state, 0 for the others.',
            type: 'gauge',
            samples: bfd.flatMap((x) => BFD_STATES.map((state) => ({ labels: { peer: x.peer, state }, value: x.state === state ? 1 : 0 }))),
          },
          { name: 'berth_bfd_session_down_events_total', help: 'BFD sessions leaving Up.', type: 'counter', samples: bfd.map((x) => ({ labels: { peer: x.peer }, value: x.downTransitions })) },
          {
            name: 'berth_bfd_detection_time_seconds',
            help: 'BFD detection time in force (remote multiplier x agreed interval, RFC 5880 §6.8.4); 0 before the peer was heard.',
            type: 'gauge',
            samples: bfd.map((x) => ({ labels: { peer: x.peer }, value: x.detectionTimeUs / 1e6 })),
          },
        ];
  return [
    {
      name: 'berth_l2_replies_total',
      help: 'ARP replies and Neighbor Advertisements sent in answer to requests for owned VIPs.',
      type: 'counter',
      samples: [
        { labels: { protocol: 'arp' }, value: s.arpReplies },
        { labels: { protocol: 'ndp' }, value: s.ndpReplies },
      ],
    },
    { name: 'berth_l2_dropped_frames_total', help: 'ARP and NDP frames received and not answered, by drop reason.', type: 'counter', samples: drops },
    { name: 'berth_l2_announcements_total', help: 'Gratuitous ARP and unsolicited Neighbor Advertisement frames sent.', type: 'counter', samples: [{ value: s.announcementsSent }] },
    { name: 'berth_l2_send_errors_total', help: 'Layer 2 frames the kernel refused to send.', type: 'counter', samples: [{ value: s.sendErrors }] },
    { name: 'berth_l2_vip_owned', help: 'VIPs this node answers ARP/NDP for, per interface (1 each).', type: 'gauge', samples: owned },
    { name: 'berth_l2_answer_threads', help: 'Per-CPU ARP/NDP answer threads running.', type: 'gauge', samples: [{ value: src.answerThreads() }] },
    {
      name: 'berth_bgp_session_up',
      help: 'BGP session with the peer Established (1) or not (0).',
      type: 'gauge',
      samples: sessions.map((x) => ({ labels: { peer: x.peer }, value: x.state === 'Established' ? 1 : 0 })),
    },
    {
      name: 'berth_bgp_announced_prefixes',
      help: 'Prefixes currently sent to the peer.',
      type: 'gauge',
      samples: sessions.map((x) => ({ labels: { peer: x.peer }, value: src.bgp.advertised(x.peer).size })),
    },
    ...bfdFamilies,
  ];
}

export interface ControllerMetricsSource {
  isLeader(): boolean;
  ready(): boolean;
  stats(): { readonly statusWrites: number; readonly poolStatusWrites: number; readonly allocations: number };
}

export function controllerFamilies(c: ControllerMetricsSource): MetricFamily[] {
  const s = c.stats();
  return [
    { name: 'berth_controller_leader', help: 'This controller holds the leader Lease (1) or not (0).', type: 'gauge', samples: [{ value: c.isLeader() ? 1 : 0 }] },
    { name: 'berth_controller_ready', help: 'Caches synced and, when leading, the allocator rebuilt (1) or not (0).', type: 'gauge', samples: [{ value: c.ready() ? 1 : 0 }] },
    { name: 'berth_controller_allocations_total', help: 'IP addresses assigned to Services.', type: 'counter', samples: [{ value: s.allocations }] },
    { name: 'berth_controller_service_status_writes_total', help: 'Service status writes.', type: 'counter', samples: [{ value: s.statusWrites }] },
    { name: 'berth_controller_pool_status_writes_total', help: 'IPAddressPool and Eip status writes.', type: 'counter', samples: [{ value: s.poolStatusWrites }] },
  ];
}
