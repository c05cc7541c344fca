/**
 * The worker's start rules on the fake runtime: a start is idempotent and shared by
 * concurrent callers, cold starts take turns at the engine, a failed setup script leaves
 * no half-set-up container but keeps the workspace, and a setup that never ends is stopped
 * at its time limit (fake timers: five minutes pass in no time).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { volumeName } from "../../runtime-worker/docker/container-config";
import { fakeWorker, freshSpec } from "../support/fake-runtime/fake-worker";

afterEach(() => {
  vi.useRealTimers();
});

describe("starting an environment", () => {
  it("creates and starts its container once; a later start finds it running", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec();
    const first = await manager.start(spec);
    expect(first).toMatchObject({ volumeName: volumeName(spec.environmentId), fromPool: false });
    expect(await driver.state(spec.environmentId)).toBe("running");
    const again = await manager.start(spec);
    expect(again.containerId).toBe(first.containerId);
    expect(driver.faults.count("start")).toBe(1);
    expect((await driver.list()).map((container) => container.environmentId)).toEqual([spec.environmentId]);
  });

  it("shares one attempt between starts of one environment at once", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec();
    const slowCreate = driver.faults.hold("create");
    const first = manager.start(spec);
    const second = manager.start(spec);
    expect(second).toBe(first);
    await vi.waitFor(() => expect(slowCreate.waiting).toBe(1));
    slowCreate.release();
    expect(await second).toEqual(await first);
    expect(driver.faults.count("create")).toBe(1);
    // Once it has ended, a new start is a new attempt (which finds the container running).
    await manager.start(spec);
    expect(driver.faults.count("create")).toBe(2);
    expect(driver.faults.count("start")).toBe(1);
  });

  it("resumes a stopped environment in its container, without its setup script again", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec({ setupScript: "echo prepared" });
    const first = await manager.start(spec);
    expect(driver.engine.scripts.filter((run) => run.input === "echo prepared")).toHaveLength(1);
    await manager.stop(spec.environmentId);
    expect(await driver.state(spec.environmentId)).toBe("stopped");
    const resumed = await manager.start({ ...spec, volumeName: first.volumeName });
    expect(resumed.containerId).toBe(first.containerId);
    expect(await driver.state(spec.environmentId)).toBe("running");
    expect(driver.engine.scripts.filter((run) => run.input === "echo prepared")).toHaveLength(1);
  });

  it("starts the main shell with the container when there is no setup script, and only after one otherwise", async () => {
    const { driver, manager } = fakeWorker();
    const plain = freshSpec();
    await manager.start(plain);
    expect(driver.container(plain.environmentId)!.shells.get("main")?.running).toBe(true);
    const withSetup = freshSpec({ setupScript: "true" });
    await manager.start(withSetup);
    expect(driver.container(withSetup.environmentId)!.shells.has("main")).toBe(false);
  });

  it("fails with the engine's error, and the next start is a fresh attempt", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec();
    driver.faults.failNext("start", new Error("engine busy"));
    await expect(manager.start(spec)).rejects.toThrow("engine busy");
    await manager.start(spec);
    expect(await driver.state(spec.environmentId)).toBe("running");
  });

  it("names the image when the worker does not have it", async () => {
    const { manager } = fakeWorker();
    await expect(manager.start(freshSpec({ image: "course/missing:1" }))).rejects.toThrow(/"course\/missing:1" does not exist/);
  });
});

describe("cold starts take turns at the engine", () => {
  it("has at most the start concurrency of creates and starts in flight, with every workspace prepared meanwhile, and starts them all", async () => {
    const { driver, manager } = fakeWorker({ startConcurrency: 2 });
    const specs = Array.from({ length: 6 }, () => freshSpec());
    const slowStarts = driver.faults.hold("start");
    const starting = specs.map((spec) => manager.start(spec));
    await vi.waitFor(() => expect(slowStarts.waiting).toBe(2));
    // Let every queued start run as far as it can: the other four wait for a turn.
    for (let round = 0; round < 20; round++) await new Promise((resolve) => setImmediate(resolve));
    expect(slowStarts.waiting).toBe(2);
    expect(driver.faults.count("create")).toBe(2);
    // Volumes are made before a turn, not while holding one.
    for (const spec of specs) expect(driver.hasVolume(volumeName(spec.environmentId))).toBe(true);
    slowStarts.release();
    await Promise.all(starting);
    expect(driver.faults.mostInFlight("start")).toBe(2);
    expect(driver.faults.mostInFlight("create")).toBeLessThanOrEqual(2);
    for (const spec of specs) expect(await driver.state(spec.environmentId)).toBe("running");
  });
});

describe("a template's setup script", () => {
  it("runs as the student from stdin; when it fails, the container goes and the workspace stays for the next attempt", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec({ setupScript: "echo preparing\nexit 2" });
    await expect(manager.start(spec)).rejects.toThrow(/setup script exited with 2: preparing/);
    const [setup] = driver.engine.scripts;
    expect(setup).toMatchObject({ environmentId: spec.environmentId, user: undefined, input: spec.setupScript });
    expect(await driver.state(spec.environmentId)).toBe("missing");
    expect(driver.hasVolume(volumeName(spec.environmentId))).toBe(true);

    const fixed = { ...spec, setupScript: "echo prepared" };
    await manager.start(fixed);
    expect(await driver.state(spec.environmentId)).toBe("running");
    expect(driver.engine.scripts.at(-1)?.input).toBe("echo prepared");
  });

  it("is stopped at its time limit when it never ends, and the start fails saying so", async () => {
    vi.useFakeTimers();
    const { driver, manager } = fakeWorker();
    driver.engine.scriptOutcome = () => "hang";
    const spec = freshSpec({ setupScript: "sleep infinity" });
    const outcome = manager.start(spec).then(
      () => "started",
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(299_000);
    expect(await driver.state(spec.environmentId)).toBe("running"); // still setting up
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toMatch(/setup script ran longer than 300 s/);
    expect(await driver.state(spec.environmentId)).toBe("missing");
    expect(driver.hasVolume(volumeName(spec.environmentId))).toBe(true);
  });
});
