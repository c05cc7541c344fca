/**
 * The lifecycle's guarded writes against the real Postgres: of replicas racing to move one
 * environment exactly one does (and one change event is emitted), a caller that read a stale
 * state moves nothing, and an illegal transition is refused with nothing written.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { createDatabase, type Database } from "../../server/database/client";
import { EnvironmentLifecycle, LifecycleError, PrismaEnvironmentStates, type EnvironmentChange } from "../../server/environments/lifecycle";
import { cloneTestDatabase } from "../support/platform-harness";

let database: Awaited<ReturnType<typeof cloneTestDatabase>>;
/** Two clients on one database, as two server replicas have. */
let replicaA: Database;
let replicaB: Database;
let environmentId: string;

beforeAll(async () => {
  database = await cloneTestDatabase();
  replicaA = createDatabase(database.url);
  replicaB = createDatabase(database.url);
});

afterAll(async () => {
  await replicaA?.$disconnect();
  await replicaB?.$disconnect();
  await database?.drop();
});

beforeEach(async () => {
  const lab = await replicaA.lab.findFirstOrThrow({ select: { id: true, templateId: true } });
  const user = await replicaA.user.create({ data: { email: `transitions-${Date.now()}-${Math.random()}@example.test`, displayName: "Transitions" } });
  const environment = await replicaA.environment.create({ data: { userId: user.id, labId: lab.id, templateId: lab.templateId } });
  environmentId = environment.id;
});

const stateOf = async () => await replicaA.environment.findUniqueOrThrow({ where: { id: environmentId } });

function recorded(lifecycle: EnvironmentLifecycle) {
  const changes: EnvironmentChange[] = [];
  lifecycle.onChange((change) => {
    changes.push(change);
  });
  return changes;
}

/** Listeners run just after the write; this lets them. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

it("of two replicas claiming the same start at once, exactly one moves it and one change is emitted", async () => {
  const a = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const b = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaB));
  const seen = [...[a, b].map(recorded)];
  const attempts = Array.from({ length: 10 }, (_, i) =>
    (i % 2 ? a : b).transition(environmentId, "PENDING", {
      to: "STARTING",
      data: { startClaimedAt: new Date(), workerId: null },
    }),
  );
  const results = await Promise.all(attempts);
  await settled();
  expect(results.filter(Boolean)).toHaveLength(1);
  expect(seen.flat()).toHaveLength(1);
  expect(seen.flat()[0]).toMatchObject({ environmentId, from: "PENDING", to: "STARTING", reason: null });
  expect((await stateOf()).state).toBe("STARTING");
});

it("of two replicas stopping the same running environment, one stops it and the other is told it lost", async () => {
  const a = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const b = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaB));
  await a.transition(environmentId, "PENDING", { to: "STARTING" });
  await a.transition(environmentId, "STARTING", { to: "RUNNING" });
  const [idle, staff] = await Promise.all([
    a.transition(environmentId, "RUNNING", { to: "STOPPED", reason: "IDLE" }),
    b.transition(environmentId, "RUNNING", { to: "STOPPED", reason: "STAFF" }),
  ]);
  expect([idle, staff].filter(Boolean)).toHaveLength(1);
  const winner = (idle ?? staff)!;
  expect(await stateOf()).toMatchObject({ state: "STOPPED", stopReason: winner.reason });
});

it("a caller that read a state the environment has left moves nothing", async () => {
  const lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const changes = recorded(lifecycle);
  expect(await lifecycle.transition(environmentId, "RUNNING", { to: "STOPPED", reason: "USER" })).toBeNull();
  await settled();
  expect(changes).toEqual([]);
  expect((await stateOf()).state).toBe("PENDING");
});

it("a stale start claim is taken over only while it is the same claim", async () => {
  const lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const first = new Date(Date.now() - 10 * 60_000);
  await lifecycle.transition(environmentId, "PENDING", { to: "STARTING", data: { startClaimedAt: first } });
  const takeOver = (claimedAt: Date) =>
    lifecycle.transition(environmentId, "STARTING", {
      to: "STARTING",
      data: { startClaimedAt: new Date() },
      also: { startClaimedAt: claimedAt },
    });
  const [one, two] = await Promise.all([takeOver(first), takeOver(first)]);
  expect([one, two].filter(Boolean)).toHaveLength(1);
  expect((await stateOf()).startClaimedAt!.getTime()).toBeGreaterThan(first.getTime());
});

it("an illegal transition is refused with a code and nothing is written: DELETED -> RUNNING, STOPPED -> STOPPING", async () => {
  const lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  await lifecycle.transition(environmentId, "PENDING", { to: "STARTING" });
  await lifecycle.transition(environmentId, "STARTING", { to: "RUNNING" });
  await lifecycle.move(environmentId, { to: "STOPPED", reason: "USER", data: { containerId: null } });

  const stopping = await lifecycle.move(environmentId, { to: "STOPPING", reason: "STAFF" }).catch((error: unknown) => error);
  expect(stopping).toBeInstanceOf(LifecycleError);
  expect(stopping).toMatchObject({ code: "ILLEGAL_TRANSITION", from: "STOPPED", to: "STOPPING" });
  expect(await stateOf()).toMatchObject({ state: "STOPPED", stopReason: "USER" });

  await lifecycle.move(environmentId, { to: "DELETED" });
  const changes = recorded(lifecycle);
  const running = await lifecycle.move(environmentId, { to: "RUNNING", data: { containerId: "resurrected" } }).catch((error: unknown) => error);
  expect(running).toMatchObject({ code: "ILLEGAL_TRANSITION", from: "DELETED", to: "RUNNING" });
  await settled();
  expect(changes).toEqual([]);
  expect(await stateOf()).toMatchObject({ state: "DELETED", containerId: null });
});

it("a lost worker's environment is interrupted with WORKER_LOST, and running again clears the reason", async () => {
  const lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const changes = recorded(lifecycle);
  await lifecycle.transition(environmentId, "PENDING", { to: "STARTING" });
  await lifecycle.transition(environmentId, "STARTING", { to: "RUNNING" });
  await lifecycle.move(environmentId, { to: "INTERRUPTED", reason: "WORKER_LOST", data: { error: "gone" } });
  expect(await stateOf()).toMatchObject({ state: "INTERRUPTED", stopReason: "WORKER_LOST", error: "gone" });
  await lifecycle.move(environmentId, { to: "RUNNING", data: { error: null } });
  expect(await stateOf()).toMatchObject({ state: "RUNNING", stopReason: null, error: null });
  await settled();
  expect(changes.map((change) => `${change.from}->${change.to}:${change.reason ?? ""}`)).toEqual([
    "PENDING->STARTING:",
    "STARTING->RUNNING:",
    "RUNNING->INTERRUPTED:WORKER_LOST",
    "INTERRUPTED->RUNNING:",
  ]);
  for (const change of changes) expect(change.at).toBeInstanceOf(Date);
});

it("the admission queue's states exist in the database: PENDING -> QUEUED -> STARTING -> RUNNING -> STOPPING -> STOPPED", async () => {
  const lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(replicaA));
  const path = [
    ["PENDING", "QUEUED"],
    ["QUEUED", "STARTING"],
    ["STARTING", "RUNNING"],
    ["RUNNING", "STOPPING"],
    ["STOPPING", "STOPPED"],
  ] as const;
  for (const [from, to] of path) {
    const reason = to === "STOPPING" || to === "STOPPED" ? ("STAFF" as const) : undefined;
    expect(await lifecycle.transition(environmentId, from, { to, reason })).toMatchObject({ from, to });
    expect((await stateOf()).state).toBe(to);
  }
});
