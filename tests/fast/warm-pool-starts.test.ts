/**
 * The warm pool with the worker's starts, on the fake runtime: a first start takes a
 * pooled container (renamed, its volume the workspace, its shell already running) and the
 * pool refills; a resume never takes one; a pooled start whose setup fails leaves nothing
 * behind; one the engine fails to hand over is made anew; two starts at once take one container; a restarted worker adopts what it had.
 */
import { describe, expect, it, vi } from "vitest";
import { ConfigurePools } from "../../protocol/worker-messages";
import { pooledVolumeName, volumeName } from "../../runtime-worker/docker/container-config";
import { POOLED_MAIN_SHELL } from "../../runtime-worker/environments";
import { WarmPool, poolKeyOf } from "../../runtime-worker/pool/warm-pool";
import { FakeRuntimeDriver } from "../support/fake-runtime/fake-runtime-driver";
import { fakeWorker, freshSpec, quietLog, template } from "../support/fake-runtime/fake-worker";

async function pooledWorker(size: number) {
  const worker = fakeWorker({ pooled: true });
  await worker.pool!.configure({ pools: [{ template, size }] });
  await worker.pool!.filled();
  return { ...worker, pool: worker.pool! };
}

const pooledSlots = async (driver: FakeRuntimeDriver) => (await driver.listPooled()).map((pooled) => pooled.slotId);

describe("a first start from the warm pool", () => {
  it("takes a ready container under the environment's name, with its main shell running, and the pool refills", async () => {
    const { driver, manager, pool } = await pooledWorker(2);
    const before = await pooledSlots(driver);
    const spec = freshSpec();
    const started = await manager.start(spec);
    expect(started.fromPool).toBe(true);
    const taken = before.find((slotId) => started.volumeName === pooledVolumeName(slotId));
    expect(taken).toBeDefined();
    expect(driver.container(spec.environmentId)!.shells.get("main")?.running).toBe(true);
    expect(driver.faults.count("create")).toBe(0);
    await pool.filled();
    expect(pool.size).toBe(2);
    expect(await pooledSlots(driver)).not.toContain(taken);
  });

  it("is never used for a resume: that needs the student's own workspace", async () => {
    const { manager, pool } = await pooledWorker(1);
    const spec = freshSpec();
    const started = await manager.start({ ...spec, volumeName: volumeName(spec.environmentId) });
    expect(started.fromPool).toBe(false);
    expect(pool.size).toBe(1);
  });

  it("hangs up the pool's shell before a setup script runs, so the first attach sees what the setup made", async () => {
    const { driver, manager } = await pooledWorker(1);
    const spec = freshSpec({ setupScript: "echo set up" });
    expect((await manager.start(spec)).fromPool).toBe(true);
    const inputs = driver.engine.scripts.map((run) => run.input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toContain("shellroom-tab=main");
    expect(inputs[1]).toBe("echo set up");
    expect(driver.container(spec.environmentId)!.shells.has("main")).toBe(false);
  });

  it("discards the taken container and its volume when the setup fails (nothing records them)", async () => {
    const { driver, manager, pool } = await pooledWorker(1);
    const [slotId] = await pooledSlots(driver);
    const spec = freshSpec({ setupScript: "exit 1" });
    await expect(manager.start(spec)).rejects.toThrow(/setup script exited with 1/);
    expect(await driver.state(spec.environmentId)).toBe("missing");
    expect(driver.hasVolume(pooledVolumeName(slotId!))).toBe(false);
    await pool.filled();
    expect(pool.size).toBe(1);
  });

  it("discards a container the engine could not hand over, and starts a new one the usual way", async () => {
    const { driver, manager, pool } = await pooledWorker(1);
    const [slotId] = await pooledSlots(driver);
    driver.faults.failNext("assignPooled");
    const spec = freshSpec();
    const started = await manager.start(spec);
    expect(started).toMatchObject({ fromPool: false, volumeName: volumeName(spec.environmentId) });
    expect(driver.faults.count("create")).toBe(1);
    expect(await driver.state(spec.environmentId)).toBe("running");
    expect(await pooledSlots(driver)).not.toContain(slotId);
    expect(driver.hasVolume(pooledVolumeName(slotId!))).toBe(false);
    await pool.filled();
    expect(pool.size).toBe(1);
  });

  it("starts a new container when an exec in the taken one fails, and runs the setup there once", async () => {
    const { driver, manager } = await pooledWorker(1);
    const [slotId] = await pooledSlots(driver);
    // The hang-up of the pool's shell is the first exec: the engine refuses it.
    driver.faults.failNext("runScript");
    const spec = freshSpec({ setupScript: "echo set up" });
    const started = await manager.start(spec);
    expect(started.fromPool).toBe(false);
    expect(driver.hasVolume(pooledVolumeName(slotId!))).toBe(false);
    expect(driver.engine.scripts.map((run) => run.input).filter((input) => input === "echo set up")).toHaveLength(1);
  });

  it("hands out one container to two starts of one environment at once", async () => {
    const { driver, manager, pool } = await pooledWorker(3);
    const slowRename = driver.faults.hold("assignPooled");
    const spec = freshSpec();
    const starts = [manager.start(spec), manager.start(spec)];
    await vi.waitFor(() => expect(slowRename.waiting).toBe(1));
    slowRename.release();
    const [first, second] = await Promise.all(starts);
    expect(second).toEqual(first);
    expect(driver.faults.count("assignPooled")).toBe(1);
    await pool.filled();
    expect(pool.size).toBe(3);
  });
  it("serves a template with services only from containers pooled with those services (as the wire carries both)", async () => {
    const services = [{ name: "db", image: template.image }];
    const worker = fakeWorker({ pooled: true });
    const pool = worker.pool!;
    // What the server sends and the worker parses: the pool's template and the start's spec, defaults filled in on each side.
    await pool.configure(ConfigurePools.parse({ pools: [{ template: { ...template, services }, size: 1 }] }));
    await pool.filled();
    const [pooledWithServices] = await pooledSlots(worker.driver);

    const plain = await worker.manager.start(freshSpec());
    expect(plain.fromPool).toBe(false);
    const spec = freshSpec({ services });
    const started = await worker.manager.start(spec);
    expect(started).toMatchObject({ fromPool: true, volumeName: pooledVolumeName(pooledWithServices!) });
    expect(worker.driver.container(spec.environmentId)!.services).toEqual(["db"]);
  });
});

describe("the warm pool's bookkeeping", () => {
  it("shrinks a class's pool for a container it handed out instead of replacing it", async () => {
    const worker = fakeWorker({ pooled: true });
    const pool = worker.pool!;
    await pool.configure({ pools: [{ template, size: 2, shrinkOnTake: true }] });
    await pool.filled();
    await worker.manager.start(freshSpec());
    await pool.filled();
    expect(pool.size).toBe(1);
    expect(worker.driver.faults.count("createPooled")).toBe(2);
  });

  it("after a worker restart, adopts its running pooled containers and removes those of templates no longer pooled", async () => {
    const driver = new FakeRuntimeDriver("restarted-worker");
    const other = { ...template, image: "course/other:1" };
    driver.engine.images.add(other.image);
    await driver.createPooled(template, "keep000001", poolKeyOf(template), POOLED_MAIN_SHELL);
    await driver.createPooled(other, "drop000001", poolKeyOf(other), POOLED_MAIN_SHELL);
    const pool = new WarmPool(driver, quietLog(), POOLED_MAIN_SHELL);
    await pool.configure({ pools: [{ template, size: 1 }] });
    await pool.filled();
    expect(await pooledSlots(driver)).toEqual(["keep000001"]);
    expect(driver.faults.count("createPooled")).toBe(2); // the two made above; nothing new
    expect(pool.readiness()).toEqual([{ key: poolKeyOf(template), ready: 1 }]);
  });

  it("stops a fill round at a failed create, and the next fill makes up the difference", async () => {
    const worker = fakeWorker({ pooled: true });
    const pool = worker.pool!;
    worker.driver.faults.failNext("createPooled");
    await pool.configure({ pools: [{ template, size: 4 }] });
    await pool.filled();
    expect(pool.size).toBeLessThan(4);
    await pool.fill();
    expect(pool.size).toBe(4);
  });
});
