/**
 * The tool's own RSA keys: they sign client assertions (grades, roster) and deep linking
 * responses. The first is made at first use; `npm run admin -- lti rotate-keys` adds a new
 * current one. The current and the previous key are published at /api/lti/jwks, so a
 * platform that cached the old set still verifies what was signed just before a rotation.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import type { Database } from "../database/client";

export const TOOL_KEY_ALGORITHM = "RS256";
/** Keys published: the current one and the one before it. */
const PUBLISHED_KEYS = 2;

export interface ToolKey {
  kid: string;
  privateKey: CryptoKey;
}

/** Makes a key and stores it as the current one. */
export async function rotateToolKey(db: Database): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair(TOOL_KEY_ALGORITHM, { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  await db.ltiToolKey.create({
    data: { id: kid, privateJwk: { ...privateJwk, kid }, publicJwk: { ...publicJwk, kid, alg: TOOL_KEY_ALGORITHM, use: "sig" } },
  });
  return kid;
}

/** The newest key; one is made if there is none (two replicas racing make two, and the newer wins). */
export async function currentToolKey(db: Database): Promise<ToolKey> {
  let row = await db.ltiToolKey.findFirst({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  if (!row) {
    await rotateToolKey(db);
    row = await db.ltiToolKey.findFirstOrThrow({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  }
  const privateKey = (await importJWK(row.privateJwk as JWK, TOOL_KEY_ALGORITHM)) as CryptoKey;
  return { kid: row.id, privateKey };
}

/** The public keys platforms verify the tool's signatures with (the JWKS document). */
export async function publishedToolKeys(db: Database): Promise<{ keys: JWK[] }> {
  await currentToolKey(db);
  const rows = await db.ltiToolKey.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: PUBLISHED_KEYS });
  return { keys: rows.map((row) => row.publicJwk as JWK) };
}

/** A JWT signed with the current key (kid in its header), valid for `lifetimeSeconds`. */
export async function signWithToolKey(db: Database, payload: JWTPayload, lifetimeSeconds = 300): Promise<string> {
  const key = await currentToolKey(db);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: TOOL_KEY_ALGORITHM, kid: key.kid, typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(`${lifetimeSeconds}s`)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}
