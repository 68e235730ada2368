// What the real-node tests run besides berth: an address pool, a tiny HTTP backend behind a LoadBalancer
// Service, and a client pod that fetches through the Service's address. Backend and client use the berth
// image's own node binary (`node -e`), so no other image is needed. All addresses are documentation ranges.
import { readFileSync, readdirSync } from 'node:fs';
import type { RealNode } from './node.ts';
import { lan, waitFor } from './node.ts';

export const appNamespace = 'berth-node-app';
export const clientNamespace = 'berth-node-client';
export const poolRange = '198.51.100.200/29';

const restricted = {
  runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};

const list = (items: readonly unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

export function poolManifests(namespace = 'berth-system'): string {
  return list([
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'node-test-pool', namespace }, spec: { addresses: [poolRange] } },
    // On the LAN veth only: without `interfaces` every eligible interface answers, the machine's own too.
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'node-test-l2', namespace }, spec: { ipAddressPools: ['node-test-pool'], interfaces: [lan.hostIface] } },
  ]);
}

export function serviceManifest(name: string): string {
  return list([{
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: appNamespace },
    spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  }]);
}

/** Namespace, a one-replica HTTP server answering `hello from <pod name>`, and the Service `web`. */
export function appManifests(image: string): string {
  const server = "require('http').createServer((q, s) => s.end('hello from ' + require('os').hostname())).listen(8080)";
  return list([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: appNamespace } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: appNamespace },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'web', image, imagePullPolicy: 'IfNotPresent', command: ['node', '-e', server],
              ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              securityContext: restricted,
            }],
          },
        },
      },
    },
    JSON.parse(serviceManifest('web')).items[0],
  ]);
}

/** The first ingress IP of Service `name`, or undefined while it has none. */
export async function vipOf(node: RealNode, name = 'web'): Promise<string | undefined> {
  const r = await node.kubectl(['get', 'service', name, '-n', appNamespace, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
  const ip = r.stdout.trim();
  return r.code === 0 && ip !== '' ? ip : undefined;
}

/**
 * Runs a pod in the client namespace that fetches http://VIP/ (retrying inside the pod until an answer,
 * at most 60 s) and returns the body it got (the pod's termination message). Throws with what the pod saw.
 */
export async function fetchThroughVip(node: RealNode, vip: string, tag: string): Promise<string> {
  const name = `client-${tag}`;
  const script = [
    "const fs = require('fs');",
    'let last = "";',
    '(async () => {',
    '  for (let i = 0; i < 120; i++) {',
    `    try { const r = await fetch('http://${vip}/', { signal: AbortSignal.timeout(2000) }); const t = await r.text();`,
    "      if (r.status === 200) { fs.writeFileSync('/dev/termination-log', t); process.exit(0); } last = 'HTTP ' + r.status; }",
    '    catch (e) { last = String(e.cause ?? e); }',
    '    await new Promise((res) => setTimeout(res, 500));',
    '  }',
    "  fs.writeFileSync('/dev/termination-log', 'no answer: ' + last); process.exit(1);",
    '})();',
  ].join('\n');
  await node.kubectlOk(['apply', '-f', '-'], {
    stdin: list([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: clientNamespace } },
      {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: clientNamespace },
        spec: {
          restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
          containers: [{ name: 'client', image: node.berthImage, imagePullPolicy: 'IfNotPresent', command: ['node', '-e', script], securityContext: restricted }],
        },
      },
    ]),
  });
  const result = await waitFor(`pod ${clientNamespace}/${name} to finish`, 120_000, async () => {
    const r = await node.kubectl(['get', 'pod', name, '-n', clientNamespace, '-o', 'json']);
    if (r.code !== 0) return undefined;
    const pod = JSON.parse(r.stdout) as { status: { phase: string; containerStatuses?: { state: { terminated?: { message?: string } } }[] } };
    if (pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed') return undefined;
    return { phase: pod.status.phase, message: pod.status.containerStatuses?.[0]?.state.terminated?.message ?? '' };
  }, () => node.logs(10));
  await node.kubectl(['delete', 'pod', name, '-n', clientNamespace, '--wait=false']);
  if (result.phase !== 'Succeeded') throw new Error(`the client pod got no answer through ${vip}: ${result.message}`);
  return result.message;
}

export async function getJson(node: RealNode, args: readonly string[]): Promise<Record<string, unknown>> {
  return JSON.parse(await node.kubectlOk([...args, '-o', 'json'])) as Record<string, unknown>;
}

/** Names of berth's pods in berth-system matching a label selector. */
export async function berthPods(node: RealNode, selector: string): Promise<string[]> {
  const out = await node.kubectlOk(['get', 'pods', '-n', 'berth-system', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(' ').filter((x) => x !== '');
}

export async function controllerLeaseHolder(node: RealNode): Promise<string> {
  const r = await node.kubectl(['get', 'lease', 'berth-controller', '-n', 'berth-system', '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** true once 2/2 controllers and 1/1 speaker of the current generation are Ready (their probes pass). */
export async function berthReady(node: RealNode): Promise<true | undefined> {
  const d = await getJson(node, ['get', 'deployment', 'berth-controller', '-n', 'berth-system']);
  const ds = await getJson(node, ['get', 'daemonset', 'berth-speaker', '-n', 'berth-system']);
  const dStatus = d['status'] as Record<string, number | undefined>;
  const dsStatus = ds['status'] as Record<string, number | undefined>;
  const gen = (o: Record<string, unknown>): number => (o['metadata'] as { generation: number }).generation;
  const ok =
    dStatus['observedGeneration'] === gen(d) && dStatus['readyReplicas'] === 2 && dStatus['updatedReplicas'] === 2 && dStatus['replicas'] === 2 &&
    dsStatus['observedGeneration'] === gen(ds) && dsStatus['numberReady'] === 1 && dsStatus['updatedNumberScheduled'] === 1 && (dsStatus['numberUnavailable'] ?? 0) === 0;
  return ok ? true : undefined;
}

export interface ProcessSecurity {
  readonly pid: number;
  readonly uid: number;
  /** Effective capability mask. */
  readonly capEff: bigint;
  readonly capBnd: bigint;
  readonly noNewPrivs: boolean;
}

/**
 * The kernel's view of berth's processes in the node's pods, read from the host's /proc: every process whose
 * command line is `/usr/local/bin/node /usr/local/bin/berth <command>` (the image's entry point) and whose
 * cgroup is a kubelet pod's.
 */
export function berthProcesses(command: 'controller' | 'speaker'): ProcessSecurity[] {
  const out: ProcessSecurity[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== '/usr/local/bin/node' || argv[1] !== '/usr/local/bin/berth' || argv[2] !== command) continue;
      if (!readFileSync(`/proc/${e}/cgroup`, 'utf8').includes('kubepods')) continue;
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      out.push({
        pid: Number(e),
        uid: Number(field('Uid').split(/\s+/)[1]),
        capEff: BigInt(`0x${field('CapEff')}`),
        capBnd: BigInt(`0x${field('CapBnd')}`),
        noNewPrivs: field('NoNewPrivs') === '1',
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** linux/capability.h */
export const CAP_NET_ADMIN = 12n;
export const CAP_NET_RAW = 13n;
