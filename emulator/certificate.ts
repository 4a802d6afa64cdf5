/**
 * A self-signed TLS certificate for `localhost`, built in plain Node.
 *
 * msal-node refuses `http:` authorities, so the Entra emulator must speak HTTPS. Node can sign but not build an X.509
 * certificate, so this file writes the few DER structures a certificate needs (RFC 5280 §4.1) by hand instead of
 * adding a dependency or spawning `openssl`. The certificate is its own CA (basicConstraints CA:TRUE), so a client
 * trusts it by adding it to its CA list (`NODE_EXTRA_CA_CERTS`, `tls.setDefaultCACertificates`).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Creates a self-signed ECDSA P-256 certificate valid for `DNS:localhost` and `IP:127.0.0.1`.
 * P-256 rather than RSA because it is generated in about a millisecond.
 */
export function createLocalhostCertificate(options: { validDays?: number } = {}): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  // Back-date by an hour so a client whose clock is slightly behind still accepts it.
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.validDays ?? 30) * 24 * 60 * 60 * 1000);
  const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(set(seq(oid("2.5.4.3"), utf8("localhost"))));

  const tbsCertificate = seq(
    explicit(0, integer(Buffer.from([2]))), // X.509 v3, needed for extensions
    integer(randomBytes(16)),
    ecdsaWithSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(
      3,
      seq(
        extension("2.5.29.19", true, seq(boolean(true))), // basicConstraints: CA, so it can be its own trust anchor
        extension("2.5.29.15", true, bitString(Buffer.from([0x84]), 2)), // keyUsage: digitalSignature, keyCertSign
        extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // extKeyUsage: serverAuth
        extension("2.5.29.14", false, octetString(createHash("sha1").update(spki).digest())), // subjectKeyIdentifier
        // subjectAltName: clients match host names against the SAN only, never the CN.
        extension("2.5.29.17", false, seq(tagged(0x82, Buffer.from("localhost")), tagged(0x87, Buffer.from([127, 0, 0, 1])))),
      ),
    ),
  );
  const signature = sign("sha256", tbsCertificate, privateKey); // DER-encoded ECDSA signature, as X.509 wants
  const certificate = seq(tbsCertificate, ecdsaWithSha256, bitString(signature));

  const certPem = toPem("CERTIFICATE", certificate);
  new X509Certificate(certPem); // fail here, not in a TLS handshake, if the encoding is ever broken
  return { certPem, keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

// --- Minimal DER encoding (ITU-T X.690) ---

function tagged(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) {
    header = Buffer.from([tag, length]);
  } else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

const seq = (...items: Buffer[]) => tagged(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tagged(0x31, Buffer.concat(items));
const explicit = (n: number, item: Buffer) => tagged(0xa0 + n, item);
const utf8 = (s: string) => tagged(0x0c, Buffer.from(s, "utf8"));
const octetString = (b: Buffer) => tagged(0x04, b);
const boolean = (b: boolean) => tagged(0x01, Buffer.from([b ? 0xff : 0]));
const bitString = (b: Buffer, unusedBits = 0) => tagged(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));

/** A positive INTEGER: a leading zero byte keeps a high first bit from reading as negative. */
function integer(value: Buffer): Buffer {
  return tagged(0x02, (value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let n = arc >>> 7; n > 0; n >>>= 7) base128.unshift((n & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tagged(0x06, Buffer.from(bytes));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"; // YYYYMMDDHHMMSSZ
  return date.getUTCFullYear() < 2050 ? tagged(0x17, Buffer.from(iso.slice(2))) : tagged(0x18, Buffer.from(iso));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
