/**
 * Names and Role Provisioning Services: the LMS course's members become the Shellroom
 * course's members before they first launch, and the number of learners becomes the
 * course's expected seats (unless staff set them), which class preparation fills warm pools
 * for. Fetched after an instructor's launch (a pg-boss job, at most once per context per
 * few minutes) or by `npm run admin -- lti roster`.
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { JobQueue } from "../jobs/job-queue";
import { isCourseStudent } from "../auth/access";
import { Bounds } from "../../common/input-bounds";
import { MEDIA_TYPE, MembershipContainer, SCOPE, courseRoleForLtiRoles, displayNameOf } from "./claims";
import { accountFor, enrol } from "./provisioning";
import { PlatformServiceError, type PlatformTokens } from "./service-token";

export const ROSTER_QUEUE = "lti-roster";
/** One roster fetch per context in this window, however many instructors launch. */
const ROSTER_SLOT_SECONDS = 300;
/** Pages followed (rel="next"); at the platform's usual page sizes, thousands of members. */
const MAX_PAGES = 50;

function nextPage(link: string | null): string | null {
  for (const part of link?.split(",") ?? []) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1]!;
  }
  return null;
}

export interface RosterOutcome {
  members: number;
  learners: number;
}

export class LtiRoster {
  private jobs: JobQueue | undefined;

  constructor(
    private readonly db: Database,
    private readonly tokens: PlatformTokens,
    private readonly log: Logger,
    /** Told when a course's expected seats changed (class preparation re-plans). */
    private readonly onSeatsChanged: () => void = () => undefined,
  ) {}

  async attach(jobs: JobQueue) {
    await jobs.createQueue(ROSTER_QUEUE, { name: ROSTER_QUEUE, retryLimit: 3, retryDelay: 30, retryBackoff: true, expireInSeconds: 300 });
    await jobs.work<{ contextId: string }>(ROSTER_QUEUE, { pollingIntervalSeconds: 2, batchSize: 1 }, async ([job]) => {
      const { contextId } = job!.data;
      await this.sync(contextId).catch((error: Error) => {
        this.log.warn({ err: error.message, contextId }, "an LMS roster was not fetched; it will be retried");
        throw error;
      });
    });
    this.jobs = jobs;
  }

  stop() {
    this.jobs = undefined;
  }

  /** Queues a roster fetch for the context (deduplicated per time slot). */
  requestSync(contextId: string): void {
    void this.jobs
      ?.send(ROSTER_QUEUE, { contextId }, { singletonKey: `roster:${contextId}`, singletonSeconds: ROSTER_SLOT_SECONDS })
      .catch((error: Error) => this.log.error({ err: error.message, contextId }, "could not queue a roster fetch"));
  }

  /** Fetches the context's members and enrols them with the roles the LMS gives. */
  async sync(contextId: string): Promise<RosterOutcome> {
    const context = await this.db.ltiContext.findUniqueOrThrow({
      where: { id: contextId },
      include: { platform: true, course: { select: { expectedSeats: true } } },
    });
    if (!context.membershipsUrl) throw new PlatformServiceError("the LMS did not offer this course's roster (no Names and Role Provisioning claim yet)");
    let url: string | null = context.membershipsUrl;
    let members = 0;
    let learners = 0;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const response = await this.tokens.call(context.platform, [SCOPE.memberships], url, { headers: { accept: MEDIA_TYPE.memberships } });
      if (!response.ok) throw new PlatformServiceError(`the platform refused the roster: ${response.status}`);
      const parsed = MembershipContainer.safeParse(await response.json().catch(() => null));
      if (!parsed.success) throw new PlatformServiceError("the platform's roster is not a membership container");
      for (const member of parsed.data.members) {
        if (member.status && member.status !== "Active") continue;
        const userId = await accountFor(this.db, context.platformId, member.user_id, { name: displayNameOf(member), email: member.email });
        const role = courseRoleForLtiRoles(member.roles);
        await enrol(this.db, context.courseId, userId, role);
        members++;
        if (isCourseStudent(role)) learners++;
      }
      url = nextPage(response.headers.get("link"));
    }
    // Expected seats follow the roster, unless staff chose another number since the last fetch.
    const seats = learners === 0 ? null : Math.min(learners, Bounds.expectedSeats.max);
    const seatsFollowRoster = context.course.expectedSeats === null || context.course.expectedSeats === context.rosterSize;
    if (seatsFollowRoster && context.course.expectedSeats !== seats) {
      await this.db.course.update({ where: { id: context.courseId }, data: { expectedSeats: seats } });
      this.onSeatsChanged();
    }
    await this.db.ltiContext.update({ where: { id: context.id }, data: { rosterSyncedAt: new Date(), rosterSize: seats } });
    this.log.info({ contextId, members, learners }, "LMS roster synced");
    return { members, learners };
  }
}
