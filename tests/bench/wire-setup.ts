/**
 * What the wire bench measures on, made and taken away: students of the demo course with a
 * session each (as after signing in) on the separate server process's database, their
 * environments started and deleted through the API as the lab page does, raw containers
 * with the lab template's create options, and the containers' ids (their shims are found by them).
 */
import type Docker from "dockerode";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase } from "../../server/database/client";
import { DEMO_COURSE_SLUG, DEMO_LAB_SLUG } from "../../server/database/seed";
import { containerShapeOf } from "../../server/environments/template-spec";
import { startForLabUntilRunning, trpcMutation } from "./bench-http";
import { inBatches, sleep } from "./measure";
import { removeRaw, startRawContainer } from "./raw-docker";

/** Environments (and raw containers) started at a time. */
const SETUP_CONCURRENCY = 10;

export interface WireStudents {
  labId: string;
  cookies: string[];
  /** A raw container's spec: the demo lab template's shape, no workspace quota (as the platform's bench worker). */
  rawSpec(environmentId: string): EnvironmentSpec;
}

/** `count` students of the demo course, each with a session. */
export async function wireStudents(databaseUrl: string, count: number): Promise<WireStudents> {
  const db = createDatabase(databaseUrl);
  try {
    const course = await db.course.findUniqueOrThrow({ where: { slug: DEMO_COURSE_SLUG } });
    const lab = await db.lab.findUniqueOrThrow({ where: { courseId_slug: { courseId: course.id, slug: DEMO_LAB_SLUG } }, include: { template: true } });
    const cookies = await inBatches(Array.from({ length: count }), SETUP_CONCURRENCY, async (_, index) => {
      const user = await db.user.create({ data: { displayName: `Bench Wire ${index + 1}`, role: "STUDENT" } });
      await db.courseMember.create({ data: { courseId: course.id, userId: user.id, role: "STUDENT" } });
      const token = generateSessionToken();
      await createSession(db, token, user.id);
      return `${SESSION_COOKIE}=${token}`;
    });
    const shape = containerShapeOf(lab.template);
    return {
      labId: lab.id,
      cookies,
      rawSpec: (environmentId) => ({
        environmentId,
        ownerId: "bench-baseline",
        image: shape.image,
        network: shape.network,
        workingDir: shape.workingDir,
        user: shape.user,
        limits: { memoryBytes: shape.limits.memoryBytes, nanoCpus: shape.limits.nanoCpus, pidsLimit: shape.limits.pidsLimit },
      }),
    };
  } finally {
    await db.$disconnect();
  }
}

/**
 * Each student's environment, started through environment.startForLab (QUEUED replies waited
 * out); a refusal is tried again for up to `readyWithinMs` (the worker dials in a few seconds
 * after it starts). Resolves with the ids in the order of `cookies`.
 */
export async function startEnvironments(url: string, labId: string, cookies: readonly string[], readyWithinMs = 120_000): Promise<string[]> {
  const deadline = Date.now() + readyWithinMs;
  return inBatches(cookies, SETUP_CONCURRENCY, async (cookie) => {
    for (;;) {
      try {
        return await startForLabUntilRunning((procedure, input) => trpcMutation(url, { cookie }, procedure, input), labId);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  });
}

/** environment.delete for each student, as the page's button does; failures are returned, not thrown. */
export async function deleteEnvironments(url: string, labId: string, cookies: readonly string[]): Promise<string[]> {
  const failures: string[] = [];
  await inBatches(cookies, 8, (cookie) =>
    trpcMutation(url, { cookie }, "environment.delete", { labId }).catch((error: Error) => {
      failures.push(error.message);
    }),
  );
  return failures;
}

/** Raw containers named `${prefix}-${index}` (recorded with `track` before they exist), started. */
export async function startRawContainers(
  docker: Docker,
  students: WireStudents,
  workerId: string,
  ids: readonly string[],
  track: (environmentId: string) => void,
): Promise<void> {
  ids.forEach(track);
  await inBatches(ids, SETUP_CONCURRENCY, (id) => startRawContainer(docker, students.rawSpec(id), workerId));
}

export const removeRawContainers = (docker: Docker, ids: readonly string[]) => inBatches(ids, 8, (id) => removeRaw(docker, id));

/** The full id of the container running an environment (platform's or raw: both carry its label). */
export async function containerIdOf(docker: Docker, environmentId: string): Promise<string> {
  const [container] = await docker.listContainers({ filters: { label: [`${LABEL_ENVIRONMENT}=${environmentId}`] } });
  if (!container) throw new Error(`no running container for ${environmentId}`);
  return container.Id;
}
