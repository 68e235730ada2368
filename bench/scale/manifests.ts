// Generates the scale benchmark's manifests: N LoadBalancer Services in one MetalLB BGP pool, one
// BGPPeer, one BGPAdvertisement and the nodes. Pure text out; the runner writes it.
//   services.yaml  the Services (one document each)
//   config.yaml    pools, advertisement, peer(s), nodes
// The benchmark's pools are carved from 198.18.0.0/15 (RFC 2544 benchmarking range): routes only,
// announced to a router inside the lab's namespaces, never carried anywhere else.
export interface ScaleManifestOptions {
  readonly services: number;
  readonly nodes: readonly string[];
  /** The router the speakers peer with. */
  readonly peer: { readonly address: string; readonly asn: number };
  readonly myASN: number;
  /** The main pool's addresses (a CIDR or a `first-last` range), pool name `scale`. */
  readonly pool: string;
  /** Extra pools (name -> CIDR or range) for churn that moves Services between pools. */
  readonly extraPools?: Readonly<Record<string, string>>;
}

export interface ServiceDocOptions {
  /** Pin the IP (metallb.io/loadBalancerIPs), so adding or removing another Service never moves it. */
  readonly ip?: string;
  /** metallb.io/address-pool */
  readonly pool?: string;
}

export const serviceName = (i: number): string => `svc-${String(i).padStart(6, '0')}`;

export function serviceDoc(i: number, o: ServiceDocOptions = {}): string {
  const ann = [
    ...(o.pool === undefined ? [] : [`    metallb.io/address-pool: ${o.pool}`]),
    ...(o.ip === undefined ? [] : [`    metallb.io/loadBalancerIPs: ${o.ip}`]),
  ];
  const annotations = ann.length === 0 ? '' : `\n  annotations:\n${ann.join('\n')}`;
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${serviceName(i)}\n  namespace: scale${annotations}\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n    protocol: TCP\n`;
}

/** Services `from` .. `from + count - 1`; `ipOf` pins each one's IP when given. */
export function servicesYaml(count: number, from = 0, ipOf?: (i: number) => string): string {
  const docs: string[] = [];
  for (let i = from; i < from + count; i++) docs.push(serviceDoc(i, ipOf === undefined ? {} : { ip: ipOf(i) }));
  return joinDocuments(docs);
}

export const joinDocuments = (docs: Iterable<string>): string => [...docs].join('---\n');

export function configYaml(o: ScaleManifestOptions): string {
  const pools = { scale: o.pool, ...o.extraPools };
  const docs: string[] = [];
  for (const [name, cidr] of Object.entries(pools)) {
    docs.push(`apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: ${name}\n  namespace: metallb-system\nspec:\n  addresses:\n  - ${cidr}\n`);
  }
  docs.push(`apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: all\n  namespace: metallb-system\n`);
  docs.push(`apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: router\n  namespace: metallb-system\nspec:\n  myASN: ${o.myASN}\n  peerASN: ${o.peer.asn}\n  peerAddress: ${o.peer.address}\n`);
  for (const n of o.nodes) {
    docs.push(`apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n  labels:\n    kubernetes.io/hostname: ${n}\nstatus:\n  conditions:\n  - type: Ready\n    status: "True"\n`);
  }
  return joinDocuments(docs);
}
