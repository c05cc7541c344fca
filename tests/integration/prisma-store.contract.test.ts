/**
 * The Prisma stores on real Postgres, held to the same contract as the fast tier's fakes
 * (tests/fast/fake-store.contract.test.ts): a scratch database cloned from the seeded template.
 */
import { randomBytes } from "node:crypto";
import { createDatabase } from "../../server/database/client";
import { PrismaEnvironmentStates } from "../../server/environments/lifecycle";
import { PrismaQueueStore } from "../../server/environments/queue-store";
import { PrismaSweepStore } from "../../server/environments/sweep-store";
import { PrismaDirectoryStore } from "../../server/workers/directory-store";
import { PrismaReconcileStore } from "../../server/workers/reconcile-store";
import { cloneTestDatabase } from "../support/platform-harness";
import { storeContract } from "../support/store-contract";

const uniqueId = (what: string) => `contract-${what}-${randomBytes(4).toString("hex")}`;

storeContract("Prisma on Postgres", async () => {
  const database = await cloneTestDatabase();
  const db = createDatabase(database.url);
  const seededLab = await db.lab.findFirstOrThrow({ select: { id: true, templateId: true } });
  return {
    states: new PrismaEnvironmentStates(db),
    directory: new PrismaDirectoryStore(db),
    reconcile: new PrismaReconcileStore(db),
    sweep: new PrismaSweepStore(db),
    queue: new PrismaQueueStore(db),
    addWorker: async ({ status, maxEnvironments = 20, memoryBytes = 8 * 1024 ** 3, images = ["shellroom/default:1"], scheduling }) => {
      const id = uniqueId("worker");
      await db.worker.create({ data: { id, name: id, status, maxEnvironments, memoryBytes: BigInt(memoryBytes), scheduling } });
      await db.workerImage.createMany({ data: images.map((tag) => ({ workerId: id, tag, status: "READY" as const })) });
      return id;
    },
    addTemplate: async (template) => {
      const created = await db.environmentTemplate.create({ data: { name: uniqueId("template"), image: "shellroom/default:1", ...template } });
      return created.id;
    },
    addLab: async ({ courseEndedAt }) => {
      const slug = uniqueId("course");
      const course = await db.course.create({ data: { slug, title: slug, endedAt: courseEndedAt } });
      const created = await db.lab.create({ data: { courseId: course.id, templateId: seededLab.templateId, slug: "lab", title: "Lab" } });
      return created.id;
    },
    addEnvironment: async (templateId, labId = seededLab.id) => {
      // One record per student and lab: each record its own student.
      const user = await db.user.create({ data: { email: `${uniqueId("student")}@example.test`, displayName: "Contract" } });
      const created = await db.environment.create({ data: { userId: user.id, labId, templateId } });
      return created.id;
    },
    environment: (id) =>
      db.environment.findUnique({
        where: { id },
        select: { state: true, stopReason: true, workerId: true, containerId: true, error: true, warnedAt: true, startClaimedAt: true, queueSeenAt: true },
      }),
    workerStatus: async (id) => (await db.worker.findUnique({ where: { id }, select: { status: true } }))?.status ?? null,
    cleanup: async () => {
      await db.$disconnect();
      await database.drop();
    },
  };
});
