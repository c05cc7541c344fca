/**
 * The environment lifecycle's rules, without a database: which transitions are allowed, which
 * are refused with a code, what a stop may give as its reason, and the compare-and-set each
 * transition writes.
 */
import { describe, expect, it } from "vitest";
import {
  ENVIRONMENT_STATES,
  LifecycleError,
  StopReason,
  TRANSITIONS,
  checkTransition,
  guardedUpdate,
  isAllowed,
  stateFields,
} from "../../server/environments/lifecycle";

function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LifecycleError);
    return (error as LifecycleError).code;
  }
  throw new Error("the transition was not refused");
}

/** Every transition the platform makes today, and who makes it. */
const USED: Array<[string, string, string]> = [
  ["PENDING", "STARTING", "a first start claims it"],
  ["STOPPED", "STARTING", "a resume claims it"],
  ["FAILED", "STARTING", "a retry after a failed start"],
  ["INTERRUPTED", "STARTING", "a start once its worker is back"],
  ["STARTING", "STARTING", "a stale claim (its server died) is taken over"],
  ["STARTING", "RUNNING", "the worker started it"],
  ["RUNNING", "RUNNING", "a page reload re-records the running container"],
  ["STARTING", "FAILED", "the worker could not start it"],
  ["RUNNING", "FAILED", "a reload's start failed"],
  ["RUNNING", "STOPPED", "idle, lifetime, student, staff or runaway stop"],
  ["STARTING", "STOPPED", "staff stop everyone while it starts; reconcile finds no container"],
  ["INTERRUPTED", "STOPPED", "reconcile finds no container"],
  ["STOPPED", "STOPPED", "a reset of a stopped environment records the new stop"],
  ["RUNNING", "INTERRUPTED", "its worker stopped heartbeating"],
  ["STARTING", "INTERRUPTED", "its worker stopped heartbeating mid-start"],
  ["STOPPED", "INTERRUPTED", "a resume refused: its workspace's worker is offline"],
  ["INTERRUPTED", "INTERRUPTED", "refused again: still offline"],
  ["STOPPED", "RUNNING", "reconcile adopts a container the worker reports running"],
  ["INTERRUPTED", "RUNNING", "reconcile adopts after a worker comes back"],
  ["FAILED", "RUNNING", "reconcile adopts"],
];

describe("the transition table", () => {
  it("names every state, and every state's targets are states", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ENVIRONMENT_STATES].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const to of targets) expect(ENVIRONMENT_STATES).toContain(to);
  });

  it.each(USED)("allows %s -> %s (%s)", (from, to) => {
    expect(isAllowed(from as never, to as never)).toBe(true);
    expect(() => checkTransition(from as never, to as never)).not.toThrow();
  });

  it("allows each transition in the table and refuses every pair it does not list", () => {
    for (const from of ENVIRONMENT_STATES) {
      for (const to of ENVIRONMENT_STATES) {
        if (TRANSITIONS[from].includes(to)) expect(() => checkTransition(from, to)).not.toThrow();
        else expect(refusal(() => checkTransition(from, to))).toBe("ILLEGAL_TRANSITION");
      }
    }
  });

  it("a deleted environment is final: it never runs, starts or stops again", () => {
    for (const to of ENVIRONMENT_STATES) expect(refusal(() => checkTransition("DELETED", to))).toBe("ILLEGAL_TRANSITION");
  });

  it.each([
    ["DELETED", "RUNNING"],
    ["STOPPED", "STOPPING"],
    ["PENDING", "STOPPING"],
    ["RUNNING", "QUEUED"],
    ["RUNNING", "DELETED"],
    ["STARTING", "DELETED"],
    ["STOPPING", "STARTING"],
    ["QUEUED", "PENDING"],
    ["RUNNING", "PENDING"],
  ])("refuses %s -> %s", (from, to) => {
    expect(refusal(() => checkTransition(from as never, to as never))).toBe("ILLEGAL_TRANSITION");
  });

  it("the admission queue's states are reachable and lead on: QUEUED -> STARTING, RUNNING -> STOPPING -> STOPPED", () => {
    for (const [from, to] of [
      ["PENDING", "QUEUED"],
      ["STOPPED", "QUEUED"],
      ["QUEUED", "STARTING"],
      ["QUEUED", "STOPPED"],
      ["RUNNING", "STOPPING"],
      ["STOPPING", "STOPPED"],
    ] as const) {
      expect(isAllowed(from, to)).toBe(true);
    }
  });
});

describe("stop reasons", () => {
  it("is one enum, the same as the worker-lost reason the sweep records", () => {
    expect(StopReason.options).toEqual(["IDLE", "EXPIRED", "USER", "STAFF", "RUNAWAY", "WORKER_LOST", "LEFT_QUEUE"]);
    expect(StopReason.safeParse("BORED").success).toBe(false);
  });

  it.each(["IDLE", "EXPIRED", "USER", "STAFF", "RUNAWAY"] as const)("a stop may say %s", (reason) => {
    expect(() => checkTransition("RUNNING", "STOPPED", reason)).not.toThrow();
    expect(() => checkTransition("RUNNING", "STOPPING", reason)).not.toThrow();
    expect(refusal(() => checkTransition("RUNNING", "INTERRUPTED", reason))).toBe("ILLEGAL_STOP_REASON");
  });

  it("a lost worker interrupts, it does not stop", () => {
    expect(() => checkTransition("RUNNING", "INTERRUPTED", "WORKER_LOST")).not.toThrow();
    expect(refusal(() => checkTransition("RUNNING", "STOPPED", "WORKER_LOST"))).toBe("ILLEGAL_STOP_REASON");
  });

  it("leaving the admission queue stops an environment that never ran, and only that", () => {
    expect(() => checkTransition("QUEUED", "STOPPED", "LEFT_QUEUE")).not.toThrow();
    // Staff may also take a student out of the queue, saying so.
    expect(() => checkTransition("QUEUED", "STOPPED", "STAFF")).not.toThrow();
    expect(refusal(() => checkTransition("RUNNING", "STOPPED", "LEFT_QUEUE"))).toBe("ILLEGAL_STOP_REASON");
    expect(refusal(() => checkTransition("STARTING", "STOPPED", "LEFT_QUEUE"))).toBe("ILLEGAL_STOP_REASON");
    expect(refusal(() => checkTransition("QUEUED", "INTERRUPTED", "LEFT_QUEUE"))).toBe("ILLEGAL_STOP_REASON");
    expect(stateFields("STOPPED", "LEFT_QUEUE")).toEqual({ state: "STOPPED", stopReason: "LEFT_QUEUE" });
  });

  it("admission moves a queued environment to STARTING with no reason; a queued one is never queued again", () => {
    expect(() => checkTransition("QUEUED", "STARTING")).not.toThrow();
    expect(refusal(() => checkTransition("QUEUED", "STARTING", "USER"))).toBe("ILLEGAL_STOP_REASON");
    // The place is kept: re-queuing (at the back) is not a transition the table has.
    expect(refusal(() => checkTransition("QUEUED", "QUEUED"))).toBe("ILLEGAL_TRANSITION");
    // A start refused for room queues from wherever a start may begin, but not from a live start.
    for (const from of ["PENDING", "STOPPED", "FAILED", "INTERRUPTED"] as const) expect(isAllowed(from, "QUEUED")).toBe(true);
    for (const from of ["STARTING", "RUNNING", "DELETED"] as const) expect(isAllowed(from, "QUEUED")).toBe(false);
  });

  it("starting, running and failing carry no reason", () => {
    expect(refusal(() => checkTransition("STOPPED", "STARTING", "USER"))).toBe("ILLEGAL_STOP_REASON");
    expect(refusal(() => checkTransition("STARTING", "RUNNING", "IDLE"))).toBe("ILLEGAL_STOP_REASON");
    expect(refusal(() => checkTransition("STARTING", "FAILED", "STAFF"))).toBe("ILLEGAL_STOP_REASON");
  });

  it("entering RUNNING clears why it last stopped; a reason is recorded; otherwise the last one is kept", () => {
    expect(stateFields("RUNNING", null)).toEqual({ state: "RUNNING", stopReason: null });
    expect(stateFields("STOPPED", "IDLE")).toEqual({ state: "STOPPED", stopReason: "IDLE" });
    expect(stateFields("STOPPED", null)).toEqual({ state: "STOPPED" });
  });
});

describe("the guarded write", () => {
  it("matches only the state the caller read, and writes the new one with the other data", () => {
    const update = guardedUpdate("env-1", "RUNNING", { to: "STOPPED", reason: "STAFF", data: { containerId: null } });
    expect(update).toEqual({ where: { id: "env-1", state: "RUNNING" }, data: { containerId: null, state: "STOPPED", stopReason: "STAFF" } });
  });

  it("keeps the start claim's extra condition (a stale claim is taken over only while it is the same claim)", () => {
    const claimedAt = new Date(0);
    const update = guardedUpdate("env-1", "STARTING", {
      to: "STARTING",
      data: { workerId: "w1", startClaimedAt: new Date(1) },
      also: { startClaimedAt: claimedAt },
    });
    expect(update.where).toEqual({ id: "env-1", state: "STARTING", startClaimedAt: claimedAt });
  });

  it("cannot be widened by the caller: extra conditions and data never replace the id or the state", () => {
    const update = guardedUpdate("env-1", "RUNNING", {
      to: "STOPPED",
      also: { id: "other", state: "STOPPED" } as never,
      data: { state: "DELETED", stopReason: "USER" } as never,
    });
    expect(update.where).toMatchObject({ id: "env-1", state: "RUNNING" });
    expect(update.data.state).toBe("STOPPED");
    expect(update.data).toEqual({ state: "STOPPED" });
  });

  it("refuses an illegal transition before building anything", () => {
    expect(refusal(() => guardedUpdate("env-1", "DELETED", { to: "RUNNING" }))).toBe("ILLEGAL_TRANSITION");
    expect(refusal(() => guardedUpdate("env-1", "STOPPED", { to: "STOPPING", reason: "USER" }))).toBe("ILLEGAL_TRANSITION");
  });
});
