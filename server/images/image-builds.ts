/**
 * Instructors' image builds: every live worker builds the Dockerfile (each host needs the
 * image to start environments from it); log lines stream into the Image row as they come,
 * so the page can follow along.
 */
import type { Logger } from "../../common/logger";
import { ServerToWorker, type WorkerReply } from "../../protocol/worker-messages";
import type { Database } from "../database/client";
import type { WorkerDirectory } from "../workers/scheduler";
import type { WorkerLink } from "../workers/worker-link";

const BUILD_TIMEOUT_MS = 20 * 60_000;
const LOG_LIMIT = 256 * 1024;
const FLUSH_MS = 300;

export class ImageBuilds {
  private readonly pending = new Map<string, string[]>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
  ) {}

  async start(input: { courseId: string; name: string; dockerfile: string; userId: string }) {
    const slug = input.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "image";
    const tag = `shellroom/c-${input.courseId.toLowerCase()}-${slug}:${Date.now().toString(36)}`;
    const image = await this.db.image.create({
      data: { courseId: input.courseId, name: input.name, tag, dockerfile: input.dockerfile, createdById: input.userId },
    });
    void this.run(image.id, tag, input.dockerfile);
    return image;
  }

  /** A worker's log line for a build (arrives over the worker gateway). */
  appendLog(buildId: string, line: string) {
    const lines = this.pending.get(buildId) ?? [];
    lines.push(line);
    this.pending.set(buildId, lines);
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private async run(imageId: string, tag: string, dockerfile: string) {
    const log = this.log.child({ imageId, tag });
    try {
      const workerIds = await this.directory.liveIds();
      if (workerIds.length === 0) throw new Error("No worker is online to build the image. Try again when one is.");
      const failures: string[] = [];
      await Promise.all(workerIds.map(async (workerId) => {
        try {
          const reply = await this.workers.request<WorkerReply>(workerId, ServerToWorker.buildImage, { buildId: imageId, tag, dockerfile }, BUILD_TIMEOUT_MS);
          if (!reply.ok) failures.push(workerIds.length > 1 ? `${workerId}: ${reply.error}` : reply.error);
        } catch (error) {
          failures.push(`${workerId}: ${(error as Error).message}`);
        }
      }));
      await this.flush();
      if (failures.length > 0) throw new Error(failures.join("\n"));
      await this.db.image.update({ where: { id: imageId }, data: { status: "READY", finishedAt: new Date() } });
      log.info("image built");
    } catch (error) {
      await this.flush();
      const message = (error as Error).message;
      await this.db.image.update({ where: { id: imageId }, data: { status: "FAILED", error: message, finishedAt: new Date() } })
        .catch(() => undefined);
      log.warn({ err: message }, "image build failed");
    }
  }

  private async flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [imageId, lines] of batches) {
      // Appended in SQL (no read-modify-write), keeping the newest LOG_LIMIT characters.
      await this.db.$executeRaw`UPDATE "Image" SET "log" = right("log" || ${`${lines.join("\n")}\n`}, ${LOG_LIMIT}) WHERE "id" = ${imageId}`
        .catch((error: Error) => this.log.error({ imageId, err: error.message }, "could not store build log"));
    }
  }
}
