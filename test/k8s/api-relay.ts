// The API server for speakers in node namespaces (test/k8s/liveness.test.ts, handoff.test.ts): the
// harness's API server listens in the root namespace; a Unix socket relays to it, and a small TCP relay
// in each node namespace listens on 127.0.0.1:port and forwards to the socket. Killing a node's relay
// cuts that speaker off the API server.
import { createServer, connect, type Server } from 'node:net';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';

export function unixToApi(path: string, port: number): Promise<Server> {
  const server = createServer((c) => {
    const up = connect(port, '127.0.0.1');
    c.pipe(up);
    up.pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

export function spawnNsRelay(lab: Lab, node: LabHost, port: number, sock: string): SpawnedProcess {
  const script = `const net=require('net');net.createServer(c=>{const u=net.connect(${JSON.stringify(sock)});c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(${String(port)},'127.0.0.1');`;
  return lab.spawn(node, [process.execPath, '-e', script]);
}
