/**
 * What the fleet's image sync does next, decided from facts alone (no I/O): for each worker
 * connected here without a job, the first image it should hold and does not, and how to get it
 * there. Every worker should hold the default image and every READY instructor image. A copy
 * (`docker save` on a worker that holds it, streamed through this server, `docker load` on the
 * one that lacks it) works for any image. An instructor image is first built again from its
 * stored Dockerfile once the default image is there (Dockerfiles build FROM it): that moves a
 * few lines instead of the whole image with its base layers again. When that fails (a host
 * that cannot reach the package mirrors the build needs), the next attempt copies it, and so on
 * in turn.
 */
import type { WorkerImageStatus } from "../../generated/prisma/client";
import { DEFAULT_IMAGE } from "../../protocol/worker-messages";

/** An image every worker should hold: the default image (no record, no Dockerfile), or an instructor's. */
export interface WantedImage {
  tag: string;
  imageId: string | null;
  dockerfile: string | null;
}

export interface SyncFacts {
  now: number;
  /** Live workers connected to this server replica: the ones whose images it may move. */
  workers: string[];
  /** Live workers an image may be copied from (any replica's, when streams cross replicas); default: `workers`. */
  senders?: string[];
  /** In the order they are brought: the default image first. */
  wanted: WantedImage[];
  /** Each worker's images as recorded (worker-images.ts). */
  rows: Array<{ workerId: string; tag: string; status: WorkerImageStatus; retryAt: Date | null; attempts: number }>;
  /** Workers with a job of this replica under way (one at a time each). */
  busy: ReadonlySet<string>;
  /** Whether this server can stream bytes between workers (a copy needs it). */
  canCopy: boolean;
}

export type SyncJob =
  | { kind: "copy"; workerId: string; image: WantedImage; sources: string[] }
  | { kind: "build"; workerId: string; image: WantedImage & { imageId: string; dockerfile: string } };

/** A worker lacking an image that nothing can bring yet, and why (for the log and the page). */
export interface SyncWait {
  workerId: string;
  tag: string;
  reason: string;
}

/** The wanted images in the order they are brought: the default image first, then the instructors' as given. */
export function wantedInOrder(instructorImages: Array<{ id: string; tag: string; dockerfile: string }>): WantedImage[] {
  return [
    { tag: DEFAULT_IMAGE, imageId: null, dockerfile: null },
    ...instructorImages.filter((image) => image.tag !== DEFAULT_IMAGE).map((image) => ({ tag: image.tag, imageId: image.id, dockerfile: image.dockerfile })),
  ];
}

export function planImageSync(facts: SyncFacts): { jobs: SyncJob[]; waits: SyncWait[] } {
  const rowOf = new Map(facts.rows.map((row) => [`${row.workerId}\n${row.tag}`, row]));
  const holds = (workerId: string, tag: string) => rowOf.get(`${workerId}\n${tag}`)?.status === "READY";
  const jobs: SyncJob[] = [];
  const waits: SyncWait[] = [];
  for (const workerId of facts.workers) {
    if (facts.busy.has(workerId)) continue;
    for (const image of facts.wanted) {
      const row = rowOf.get(`${workerId}\n${image.tag}`);
      if (row?.status === "READY") continue;
      // Failed a moment ago: its backoff holds this image back, not the others.
      if (row?.status === "FAILED" && row.retryAt && row.retryAt.getTime() > facts.now) continue;
      const sources = (facts.senders ?? facts.workers).filter((other) => other !== workerId && holds(other, image.tag));
      const canCopy = facts.canCopy && sources.length > 0;
      const canBuild = image.imageId !== null && image.dockerfile !== null && holds(workerId, DEFAULT_IMAGE);
      // Build on even attempts, copy on odd ones, when both can be done.
      if (canBuild && (!canCopy || (row?.attempts ?? 0) % 2 === 0)) {
        jobs.push({ kind: "build", workerId, image: { ...image, imageId: image.imageId!, dockerfile: image.dockerfile! } });
        break;
      }
      if (canCopy) {
        jobs.push({ kind: "copy", workerId, image, sources });
        break;
      }
      if (image.imageId && image.dockerfile) {
        waits.push({ workerId, tag: image.tag, reason: `waits for ${DEFAULT_IMAGE} there (its Dockerfile builds on it), or a worker to copy it from` });
        continue;
      }
      waits.push({
        workerId,
        tag: image.tag,
        reason: facts.canCopy ? "no worker this server can copy from holds it" : "this server cannot stream images between workers",
      });
    }
  }
  return { jobs, waits };
}

/** When a failed attempt may be tried again: 10 s, doubling, at most 5 minutes. */
export function retryAtAfter(attempts: number, now: number): Date {
  return new Date(now + Math.min(5 * 60_000, 10_000 * 2 ** Math.min(attempts, 10)));
}
