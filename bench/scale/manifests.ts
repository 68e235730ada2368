// Generates the scale benchmark's manifests: N LoadBalancer Services in one MetalLB BGP pool (a /15,
// 131,072 addresses), one BGPPeer, one BGPAdvertisement and the nodes. Pure text out; the runner writes it.
//   services.yaml  the Services (one document each)
//   config.yaml    pool, advertisement, peer(s), nodes
export interface ScaleManifestOptions {
  readonly services: number;
  readonly nodes: readonly string[];
  /** The router the speakers peer with. */
  readonly peer: { readonly address: string; readonly asn: number };
  readonly myASN: number;
  /** Pool CIDR; default 198.18.0.0/15 is NOT a documentation range, so callers pass their own. */
  readonly pool: string;
  /** Extra pools (name -> CIDR) for churn that moves Services between pools. */
  readonly extraPools?: Readonly<Record<string, string>>;
}

export function serviceDoc(i: number, pool?: string): string {
  const name = `svc-${String(i).padStart(6, '0')}`;
  const ann = pool === undefined ? '' : `\n  annotations:\n    metallb.io/address-pool: ${pool}`;
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: scale${ann}\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n    protocol: TCP\n`;
}

export function servicesYaml(count: number, from = 0): string {
  const docs: string[] = [];
  for (let i = from; i < from + count; i++) docs.push(serviceDoc(i));
  return docs.join('---\n');
}

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
  return docs.join('---\n');
}
