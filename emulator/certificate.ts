/**
 * A self-signed TLS certificate for `localhost`.
 *
 * msal-node refuses `http:` authorities, so the Entra emulator must speak HTTPS. The certificate is built by
 * `selfsigned` (on @peculiar/x509 and Node's WebCrypto) and is its own CA (basicConstraints CA:TRUE), so a client
 * trusts
 * it by adding it to its CA list (`NODE_EXTRA_CA_CERTS`, `tls.setDefaultCACertificates`).
 */
import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Creates a self-signed ECDSA P-256 certificate valid for `DNS:localhost`, `IP:127.0.0.1` and `IP:::1` (subject
 * `CN=localhost` unless `commonName` says otherwise).
 * P-256 rather than RSA because it is generated in about a millisecond.
 */
export async function createLocalhostCertificate(
  options: { validDays?: number; commonName?: string } = {},
): Promise<SelfSignedCertificate> {
  // Back-date by an hour so a client whose clock is slightly behind still accepts it.
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + (options.validDays ?? 30) * 24 * 60 * 60 * 1000);
  // A second self-signed anchor with the same subject would shadow the first in OpenSSL's trust store (it looks issuers
  // up by subject), so another local server trusted alongside the emulator's passes its own `commonName`.
  const pems = await generate([{ name: "commonName", value: options.commonName ?? "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true }, // its own trust anchor
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      // Clients match host names against the SAN only, never the CN.
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  new X509Certificate(pems.cert); // fail here, not in a TLS handshake, if the certificate is ever malformed
  return { certPem: pems.cert, keyPem: pems.private };
}
