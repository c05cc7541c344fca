/**
 * What every store behind the server's rules must do, as one set of cases run against each:
 * the in-memory fake (tests/fast, in milliseconds) and Prisma on Postgres (tests/integration).
 * The fast tier's reconcile, sweep and directory tests trust the fake only as far as these hold.
 *
 * The cases share one database (as a server does): each makes its own workers and records and
 * looks only at those.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentState, WorkerScheduling, WorkerStatus } from "../../generated/prisma/client";
import { EnvironmentLifecycle, type EnvironmentStateStore, type TransitionData } from "../../server/environments/lifecycle";
import type { QueueStore } from "../../server/environments/queue-store";
import type { SweepStore } from "../../server/environments/sweep-store";
import type { DirectoryStore } from "../../server/workers/directory-store";
import type { ReconcileStore } from "../../server/workers/reconcile-store";

/** A record as read back, for the cases' checks. */
export interface RecordedEnvironment {
  state: EnvironmentState;
  stopReason: string | null;
  workerId: string | null;
  containerId: string | null;
  error: string | null;
  warnedAt: Date | null;
  startClaimedAt: Date | null;
  queueSeenAt: Date | null;
}

export interface StoresUnderContract {
  states: EnvironmentStateStore;
  directory: DirectoryStore;
  reconcile: ReconcileStore;
  sweep: SweepStore;
  queue: QueueStore;
  /** A new worker record; its id. */
  addWorker(worker: {
    status: WorkerStatus;
    maxEnvironments?: number;
    memoryBytes?: number;
    images?: string[];
    scheduling?: WorkerScheduling;
  }): Promise<string>;
  /** A new template; its id. */
  addTemplate(template: { idleTimeoutMinutes?: number; memoryReservationMb?: number }): Promise<string>;
  /** A new lab (of a workshop staff ended at `courseEndedAt`, when given); its id. */
  addLab(lab: { courseEndedAt: Date | null }): Promise<string>;
  /** A new environment record, PENDING on no worker (of a running workshop's lab unless `labId`); its id. */
  addEnvironment(templateId: string, labId?: string): Promise<string>;
  environment(id: string): Promise<RecordedEnvironment | null>;
  workerStatus(id: string): Promise<WorkerStatus | null>;
  cleanup(): Promise<void>;
}

const GIB = 1024 * 1024 * 1024;
const MINUTE_MS = 60_000;

export function storeContract(name: string, open: () => Promise<StoresUnderContract>) {
  describe(`the stores' contract: ${name}`, () => {
    let subject: StoresUnderContract;
    let lifecycle: EnvironmentLifecycle;
    let templateId: string;
    beforeAll(async () => {
      subject = await open();
      lifecycle = new EnvironmentLifecycle(subject.states);
      templateId = await subject.addTemplate({ idleTimeoutMinutes: 30, memoryReservationMb: 64 });
    });
    afterAll(async () => subject?.cleanup());

    /** A record in `state` (one transition from PENDING, as the lifecycle allows) with these columns. */
    async function environmentIn(state: EnvironmentState, data: TransitionData = {}, template = templateId, labId?: string) {
      const id = await subject.addEnvironment(template, labId);
      if (state !== "PENDING") expect(await lifecycle.transition(id, "PENDING", { to: state, data })).not.toBeNull();
      return id;
    }
    /** The rows of these records (others' records share the database). */
    const only = <Row extends { id: string }>(ids: string[], rows: Row[]) => rows.filter((row) => ids.includes(row.id));

    describe("environment states", () => {
      it("writes a transition only while the record is in the state read", async () => {
        const id = await subject.addEnvironment(templateId);
        const workerId = await subject.addWorker({ status: "ONLINE" });
        expect(await subject.states.writeIfStill(id, "RUNNING", { to: "STOPPED", reason: "USER" })).toBe(false);
        expect(await subject.environment(id)).toMatchObject({ state: "PENDING", stopReason: null });
        const claimedAt = new Date();
        expect(await subject.states.writeIfStill(id, "PENDING", { to: "STARTING", data: { workerId, startClaimedAt: claimedAt } })).toBe(true);
        expect(await subject.environment(id)).toMatchObject({ state: "STARTING", workerId, startClaimedAt: claimedAt });
        expect(await subject.states.stateOf(id)).toBe("STARTING");
      });

      it("of ten writes from one state at once, exactly one is made", async () => {
        const id = await subject.addEnvironment(templateId);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => subject.states.writeIfStill(id, "PENDING", { to: "STARTING", data: { containerId: `attempt-${i}` } })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await subject.environment(id)).toMatchObject({ state: "STARTING", containerId: `attempt-${winner}` });
      });

      it("holds the further conditions: a start claim is taken over only while it is the same claim, on the same worker", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const first = new Date(Date.now() - 10 * MINUTE_MS);
        const id = await environmentIn("STARTING", { workerId, startClaimedAt: first });
        const other = new Date(first.getTime() + 1);
        expect(
          await subject.states.writeIfStill(id, "STARTING", { to: "STARTING", data: { startClaimedAt: new Date() }, also: { startClaimedAt: other } }),
        ).toBe(false);
        expect(await subject.states.writeIfStill(id, "STARTING", { to: "INTERRUPTED", also: { workerId: "some-other-worker" } })).toBe(false);
        expect(await subject.environment(id)).toMatchObject({ state: "STARTING", startClaimedAt: first });
        const takeOver = () =>
          subject.states.writeIfStill(id, "STARTING", { to: "STARTING", data: { startClaimedAt: new Date() }, also: { startClaimedAt: first, workerId } });
        expect((await Promise.all([takeOver(), takeOver()])).filter(Boolean)).toHaveLength(1);
        expect((await subject.environment(id))!.startClaimedAt!.getTime()).toBeGreaterThan(first.getTime());
      });

      it("records why it stopped, keeps columns a write leaves out, and clears the reason on running again", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const id = await environmentIn("RUNNING", { workerId, containerId: "c-1" });
        expect(await subject.states.writeIfStill(id, "RUNNING", { to: "INTERRUPTED", reason: "WORKER_LOST", data: { error: "gone" } })).toBe(true);
        expect(await subject.environment(id)).toMatchObject({ state: "INTERRUPTED", stopReason: "WORKER_LOST", error: "gone", workerId, containerId: "c-1" });
        expect(await subject.states.writeIfStill(id, "INTERRUPTED", { to: "RUNNING", data: { error: null } })).toBe(true);
        expect(await subject.environment(id)).toMatchObject({ state: "RUNNING", stopReason: null, error: null, containerId: "c-1" });
      });

      it("knows no state of a record that does not exist, and writes none", async () => {
        expect(await subject.states.stateOf("no-such-environment")).toBeNull();
        expect(await subject.states.writeIfStill("no-such-environment", "PENDING", { to: "STARTING" })).toBe(false);
      });
    });

    describe("the worker directory's records", () => {
      it("tells ONLINE workers, and workers still up (ONLINE or OFFLINE, not LOST)", async () => {
        const online = await subject.addWorker({ status: "ONLINE" });
        const offline = await subject.addWorker({ status: "OFFLINE" });
        const lost = await subject.addWorker({ status: "LOST" });
        const mine = (ids: string[]) => ids.filter((id) => [online, offline, lost].includes(id)).sort();
        expect(mine(await subject.directory.onlineWorkerIds())).toEqual([online]);
        expect(mine(await subject.directory.upWorkerIds())).toEqual([online, offline].sort());
      });

      it("tells whether placement may choose each worker asked for: OPEN when recorded, as an administrator set it", async () => {
        const open = await subject.addWorker({ status: "ONLINE" });
        const draining = await subject.addWorker({ status: "ONLINE", scheduling: "DRAINING" });
        const scheduling = await subject.directory.scheduling([open, draining, "no-such-worker"]);
        expect([scheduling.get(open), scheduling.get(draining), scheduling.has("no-such-worker")]).toEqual(["OPEN", "DRAINING", false]);
      });

      it("gives the recorded capacities of the workers asked for (memory beyond 32 bits intact)", async () => {
        const big = await subject.addWorker({ status: "ONLINE", maxEnvironments: 7, memoryBytes: 12 * GIB });
        const small = await subject.addWorker({ status: "OFFLINE", maxEnvironments: 2, memoryBytes: GIB });
        const capacities = await subject.directory.capacities([big, small, "no-such-worker"]);
        expect(capacities.sort((a, b) => a.maxEnvironments - b.maxEnvironments)).toEqual([
          { id: small, maxEnvironments: 2, memoryBytes: GIB },
          { id: big, maxEnvironments: 7, memoryBytes: 12 * GIB },
        ]);
      });

      it("counts STARTING and RUNNING records on the workers asked for, with their template's reservation, and leaves one out on request", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const elsewhere = await subject.addWorker({ status: "ONLINE" });
        const large = await subject.addTemplate({ memoryReservationMb: 256 });
        const starting = await environmentIn("STARTING", { workerId }, large);
        const running = await environmentIn("RUNNING", { workerId });
        await environmentIn("STOPPED", { workerId });
        await environmentIn("INTERRUPTED", { workerId });
        await environmentIn("QUEUED", { workerId });
        await environmentIn("RUNNING", { workerId: elsewhere });
        const byState = (rows: Array<{ state: EnvironmentState }>) => [...rows].sort((a, b) => a.state.localeCompare(b.state));
        expect(byState(await subject.directory.placed([workerId]))).toEqual([
          { workerId, state: "RUNNING", memoryReservationMb: 64 },
          { workerId, state: "STARTING", memoryReservationMb: 256 },
        ]);
        expect(await subject.directory.placed([workerId], starting)).toEqual([{ workerId, state: "RUNNING", memoryReservationMb: 64 }]);
        expect(await subject.directory.placed([workerId], running)).toEqual([{ workerId, state: "STARTING", memoryReservationMb: 256 }]);
      });

      it("counts a start moving off a draining worker on both ends, once on each", async () => {
        const from = await subject.addWorker({ status: "ONLINE", scheduling: "DRAINING" });
        const to = await subject.addWorker({ status: "ONLINE" });
        await environmentIn("STARTING", { workerId: from, movingToWorkerId: to });
        expect(await subject.directory.placed([to])).toEqual([{ workerId: to, state: "STARTING", memoryReservationMb: 64 }]);
        expect(await subject.directory.placed([from])).toEqual([{ workerId: from, state: "STARTING", memoryReservationMb: 64 }]);
        expect((await subject.directory.placed([from, to])).map((row) => row.workerId).sort()).toEqual([from, to].sort());
        // Only while it is placed: a failed move holds nothing anywhere.
        await environmentIn("FAILED", { workerId: from, movingToWorkerId: to });
        expect(await subject.directory.placed([to])).toHaveLength(1);
      });

      it("tells which of the workers asked for hold an image", async () => {
        const holder = await subject.addWorker({ status: "ONLINE", images: ["shellroom/default:1", "shellroom/c-x:1"] });
        const fresh = await subject.addWorker({ status: "ONLINE", images: [] });
        const other = await subject.addWorker({ status: "ONLINE", images: ["shellroom/default:1"] });
        expect(await subject.directory.holding([holder, fresh], "shellroom/default:1")).toEqual([holder]);
        expect((await subject.directory.holding([holder, fresh, other], "shellroom/c-x:1")).sort()).toEqual([holder]);
        expect(await subject.directory.holding([fresh], "shellroom/c-x:1")).toEqual([]);
      });
    });

    describe("reconcile's records", () => {
      it("are those on the worker (whatever their state) and those of the containers it reported, wherever they are", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const other = await subject.addWorker({ status: "ONLINE" });
        const running = await environmentIn("RUNNING", { workerId });
        const deleted = await environmentIn("DELETED", { workerId });
        const movedAway = await environmentIn("RUNNING", { workerId: other });
        const unplaced = await environmentIn("STOPPED");
        const unrelated = await environmentIn("RUNNING", { workerId: other });
        const records = await subject.reconcile.recordsFor(workerId, [movedAway, unplaced, "no-record-at-all"]);
        expect(records.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
          [
            { id: running, workerId, state: "RUNNING" },
            { id: deleted, workerId, state: "DELETED" },
            { id: movedAway, workerId: other, state: "RUNNING" },
            { id: unplaced, workerId: null, state: "STOPPED" },
          ].sort((a, b) => a.id.localeCompare(b.id)),
        );
        expect(records.map((record) => record.id)).not.toContain(unrelated);
      });
    });

    describe("the sweep's records", () => {
      it("marks a worker LOST: it is no longer up", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        await subject.sweep.markWorkerLost(workerId);
        expect(await subject.workerStatus(workerId)).toBe("LOST");
        expect(await subject.directory.upWorkerIds()).not.toContain(workerId);
      });

      it("lists a worker's STARTING and RUNNING environments, and only its own", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const other = await subject.addWorker({ status: "ONLINE" });
        const running = await environmentIn("RUNNING", { workerId });
        const starting = await environmentIn("STARTING", { workerId });
        await environmentIn("STOPPED", { workerId });
        await environmentIn("RUNNING", { workerId: other });
        expect((await subject.sweep.placedOn(workerId)).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
          [
            { id: running, state: "RUNNING" },
            { id: starting, state: "STARTING" },
          ].sort((a, b) => a.id.localeCompare(b.id)),
        );
      });

      it("lists RUNNING environments that recorded activity, with their template's idle timeout", async () => {
        const quick = await subject.addTemplate({ idleTimeoutMinutes: 5 });
        const lastActivityAt = new Date(Date.now() - 3 * MINUTE_MS);
        const active = await environmentIn("RUNNING", { lastActivityAt }, quick);
        const neverActive = await environmentIn("RUNNING");
        const stopped = await environmentIn("STOPPED", { lastActivityAt });
        const rows = only([active, neverActive, stopped], await subject.sweep.runningWithActivity());
        expect(rows).toEqual([{ id: active, lastActivityAt, idleTimeoutMinutes: 5 }]);
      });

      it("lists RUNNING environments whose lifetime ends by a time (that time included), with whether they were warned", async () => {
        const by = new Date(Date.now() + 5 * MINUTE_MS);
        const warnedAt = new Date(Date.now() - MINUTE_MS);
        const atTheLimit = await environmentIn("RUNNING", { expiresAt: by });
        const past = await environmentIn("RUNNING", { expiresAt: new Date(by.getTime() - 10 * MINUTE_MS), warnedAt });
        const later = await environmentIn("RUNNING", { expiresAt: new Date(by.getTime() + 1000) });
        const noLimit = await environmentIn("RUNNING");
        const stopped = await environmentIn("STOPPED", { expiresAt: new Date(by.getTime() - MINUTE_MS) });
        const rows = only([atTheLimit, past, later, noLimit, stopped], await subject.sweep.runningEndingBy(by));
        expect(rows.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())).toEqual([
          { id: past, expiresAt: new Date(by.getTime() - 10 * MINUTE_MS), warnedAt },
          { id: atTheLimit, expiresAt: by, warnedAt: null },
        ]);
      });

      it("claims a lifetime warning once: of two claims at once one wins, and a later one finds it claimed", async () => {
        const id = await environmentIn("RUNNING", { expiresAt: new Date(Date.now() + MINUTE_MS) });
        const at = new Date();
        const claims = await Promise.all([subject.sweep.claimLifetimeWarning(id, at), subject.sweep.claimLifetimeWarning(id, at)]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await subject.sweep.claimLifetimeWarning(id, new Date())).toBe(false);
        expect(await subject.environment(id)).toMatchObject({ warnedAt: at });
      });
    });

    describe("the admission queue's records", () => {
      /**
       * Queued here at times long past, so this case's entries head the queue, and taken out
       * after each case (FAILED: no stop time, no place freed), so they never head another's.
       */
      const queuedHere: string[] = [];
      const longAgo = (minutes: number) => new Date(Date.UTC(1990, 0, 1) + minutes * MINUTE_MS);
      async function queued(data: TransitionData = {}, template = templateId, labId?: string) {
        const id = await environmentIn("QUEUED", { queuedAt: longAgo(0), queueSeenAt: longAgo(0), ...data }, template, labId);
        queuedHere.push(id);
        return id;
      }
      afterEach(async () => {
        for (const id of queuedHere.splice(0)) await lifecycle.move(id, { to: "FAILED" });
      });

      it("counts QUEUED environments, and those some of these workers could take (unbound, or bound to one of them)", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const other = await subject.addWorker({ status: "ONLINE" });
        const [queuedBefore, admissibleBefore] = [await subject.queue.countQueued(), await subject.queue.countAdmissible([workerId])];
        await queued();
        await queued({ workerId });
        await queued({ workerId: other });
        await environmentIn("RUNNING", { workerId });
        expect((await subject.queue.countQueued()) - queuedBefore).toBe(3);
        expect((await subject.queue.countAdmissible([workerId])) - admissibleBefore).toBe(2);
      });

      it("stamps that a page asked, only while the environment is QUEUED", async () => {
        const id = await queued();
        const running = await environmentIn("RUNNING", { queueSeenAt: longAgo(0) });
        const at = new Date();
        expect(await subject.queue.markSeen(id, at)).toBe(true);
        expect(await subject.queue.markSeen(running, at)).toBe(false);
        expect(await subject.queue.markSeen("no-such-environment", at)).toBe(false);
        expect(await subject.environment(id)).toMatchObject({ queueSeenAt: at });
        expect(await subject.environment(running)).toMatchObject({ queueSeenAt: longAgo(0) });
      });

      it("tells when an environment joined the queue, and how many QUEUED ones are before it (the id breaking a tie)", async () => {
        const first = await queued({ queuedAt: longAgo(1) });
        const tiedA = await queued({ queuedAt: longAgo(2) });
        const tiedB = await queued({ queuedAt: longAgo(2) });
        await environmentIn("STOPPED", { queuedAt: longAgo(0) });
        const last = await queued({ queuedAt: longAgo(3) });
        expect(await subject.queue.queuedAt(first)).toEqual(longAgo(1));
        expect(await subject.queue.queuedAt(await environmentIn("PENDING"))).toBeNull();
        expect(await subject.queue.countAhead(first, longAgo(1))).toBe(0);
        const [earlier, later] = [tiedA, tiedB].sort();
        expect(await subject.queue.countAhead(earlier!, longAgo(2))).toBe(1);
        expect(await subject.queue.countAhead(later!, longAgo(2))).toBe(2);
        expect(await subject.queue.countAhead(last, longAgo(3))).toBe(3);
      });

      it("counts environments stopped since a time (that time included)", async () => {
        const since = new Date(Date.UTC(2200, 0, 1));
        await environmentIn("STOPPED", { stoppedAt: since });
        await environmentIn("STOPPED", { stoppedAt: new Date(since.getTime() + MINUTE_MS) });
        await environmentIn("STOPPED", { stoppedAt: new Date(since.getTime() - 1) });
        expect(await subject.queue.countStoppedSince(since)).toBe(2);
      });

      it("lists QUEUED environments whose page last asked before a time", async () => {
        const abandoned = await queued({ queueSeenAt: longAgo(1) });
        const asking = await queued({ queueSeenAt: longAgo(3) });
        const running = await environmentIn("RUNNING", { queueSeenAt: longAgo(1) });
        expect(
          only(
            [abandoned, asking, running],
            (await subject.queue.abandonedBefore(longAgo(2))).map((id) => ({ id })),
          ),
        ).toEqual([{ id: abandoned }]);
      });

      it("gives the head of the queue in order, with each entry's template and whether its workshop ended", async () => {
        const workerId = await subject.addWorker({ status: "ONLINE" });
        const large = await subject.addTemplate({ memoryReservationMb: 256 });
        const endedAt = new Date(Date.now() - MINUTE_MS);
        const endedLab = await subject.addLab({ courseEndedAt: endedAt });
        const second = await queued({ queuedAt: longAgo(2), workerId, volumeName: "workspace-1" }, large);
        const first = await queued({ queuedAt: longAgo(1) }, templateId, endedLab);
        const third = await queued({ queuedAt: longAgo(3) });
        const head = await subject.queue.headOfQueue(2);
        expect(head.map((entry) => entry.id)).toEqual([first, second]);
        expect(head[0]).toMatchObject({ workerId: null, volumeName: null, courseEndedAt: endedAt, userId: expect.any(String) });
        expect(head[1]).toMatchObject({ workerId, volumeName: "workspace-1", courseEndedAt: null, template: { id: large, memoryReservationMb: 256 } });
        expect((await subject.queue.headOfQueue(3)).map((entry) => entry.id)).toEqual([first, second, third]);
      });

      it("runs one pump pass at a time: a pass asked for while another holds the lock does not run, and the lock ends with the pass", async () => {
        const ran: string[] = [];
        await subject.queue.withPumpLock(async () => {
          ran.push("first");
          await subject.queue.withPumpLock(async () => {
            ran.push("while the first runs");
          });
        });
        await expect(
          subject.queue.withPumpLock(async () => {
            throw new Error("a pass that fails");
          }),
        ).rejects.toThrow("a pass that fails");
        await subject.queue.withPumpLock(async () => {
          ran.push("after");
        });
        expect(ran).toEqual(["first", "after"]);
      });
    });
  });
}
