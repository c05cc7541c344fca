/**
 * The tool's own RSA keys: they sign client assertions (grades, roster) and deep linking
 * responses. The first is made at first use; `npm run admin -- lti rotate-keys` adds a new
 * one, which is published at once at /api/lti/jwks but signs only once it has been published
 * for KEY_ACTIVATION_MS: platforms cache a tool's key set (and refetch it at most every so
 * often), so a key they have not seen yet would be refused. The key before the current one
 * stays published, for what it signed just before the switch.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import type { Database } from "../database/client";

export const TOOL_KEY_ALGORITHM = "RS256";
/** A new key signs once it has been published this long. */
export const KEY_ACTIVATION_MS = 60 * 60_000;

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

/** Every key, newest first (one is made if there is none). */
async function allKeys(db: Database) {
  const order = [{ createdAt: "desc" as const }, { id: "desc" as const }];
  const rows = await db.ltiToolKey.findMany({ orderBy: order });
  if (rows.length > 0) return rows;
  await rotateToolKey(db);
  return db.ltiToolKey.findMany({ orderBy: order });
}

/** The index (in allKeys' order) of the key that signs: the newest published long enough, else the oldest. */
function currentIndex(rows: { createdAt: Date }[], now = Date.now()) {
  const active = rows.findIndex((row) => row.createdAt.getTime() <= now - KEY_ACTIVATION_MS);
  return active === -1 ? rows.length - 1 : active;
}

export async function currentToolKey(db: Database): Promise<ToolKey> {
  const rows = await allKeys(db);
  const row = rows[currentIndex(rows)]!;
  const privateKey = (await importJWK(row.privateJwk as JWK, TOOL_KEY_ALGORITHM)) as CryptoKey;
  return { kid: row.id, privateKey };
}

/** The public keys platforms verify the tool's signatures with: keys waiting to sign, the current one and the one before it. */
export async function publishedToolKeys(db: Database): Promise<{ keys: JWK[] }> {
  const rows = await allKeys(db);
  return { keys: rows.slice(0, currentIndex(rows) + 2).map((row) => row.publicJwk as JWK) };
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
