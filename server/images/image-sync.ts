/**
 * Images follow the fleet: a worker that joins (or reports an image gone) gets every image it
 * lacks without anyone acting: the default image copied from a worker that has it, and each
 * READY instructor image copied the same way or built again from its stored Dockerfile (the
 * same request, limits and policy checks as its first build). Each replica brings images only
 * to the workers connected to it, copied from any live worker that holds them (through that
 * worker's replica when it is another: replica-relay.ts), one job per worker at a time; a failure is recorded on the worker's row (the image page shows it) and tried again
 * with a growing delay. image-sync-plan.ts decides; this module gathers facts and does it.
 */
import type { Readable } from "node:stream";
import type { Logger } from "../../common/logger";
import type { ReplyOf, RequestContract, RequestOf } from "../../protocol/contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { Database } from "../database/client";
import type { WorkerDirectory } from "../workers/scheduler";
import type { ImageBuilds } from "./image-builds";
import { planImageSync, retryAtAfter, wantedInOrder, type SyncJob } from "./image-sync-plan";
import type { WorkerImages } from "./worker-images";

/** The byte streams over the worker link (server/workers/worker-streams.ts), as far as copies use them. */
export interface ImageStreams {
  download<C extends RequestContract>(workerId: string, contract: C, payload: Omit<RequestOf<C>, "streamId">): Promise<Readable>;
  upload<C extends RequestContract>(
    workerId: string,
    contract: C,
    payload: Omit<RequestOf<C>, "streamId">,
    source: Readable,
    timeoutMs?: number,
  ): Promise<ReplyOf<C>>;
  /** Whether a worker connected to another replica can be streamed from (through that replica). */
  reachesOtherReplicas?(): boolean;
}

/** A copy of an image with its base layers, over the link: generous, but not forever. */
const COPY_TIMEOUT_MS = 30 * 60_000;
const NUDGE_DELAY_MS = 200;

export class ImageSync {
  private readonly running = new Map<string, AbortController>();
  private readonly jobs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private nudgeTimer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** What was last said about a worker's waiting image, so the log says it once. */
  private readonly said = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly images: WorkerImages,
    private readonly builds: ImageBuilds,
    private readonly directory: WorkerDirectory,
    /** The workers connected to this replica (streams reach only those). */
    private readonly connectedHere: () => string[],
    private readonly log: Logger,
    private streams: ImageStreams | null = null,
  ) {}

  start(intervalMs = 5000) {
    this.timer = setInterval(() => this.nudge(0), intervalMs);
    this.timer.unref();
    this.nudge();
  }

  /** Look again soon (a worker joined, reported its images, or an image became READY). */
  nudge(delayMs = NUDGE_DELAY_MS) {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.nudgeTimer ??= setTimeout(() => {
      this.nudgeTimer = undefined;
      this.passing = this.pass()
        .catch((error: Error) => this.log.error({ err: error.message }, "image sync pass failed"))
        .finally(() => {
          this.passing = null;
          if (this.again) {
            this.again = false;
            this.nudge();
          }
        });
    }, delayMs);
  }

  /** Stops taking jobs and ends those under way (each is recorded failed, to be tried again). */
  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.nudgeTimer);
    for (const controller of this.running.values()) controller.abort("the server is stopping");
    await this.passing;
    await Promise.all([...this.jobs]);
  }

  private async pass() {
    const live = new Set(await this.directory.liveIds());
    const workers = this.connectedHere().filter((id) => live.has(id));
    if (workers.length === 0) return;
    const senders = this.streams?.reachesOtherReplicas?.() ? [...live] : workers;
    const [instructorImages, rows] = await Promise.all([
      this.db.image.findMany({ where: { status: "READY" }, orderBy: { createdAt: "desc" }, select: { id: true, tag: true, dockerfile: true } }),
      this.images.rows({ workerIds: [...new Set([...workers, ...senders])] }),
    ]);
    const { jobs, waits } = planImageSync({
      now: Date.now(),
      workers,
      senders,
      wanted: wantedInOrder(instructorImages),
      rows,
      busy: new Set(this.running.keys()),
      canCopy: this.streams !== null,
    });
    for (const wait of waits) {
      const key = `${wait.workerId}\n${wait.tag}`;
      if (this.said.get(key) !== wait.reason)
        this.log.warn({ workerId: wait.workerId, tag: wait.tag, why: wait.reason }, "a worker lacks an image that cannot be brought yet");
      this.said.set(key, wait.reason);
    }
    if (this.said.size > 10_000) this.said.clear();
    for (const job of jobs) this.run(job, rows.find((row) => row.workerId === job.workerId && row.tag === job.image.tag)?.attempts ?? 0);
  }

  private run(job: SyncJob, attempts: number) {
    const controller = new AbortController();
    this.running.set(job.workerId, controller);
    const log = this.log.child({ workerId: job.workerId, tag: job.image.tag, how: job.kind });
    log.info("bringing an image to a worker that lacks it");
    const retryAt = () => retryAtAfter(attempts, Date.now());
    const work = job.kind === "copy" ? this.copy(job, controller.signal) : this.build(job, controller.signal, retryAt());
    const done = work
      .then(async (error) => {
        if (error === null) return log.info("the image is on the worker now");
        log.warn({ err: error, attempts: attempts + 1 }, "could not bring the image; will try again");
        // A build records its own failure (image-builds.ts); a copy's is recorded here.
        if (job.kind === "copy") await this.images.failed(job.workerId, job.image.tag, error, retryAt());
      })
      .catch((error: Error) => log.error({ err: error.message }, "image sync job failed"))
      .finally(() => {
        this.running.delete(job.workerId);
        this.jobs.delete(done);
        this.nudge();
      });
    this.jobs.add(done);
  }

  /** Streams `docker save` from the first source that answers into `docker load` on the worker; its error, or null. */
  private async copy(job: Extract<SyncJob, { kind: "copy" }>, signal: AbortSignal): Promise<string | null> {
    const streams = this.streams;
    if (!streams) return "this server cannot stream images between workers";
    const { workerId, image } = job;
    let lastError = "no worker could send it";
    for (const source of job.sources) {
      if (signal.aborted) return `interrupted: ${String(signal.reason)}`;
      await this.images.begin(workerId, image.tag, image.imageId, "TRANSFERRING", `Copying ${image.tag} from worker ${source}.`);
      let archive: Readable | undefined;
      const abort = () => archive?.destroy(new Error(String(signal.reason)));
      signal.addEventListener("abort", abort, { once: true });
      try {
        archive = await streams.download(source, WorkerRequests.saveImage, { tag: image.tag });
        const reply = await streams.upload(workerId, WorkerRequests.loadImage, { tag: image.tag }, archive, COPY_TIMEOUT_MS);
        if (reply.ok) {
          await this.images.succeeded(workerId, image.tag);
          return null;
        }
        lastError = `from ${source}: ${reply.error}`;
      } catch (error) {
        lastError = `from ${source}: ${(error as Error).message}`;
      } finally {
        signal.removeEventListener("abort", abort);
        archive?.destroy();
      }
    }
    return lastError;
  }

  private build(job: Extract<SyncJob, { kind: "build" }>, signal: AbortSignal, retryAt: Date): Promise<string | null> {
    return this.builds.buildCopy(job.workerId, { id: job.image.imageId, tag: job.image.tag, dockerfile: job.image.dockerfile }, signal, retryAt);
  }
}
