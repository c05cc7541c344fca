/**
 * Deep Linking 2.0: an instructor picks a lab from inside the LMS. The request is kept
 * (single use, for half an hour) while they choose; the answer is an LtiDeepLinkingResponse
 * signed with the tool's key, carrying one ltiResourceLink whose custom parameter names the
 * lab, posted back to the platform's return URL.
 */
import type { Database } from "../database/client";
import { CLAIM, CUSTOM_LAB, DEEP_LINKING_RESPONSE, LTI_VERSION, type LaunchClaims } from "./claims";
import { signWithToolKey } from "./tool-keys";

const DEEP_LINKING_LIFETIME_MS = 30 * 60_000;

export async function beginDeepLinking(db: Database, platformId: string, contextId: string, userId: string, claims: LaunchClaims): Promise<string> {
  const settings = claims[CLAIM.deepLinkingSettings]!;
  const id = crypto.randomUUID();
  await db.ltiDeepLinking.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  await db.ltiDeepLinking.create({
    data: {
      id,
      platformId,
      contextId,
      userId,
      deploymentId: claims[CLAIM.deploymentId],
      returnUrl: settings.deep_link_return_url,
      data: settings.data,
      expiresAt: new Date(Date.now() + DEEP_LINKING_LIFETIME_MS),
    },
  });
  return id;
}

/** The open request `id` of `userId` (null when unknown, used, expired or someone else's). */
export async function openDeepLinking(db: Database, id: string, userId: string) {
  const request = await db.ltiDeepLinking.findUnique({ where: { id }, include: { context: { select: { courseId: true } }, platform: true } });
  if (!request || request.userId !== userId || request.usedAt || request.expiresAt.getTime() < Date.now()) return null;
  return request;
}

/** The labs an instructor may pick: those of the LMS course's Shellroom course, with how many steps have checks. */
export async function pickableLabs(db: Database, courseId: string) {
  const labs = await db.lab.findMany({
    where: { courseId },
    orderBy: [{ position: "asc" }, { createdAt: "asc" }],
    select: { id: true, title: true, published: true, _count: { select: { steps: { where: { checkScript: { not: null } } } } } },
  });
  return labs.map((lab) => ({ id: lab.id, title: lab.title, published: lab.published, checks: lab._count.steps }));
}

/**
 * Takes the request (once) and signs the response for `lab`: the JWT the platform's return
 * URL receives. `launchUrl` is where the LMS will launch the new link.
 */
export async function deepLinkingResponse(db: Database, id: string, userId: string, lab: { id: string; title: string; checks: number }, launchUrl: string) {
  const request = await openDeepLinking(db, id, userId);
  if (!request) return null;
  const taken = await db.ltiDeepLinking.updateMany({ where: { id, usedAt: null }, data: { usedAt: new Date() } });
  if (taken.count !== 1) return null;
  const item = {
    type: "ltiResourceLink",
    title: lab.title,
    url: launchUrl,
    custom: { [CUSTOM_LAB]: lab.id },
    // A gradebook column scored out of the lab's checks (scores are checks passed).
    ...(lab.checks > 0 ? { lineItem: { scoreMaximum: lab.checks, label: lab.title, resourceId: lab.id } } : {}),
  };
  const jwt = await signWithToolKey(db, {
    iss: request.platform.clientId,
    aud: request.platform.issuer,
    nonce: crypto.randomUUID(),
    [CLAIM.messageType]: DEEP_LINKING_RESPONSE,
    [CLAIM.version]: LTI_VERSION,
    [CLAIM.deploymentId]: request.deploymentId,
    [CLAIM.contentItems]: [item],
    ...(request.data !== null ? { [CLAIM.deepLinkingData]: request.data } : {}),
  });
  return { jwt, returnUrl: request.returnUrl };
}
