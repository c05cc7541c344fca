/**
 * LMS platforms registered by an operator (`npm run admin -- lti add ...`): who may launch
 * Shellroom, where their keys are, and which origins may frame it.
 */
import { z } from "zod";
import type { Database } from "../database/client";

const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const PlatformRegistration = z.object({
  name: z.string().trim().min(1).max(120),
  issuer: HttpUrl,
  clientId: z.string().trim().min(1).max(255),
  authLoginUrl: HttpUrl,
  accessTokenUrl: HttpUrl,
  jwksUrl: HttpUrl,
  deploymentIds: z.array(z.string().trim().min(1).max(255)).min(1, "give at least one deployment id"),
  frameOrigins: z.array(HttpUrl.transform((url) => new URL(url).origin)).default([]),
});
export type PlatformRegistration = z.input<typeof PlatformRegistration>;

/** Registers a platform, or updates the one with the same issuer and client id. */
export async function registerPlatform(db: Database, input: PlatformRegistration) {
  const data = PlatformRegistration.parse(input);
  const platform = await db.ltiPlatform.upsert({
    where: { issuer_clientId: { issuer: data.issuer, clientId: data.clientId } },
    create: data,
    update: data,
  });
  forgetFrameAncestors();
  return platform;
}

export async function removePlatform(db: Database, issuer: string, clientId: string): Promise<boolean> {
  const removed = await db.ltiPlatform.deleteMany({ where: { issuer, clientId } });
  forgetFrameAncestors();
  return removed.count > 0;
}

/**
 * The platform a login initiation names. Without a client id the issuer must be unambiguous
 * (the spec makes client_id optional for platforms with one registration).
 */
export async function platformFor(db: Database, issuer: string, clientId: string | undefined) {
  if (clientId) return db.ltiPlatform.findUnique({ where: { issuer_clientId: { issuer, clientId } } });
  const candidates = await db.ltiPlatform.findMany({ where: { issuer }, take: 2 });
  return candidates.length === 1 ? candidates[0]! : null;
}

/** The origins allowed to frame Shellroom: each platform's issuer and login origins, and those it lists. */
export async function frameOrigins(db: Database): Promise<string[]> {
  const platforms = await db.ltiPlatform.findMany({ select: { issuer: true, authLoginUrl: true, frameOrigins: true } });
  const origins = new Set<string>();
  for (const platform of platforms) {
    origins.add(new URL(platform.issuer).origin);
    origins.add(new URL(platform.authLoginUrl).origin);
    for (const origin of platform.frameOrigins) origins.add(origin);
  }
  return [...origins].sort();
}

// Read on every page response, so it is cached briefly; a registration here refreshes it at
// once, one on another replica (or the CLI) within the cache's life.
const FRAME_ANCESTORS_CACHE_MS = 30_000;
let cached: { value: Promise<string>; at: number } | undefined;

function forgetFrameAncestors() {
  cached = undefined;
}

/** The Content-Security-Policy value that lets only registered platforms frame the pages. */
export function frameAncestorsPolicy(db: Database): Promise<string> {
  if (!cached || Date.now() - cached.at > FRAME_ANCESTORS_CACHE_MS) {
    const value = frameOrigins(db).then(
      (origins) => `frame-ancestors 'self'${origins.map((origin) => ` ${origin}`).join("")}`,
      () => "frame-ancestors 'self'",
    );
    cached = { value, at: Date.now() };
  }
  return cached.value;
}
