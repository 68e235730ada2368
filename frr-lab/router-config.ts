// The default frr.conf of the lab router: an eBGP (or iBGP) router that accepts BGP sessions from
// any node on the LAN (dynamic neighbours, `bgp listen range`), installs what they announce with
// ECMP, and needs no policy to do so. Tests that want something else pass their own frrConfig or
// call lab.router.reload().
import { LAN } from './plan.ts';
import type { HostPlan } from './plan.ts';

export interface RouterConfigOptions {
  readonly asn: number;
  readonly routerId: string;
  readonly nodes: readonly HostPlan[];
  /** The nodes' AS: a number, or 'internal' / 'external'. */
  readonly nodeAsn: number | 'internal' | 'external';
  readonly bfd: boolean;
  /** Extra lines appended inside `router bgp`. */
  readonly extraBgp?: readonly string[];
}

export function routerConfig(o: RouterConfigOptions): string {
  const remote = String(o.nodeAsn);
  return [
    'frr defaults datacenter',
    'hostname lab-router',
    'log timestamp precision 3',
    '!',
    'ip forwarding',
    'ipv6 forwarding',
    '!',
    `router bgp ${o.asn}`,
    ` bgp router-id ${o.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    ' neighbor NODES peer-group',
    ` neighbor NODES remote-as ${remote}`,
    ...(o.bfd ? [' neighbor NODES bfd'] : []),
    ' neighbor NODES6 peer-group',
    ` neighbor NODES6 remote-as ${remote}`,
    ...(o.bfd ? [' neighbor NODES6 bfd'] : []),
    ` bgp listen range ${LAN.v4Prefix}.0/${LAN.v4Len} peer-group NODES`,
    ` bgp listen range ${LAN.v6Prefix}/${LAN.v6Len} peer-group NODES6`,
    ...(o.extraBgp ?? []),
    ' !',
    ' address-family ipv4 unicast',
    '  neighbor NODES activate',
    '  maximum-paths 64',
    '  maximum-paths ibgp 64',
    ' exit-address-family',
    ' !',
    ' address-family ipv6 unicast',
    '  neighbor NODES6 activate',
    '  maximum-paths 64',
    '  maximum-paths ibgp 64',
    ' exit-address-family',
    'exit',
    '!',
    ...(o.bfd ? ['bfd', 'exit', '!'] : []),
    'end',
    '',
  ].join('\n');
}
