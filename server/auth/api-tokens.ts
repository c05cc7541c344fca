/**
 * API tokens: `Authorization: Bearer shr_...` for integrations and the command line. Like a
 * session, the secret is shown once and only its SHA-256 is stored; a token also has scopes,
 * an expiry, a last-used time, and can be revoked. What it may do is decided by the access
 * policy (tokenMayCall in common/access.ts) together with what its person may do.
 */
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";
import type { Database } from "../database/client";
import type { ApiTokenKind } from "../../generated/prisma/client";
import type { ApiScope } from "./access";
import { secretDigest, type SessionUser } from "./sessions";

const TOKEN_PREFIX = "shr_";
const TOKEN_PATTERN = /^shr_[a-z2-7]{32}$/;
/** A token's last use is written at most this often (a busy integration would write on every call). */
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_TOKEN_DAYS = 366;

/** A token that passed: who it acts as and what it was granted. */
export interface ValidApiToken {
  tokenId: string;
  scopes: string[];
  expiresAt: Date;
  user: SessionUser;
}

export function generateApiToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return `${TOKEN_PREFIX}${encodeBase32LowerCaseNoPadding(bytes)}`;
}

/** The token of an `Authorization: Bearer ...` header; null when there is no such header. */
export function bearerTokenOf(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match ? match[1]! : null;
}

export interface NewApiToken {
  name: string;
  kind: ApiTokenKind;
  userId: string;
  createdById: string | null;
  scopes: readonly ApiScope[];
  days: number;
}

/** Stores a new token; the returned secret is the only copy there will ever be. */
export async function createApiToken(db: Database, input: NewApiToken) {
  const secret = generateApiToken();
  const row = await db.apiToken.create({
    data: {
      secretHash: secretDigest(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      name: input.name,
      kind: input.kind,
      userId: input.userId,
      createdById: input.createdById,
      scopes: [...new Set(input.scopes)],
      expiresAt: new Date(Date.now() + Math.min(input.days, MAX_TOKEN_DAYS) * DAY_MS),
    },
    select: { id: true, prefix: true, expiresAt: true },
  });
  return { secret, ...row };
}

/** The token's grant, or null when it is malformed, unknown, revoked or expired. */
export async function validateApiToken(db: Database, secret: string): Promise<ValidApiToken | null> {
  if (!TOKEN_PATTERN.test(secret)) return null;
  const row = await db.apiToken.findUnique({
    where: { secretHash: secretDigest(secret) },
    include: { user: { select: { id: true, displayName: true, email: true, role: true } } },
  });
  const now = Date.now();
  if (!row || row.revokedAt || row.expiresAt.getTime() <= now) return null;
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { tokenId: row.id, scopes: row.scopes, expiresAt: row.expiresAt, user: row.user };
}
