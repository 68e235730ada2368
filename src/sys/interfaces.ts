// Interface facts for the L2 responders: what interfaces exist, their MAC, flags, bridge/bond master,
// addresses; which interface holds an IP; which interface the kernel would use to reach an IP.
// Sources: /sys/class/net (per network namespace), os.networkInterfaces(), and `ip -j route get`
// (iproute2) for the routing question. All in the caller's network namespace.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import net from 'node:net';
import { SysError, SysErrorKind } from './errors.ts';

/** linux/if.h net_device_flags used here. */
const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  NOARP: 0x80,
  PROMISC: 0x100,
  MULTICAST: 0x1000,
} as const;

export interface InterfaceFlags {
  readonly up: boolean;
  /** Administratively up and the link has carrier. */
  readonly running: boolean;
  readonly loopback: boolean;
  readonly noarp: boolean;
  readonly broadcast: boolean;
  readonly multicast: boolean;
  readonly promisc: boolean;
}

export interface InterfaceAddress {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
  /** IPv6 only: true for fe80::/10. */
  readonly linkLocal: boolean;
}

/** Kinds recognised cheaply from sysfs; undefined when not recognised (veth, physical, ...). */
export type InterfaceKind = 'bridge' | 'bond' | 'vlan' | 'loopback' | 'other';

export interface InterfaceInfo {
  readonly name: string;
  readonly index: number;
  /** Lower-case 'aa:bb:cc:dd:ee:ff'; '' when the interface has no Ethernet address. */
  readonly mac: string;
  readonly mtu: number;
  readonly flags: InterfaceFlags;
  /** The bridge or bond this interface is enslaved to, if any. */
  readonly master: string | undefined;
  readonly kind: InterfaceKind | undefined;
  readonly addresses: readonly InterfaceAddress[];
}

const SYS_NET = '/sys/class/net';
const ARPHRD_ETHER = 1;

async function readTrim(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}

async function kindOf(name: string, flags: number): Promise<InterfaceKind | undefined> {
  if ((flags & IFF.LOOPBACK) !== 0) return 'loopback';
  if (await exists(`${SYS_NET}/${name}/bridge`)) return 'bridge';
  if (await exists(`${SYS_NET}/${name}/bonding`)) return 'bond';
  const uevent = (await readTrim(`${SYS_NET}/${name}/uevent`)) ?? '';
  const m = /^DEVTYPE=(.*)$/m.exec(uevent);
  if (m?.[1] === 'vlan') return 'vlan';
  return m === null ? undefined : 'other';
}

async function readInterface(name: string): Promise<InterfaceInfo | undefined> {
  const dir = `${SYS_NET}/${name}`;
  const index = Number(await readTrim(`${dir}/ifindex`));
  if (!Number.isInteger(index) || index <= 0) return undefined; // vanished meanwhile
  const flagsRaw = Number.parseInt((await readTrim(`${dir}/flags`)) ?? '0', 16);
  const carrier = (await readTrim(`${dir}/carrier`)) === '1';
  // Only Ethernet-like links (ARPHRD_ETHER, linux/if_arp.h) have a MAC for ARP/NDP.
  const mac = Number(await readTrim(`${dir}/type`)) === ARPHRD_ETHER ? ((await readTrim(`${dir}/address`)) ?? '').toLowerCase() : '';
  let master: string | undefined;
  try {
    master = basename(await readlink(`${dir}/master`));
  } catch {
    master = undefined;
  }
  const os = networkInterfaces()[name] ?? [];
  const addresses: InterfaceAddress[] = os.map((a) => ({
    family: a.family === 'IPv4' ? 4 : 6,
    address: a.address,
    prefixLength: Number((a.cidr ?? '/0').split('/')[1] ?? 0),
    linkLocal: a.family === 'IPv6' && /^fe[89ab]/i.test(a.address),
  }));
  const up = (flagsRaw & IFF.UP) !== 0;
  return {
    name,
    index,
    mac,
    mtu: Number(await readTrim(`${dir}/mtu`)),
    flags: {
      up,
      running: up && (carrier || (flagsRaw & IFF.LOOPBACK) !== 0),
      loopback: (flagsRaw & IFF.LOOPBACK) !== 0,
      noarp: (flagsRaw & IFF.NOARP) !== 0,
      broadcast: (flagsRaw & IFF.BROADCAST) !== 0,
      multicast: (flagsRaw & IFF.MULTICAST) !== 0,
      promisc: (flagsRaw & IFF.PROMISC) !== 0,
    },
    master,
    kind: await kindOf(name, flagsRaw),
    addresses,
  };
}

/** Every interface of the current network namespace, by index. */
export async function listInterfaces(): Promise<readonly InterfaceInfo[]> {
  const names = await readdir(SYS_NET);
  const all = await Promise.all(names.map((n) => readInterface(n)));
  return all.filter((i): i is InterfaceInfo => i !== undefined).sort((a, b) => a.index - b.index);
}

/** One interface by name, or undefined. */
export async function getInterface(name: string): Promise<InterfaceInfo | undefined> {
  if (!/^[^/\s]{1,15}$/.test(name)) return undefined;
  return readInterface(name);
}

/** The interface that has `ip` configured on it, or undefined. */
export async function interfaceHolding(ip: string): Promise<InterfaceInfo | undefined> {
  if (net.isIP(ip) === 0) throw new SysError(SysErrorKind.invalid, `not an IP address: ${JSON.stringify(ip)}`);
  const family = net.isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  const wanted = new net.BlockList(); // compares addresses in any spelling ('2001:db8::1' vs '2001:DB8:0::1')
  wanted.addAddress(ip, family);
  for (const i of await listInterfaces()) {
    if (i.addresses.some((a) => (a.family === 4) === (family === 'ipv4') && wanted.check(a.address, family))) return i;
  }
  return undefined;
}

export interface RouteLookup {
  /** Outgoing interface. */
  readonly ifname: string;
  /** Next hop, when not on-link. */
  readonly gateway: string | undefined;
  /** Preferred source address. */
  readonly source: string | undefined;
  /** 'unicast', 'local', ... (kernel route type). */
  readonly type: string;
}

/** The kernel's answer to "how do I reach ip" (`ip -j route get`); undefined when unreachable. */
export function routeTo(ip: string): Promise<RouteLookup | undefined> {
  if (net.isIP(ip) === 0) return Promise.reject(new SysError(SysErrorKind.invalid, `not an IP address: ${JSON.stringify(ip)}`));
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', 'route', 'get', ip], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err !== null) {
        const text = String(stderr);
        // "RTNETLINK answers: Network is unreachable" is an answer, not a failure.
        if (/unreachable|No route/i.test(text)) {
          resolve(undefined);
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        reject(
          new SysError(SysErrorKind.syscall, `ip route get ${ip}: ${text.trim() || err.message}`, {
            code: typeof code === 'string' ? code : 'EIP',
            cause: err,
          }),
        );
        return;
      }
      const parsed = JSON.parse(String(stdout)) as readonly { dev?: string; gateway?: string; prefsrc?: string; type?: string }[];
      const r = parsed[0];
      if (r?.dev === undefined) {
        resolve(undefined);
        return;
      }
      resolve({ ifname: r.dev, gateway: r.gateway, source: r.prefsrc, type: r.type ?? 'unicast' });
    });
  });
}

/**
 * The interface of the main table's default route for a family (`ip -j route show default`; no packet
 * is sent), undefined when there is none. The first when several (lowest metric first, as listed).
 */
export function defaultRouteInterface(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', family === 'ipv6' ? '-6' : '-4', 'route', 'show', 'default'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new SysError(SysErrorKind.syscall, `ip route show default: ${String(stderr).trim() || err.message}`, { code: 'EIP', cause: err }));
        return;
      }
      const text = String(stdout).trim();
      const parsed = (text === '' ? [] : JSON.parse(text)) as readonly { dev?: string; metric?: number }[];
      const best = [...parsed].filter((r) => r.dev !== undefined).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
      resolve(best?.dev);
    });
  });
}
