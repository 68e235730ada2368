// Throw-away PKI for one test API server: a self-signed CA, a serving certificate for 127.0.0.1 (and the
// bind address, when another) signed by
// it (openssl; node:crypto cannot issue X.509), and the service-account signing key pair (node:crypto).
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountPublicKey: string;
  readonly serviceAccountPrivateKey: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** Writes every file into `dir` and returns their paths. Certificates live one day. */
export async function createPki(dir: string, extraIps: readonly string[] = []): Promise<Pki> {
  const p = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1',
    '-subj', '/CN=berth-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl(['req', ...ec, '-keyout', p('serving.key'), '-out', p('serving.csr'), '-subj', '/CN=kube-apiserver']);
  await writeFile(
    p('serving.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${['IP:127.0.0.1', ...extraIps.map((ip) => `IP:${ip}`), 'DNS:localhost', 'DNS:kubernetes.default.svc'].join(',')}`,
      '',
    ].join('\n'),
  );
  await openssl([
    'x509', '-req', '-in', p('serving.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('serving.crt'), '-days', '1', '-extfile', p('serving.ext'),
  ]);
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(p('sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(p('sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    caCert: p('ca.crt'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    serviceAccountPublicKey: p('sa.pub'),
    serviceAccountPrivateKey: p('sa.key'),
  };
}
