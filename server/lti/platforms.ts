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

type FramingPlatform = { issuer: string; authLoginUrl: string; frameOrigins: string[] };

/** The origins one platform frames Shellroom from: its issuer's, its login URL's, and those it lists. */
const originsOf = (platform: FramingPlatform) => [new URL(platform.issuer).origin, new URL(platform.authLoginUrl).origin, ...platform.frameOrigins];

/** The origins allowed to frame Shellroom: every registered platform's. */
export async function frameOrigins(db: Database): Promise<string[]> {
  const platforms = await db.ltiPlatform.findMany({ select: { issuer: true, authLoginUrl: true, frameOrigins: true } });
  return [...new Set(platforms.flatMap(originsOf))].sort();
}

// Read on every page response, so it is cached briefly. A registration in this process refreshes
// it at once; one made elsewhere (another replica, the command line) is learnt when that platform
// starts a login here (framesFrom), and otherwise within the cache's life.
const FRAME_ANCESTORS_CACHE_MS = 30_000;
type Framing = { origins: Set<string>; policy: string };
let cached: { framing: Promise<Framing>; at: number } | undefined;

function forgetFrameAncestors() {
  cached = undefined;
}

const framingOf = (origins: string[]): Framing => ({
  origins: new Set(origins),
  policy: `frame-ancestors 'self'${origins.map((origin) => ` ${origin}`).join("")}`,
});

function cachedFraming(db: Database): Promise<Framing> {
  if (!cached || Date.now() - cached.at > FRAME_ANCESTORS_CACHE_MS) {
    cached = { framing: frameOrigins(db).then(framingOf, () => framingOf([])), at: Date.now() };
  }
  return cached.framing;
}

/** The Content-Security-Policy value that lets only registered platforms frame the pages. */
export async function frameAncestorsPolicy(db: Database): Promise<string> {
  return (await cachedFraming(db)).policy;
}

/**
 * `platform` is launching Shellroom: its pages must be allowed in its frame now. A platform
 * registered a moment ago from the command line would otherwise see its first launch refused by
 * the browser (the cached policy predates it) until the cache expires.
 */
export async function framesFrom(db: Database, platform: FramingPlatform) {
  const { origins } = await cachedFraming(db);
  if (originsOf(platform).some((origin) => !origins.has(origin))) forgetFrameAncestors();
}
