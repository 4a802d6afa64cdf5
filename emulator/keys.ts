/**
 * The emulator's token-signing keys, published as a JWKS.
 *
 * Entra rolls its signing keys over by publishing the new key while the old one is still listed, so tokens signed just
 * before a rotation keep verifying. {@link SigningKeys.rotate} does the same: the new key becomes current and the
 * {@link RETAINED_PREVIOUS_KEYS} most recent old keys stay in the JWKS (older ones drop out, and tokens they signed
 * stop
 * verifying).
 */
import { createHash } from "node:crypto";
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";

/** How many superseded keys stay published after a rotation. */
const RETAINED_PREVIOUS_KEYS = 2;

/** One RS256 key pair and its public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** Creates an RS256 key with an Entra-style `kid`: the base64url SHA-1 thumbprint of its modulus. */
export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = createHash("sha1")
    .update(jwk.n ?? "")
    .digest("base64url");
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { kty: jwk.kty, use: "sig", alg: "RS256", kid, x5t: kid, n: jwk.n, e: jwk.e },
  };
}

/** The published keys, newest last. */
export class SigningKeys {
  private constructor(private keys: SigningKey[]) {}

  /** Creates the store with one key. */
  static async create(): Promise<SigningKeys> {
    return new SigningKeys([await createSigningKey()]);
  }

  /** The key new tokens are signed with. */
  get current(): SigningKey {
    return this.keys[this.keys.length - 1]!;
  }

  /** Makes a fresh key current, keeping the previous ones published for a while. */
  async rotate(): Promise<void> {
    this.keys = [...this.keys, await createSigningKey()].slice(-(RETAINED_PREVIOUS_KEYS + 1));
  }

  /** The key with this `kid`, if it is still published. */
  find(kid: string | undefined): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** The JWKS document (`/discovery/v2.0/keys`), newest key first like Entra's. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys].reverse().map((k) => k.publicJwk) };
  }
}
