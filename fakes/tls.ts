// A throwaway self-signed certificate for 127.0.0.1 (openssl), for tests of TLS over loopback.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface TestCertificate {
  /** Where tls.crt and tls.key were written. */
  dir: string;
  cert: Buffer;
  key: Buffer;
}

export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(`${tmpdir()}/qj-tls-`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=qinling-jobs-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      `${dir}/tls.key`,
      '-out',
      `${dir}/tls.crt`,
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert: readFileSync(`${dir}/tls.crt`), key: readFileSync(`${dir}/tls.key`) };
}
