// The local cloud's certificate authority (cloud.md CL-22, CL-66): one ECDSA P-256 CA created once in
// <dataDir>/pki/, a server certificate for the device-facing endpoints, and device certificates whose
// subject CN is the thing name. Devices trust ca.pem (their rootCaPath); the servers trust only this CA.
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
type Key = webcrypto.CryptoKey;

export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

export interface ServerIdentity extends IssuedCertificate {
  caPem: string;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

async function newKeys(): Promise<{ publicKey: Key; privateKey: Key }> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as {
    publicKey: Key;
    privateKey: Key;
  };
}

async function keyPem(key: Key): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** The CA of one data directory: loaded from <dataDir>/pki/ or created there the first time. */
export class LocalCa {
  private constructor(
    readonly dir: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: Key,
  ) {}

  /** Path of the CA certificate, the devices' rootCaPath. */
  get caPath(): string {
    return join(this.dir, 'ca.pem');
  }

  get caPem(): string {
    return this.cert.toString('pem');
  }

  static async open(dataDir: string): Promise<LocalCa> {
    const dir = join(dataDir, 'pki');
    const certPath = join(dir, 'ca.pem');
    const keyPath = join(dir, 'ca.key');
    if (existsSync(certPath) && existsSync(keyPath)) {
      const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
      const der = x509.PemConverter.decodeFirst(readFileSync(keyPath, 'utf8'));
      const key = (await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])) as Key;
      return new LocalCa(dir, cert, key);
    }
    mkdirSync(dir, { recursive: true });
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=Tendril Local Cloud CA, O=Tendril',
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 3650 * DAY_MS),
      keys: keys as unknown as CryptoKeyPairLike,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      ],
    });
    // Key first, certificate last: a half-written CA is never taken for a complete one.
    writeFileSync(keyPath, await keyPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(certPath, cert.toString('pem'));
    return new LocalCa(dir, cert, keys.privateKey);
  }

  private async issue(
    subject: string,
    extensions: x509.Extension[],
    days: number,
  ): Promise<IssuedCertificate> {
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: this.cert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + days * DAY_MS),
      signingKey: this.key as never,
      publicKey: keys.publicKey as never,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert as never),
        ...extensions,
      ],
    });
    return { certificatePem: cert.toString('pem'), privateKeyPem: await keyPem(keys.privateKey) };
  }

  /** A device certificate: CN = thing name, client authentication only. */
  issueDevice(thingName: string): Promise<IssuedCertificate> {
    return this.issue(
      `CN=${thingName}`,
      [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
      3650,
    );
  }

  /** A server certificate for the device-facing endpoints, with SANs for localhost, 127.0.0.1 and `hosts`. */
  async issueServer(hosts: string[]): Promise<ServerIdentity> {
    const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts])];
    const issued = await this.issue(
      'CN=Tendril Local Cloud',
      [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((n) =>
            isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
          ),
        ),
      ],
      825,
    );
    return { ...issued, caPem: this.caPem };
  }
}

type CryptoKeyPairLike = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
