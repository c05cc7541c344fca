/**
 * Assignment and Grade Services: a student's score on a lab (checks passed out of checks,
 * with the time) goes to the line item of each LMS link they launched it from, whenever it
 * changes. A step check only queues a job (pg-boss, retried with backoff when the platform
 * is down); the job reads the score afresh, so the latest score wins however jobs interleave.
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { JobQueue } from "../jobs/job-queue";
import { MEDIA_TYPE, SCOPE } from "./claims";
import { PlatformServiceError, type PlatformTokens } from "./service-token";

export const SCORE_QUEUE = "lti-score";
interface ScoreJob {
  userId: string;
  labId: string;
}

export interface LabScore {
  given: number;
  maximum: number;
  /** When the student's latest check ran (the score's timestamp). */
  checkedAt: Date | null;
  /** When the last check was first passed, once all are. */
  completedAt: Date | null;
}

/** Checks passed out of the lab's steps that have a check. */
export async function labScore(db: Database, userId: string, labId: string): Promise<LabScore> {
  const steps = await db.labStep.findMany({
    where: { labId, checkScript: { not: null } },
    select: { results: { where: { userId }, select: { passed: true, firstPassedAt: true, lastCheckedAt: true } } },
  });
  const results = steps.flatMap((step) => step.results);
  const given = results.filter((result) => result.passed).length;
  const latest = (dates: (Date | null)[]) => dates.reduce<Date | null>((max, date) => (date && (!max || date > max) ? date : max), null);
  return {
    given,
    maximum: steps.length,
    checkedAt: latest(results.map((result) => result.lastCheckedAt)),
    completedAt: steps.length > 0 && given === steps.length ? latest(results.map((result) => result.firstPassedAt)) : null,
  };
}

/** The AGS score message (application/vnd.ims.lis.v1.score+json). */
export function scoreMessage(platformUserId: string, score: LabScore) {
  const complete = score.completedAt !== null;
  return {
    userId: platformUserId,
    scoreGiven: score.given,
    scoreMaximum: score.maximum,
    comment: `${score.given} of ${score.maximum} checks passed`,
    timestamp: (score.checkedAt ?? new Date()).toISOString(),
    activityProgress: complete ? "Completed" : score.checkedAt ? "InProgress" : "Initialized",
    gradingProgress: "FullyGraded",
    ...(complete ? { submission: { submittedAt: score.completedAt!.toISOString() } } : {}),
  };
}

/** `<line item>/scores`, keeping the line item's query (some platforms put ids there). */
export function scoresUrl(lineItemUrl: string): string {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/scores`;
  return url.toString();
}

export class LtiGrades {
  private jobs: JobQueue | undefined;

  constructor(
    private readonly db: Database,
    private readonly tokens: PlatformTokens,
    private readonly log: Logger,
  ) {}

  async attach(jobs: JobQueue) {
    await jobs.createQueue(SCORE_QUEUE, { name: SCORE_QUEUE, retryLimit: 8, retryDelay: 5, retryBackoff: true, expireInSeconds: 120 });
    await jobs.work<ScoreJob>(SCORE_QUEUE, { pollingIntervalSeconds: 1, batchSize: 1 }, async ([job]) => {
      await this.postScores(job!.data);
    });
    this.jobs = jobs;
  }

  stop() {
    this.jobs = undefined;
  }

  /** A step of `labId` was checked for `userId`: queue a score post if an LMS gradebook waits for it. */
  async stepChecked(userId: string, labId: string): Promise<void> {
    if (!this.jobs) return;
    try {
      const linked = await this.db.ltiGradeSync.count({ where: { userId, resourceLink: { labId } } });
      if (linked > 0) await this.jobs.send(SCORE_QUEUE, { userId, labId } satisfies ScoreJob);
    } catch (error) {
      // The check's result is kept either way; the next check queues the score again.
      this.log.error({ err: (error as Error).message, userId, labId }, "could not queue an LMS score");
    }
  }

  /** Posts the current score to every line item of the student's links to the lab whose score differs from the last posted. */
  async postScores({ userId, labId }: ScoreJob): Promise<void> {
    const syncs = await this.db.ltiGradeSync.findMany({
      where: { userId, resourceLink: { labId, lineItemUrl: { not: null } } },
      include: { resourceLink: { include: { platform: true } } },
    });
    if (syncs.length === 0) return;
    const score = await labScore(this.db, userId, labId);
    let failure: Error | undefined;
    for (const sync of syncs) {
      if (sync.scoreGiven === score.given && sync.scoreMaximum === score.maximum) continue;
      const { platform, lineItemUrl } = sync.resourceLink;
      try {
        // Each account made by a launch has one identity on its platform: the user the LMS knows.
        const { subject } = await this.db.ltiIdentity.findFirstOrThrow({ where: { platformId: platform.id, userId }, select: { subject: true } });
        const response = await this.tokens.call(platform, [SCOPE.score], scoresUrl(lineItemUrl!), {
          method: "POST",
          headers: { "content-type": MEDIA_TYPE.score },
          body: JSON.stringify(scoreMessage(subject, score)),
        });
        if (!response.ok) throw new PlatformServiceError(`the platform refused the score: ${response.status}`);
        await this.db.ltiGradeSync.update({
          where: { id: sync.id },
          data: { scoreGiven: score.given, scoreMaximum: score.maximum, postedAt: new Date(), lastError: null },
        });
      } catch (error) {
        failure = error as Error;
        await this.db.ltiGradeSync.update({ where: { id: sync.id }, data: { lastError: failure.message.slice(0, 500) } });
        this.log.warn({ err: failure.message, userId, labId, resourceLinkId: sync.resourceLinkId }, "an LMS score was not posted; it will be retried");
      }
    }
    if (failure) throw failure; // pg-boss retries the job, which posts only what is still different
  }
}
