/**
 * A class burst of cold starts takes turns at the engine: at most the worker's start
 * concurrency of container creates and starts are in flight at once, and every start in
 * the burst still ends with a running container. Real Docker; the driver is only watched
 * (every call goes to the engine).
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, expect, it } from "vitest";
import { rootLogger } from "../../common/logger";
import { EnvironmentSpec } from "../../protocol/worker-messages";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import type { RuntimeDriver } from "../../runtime-worker/driver";
import { EnvironmentManager } from "../../runtime-worker/environments";

const driver = new DockerDriver(new Docker(), `test-turns-${randomBytes(3).toString("hex")}`);
const environmentIds = Array.from({ length: 6 }, (_, index) => `turns-${randomBytes(4).toString("hex")}-${index}`);

/** The real driver, counting its create/start calls in flight. */
function watched(real: RuntimeDriver) {
  const counts = { inFlight: 0, most: 0 };
  const track = <T>(call: () => Promise<T>) => {
    counts.most = Math.max(counts.most, ++counts.inFlight);
    return call().finally(() => counts.inFlight--);
  };
  const proxy = new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== "create" && name !== "start") return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) => track(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
  return { driver: proxy, counts };
}

afterAll(async () => {
  await Promise.all(environmentIds.map((environmentId) => driver.remove(environmentId, { removeVolume: true })));
});

it("a burst of cold starts reaches the engine at most the start concurrency at a time, and every one of them starts", async () => {
  const { driver: engine, counts } = watched(driver);
  const events = { link: () => ({ connected: false, send() {} }), exit() {}, tabs() {} };
  const manager = new EnvironmentManager(engine, events, rootLogger.child({ test: "start-turns" }), undefined, 2);

  const started = await Promise.all(
    environmentIds.map((environmentId) =>
      manager.start(
        EnvironmentSpec.parse({
          environmentId,
          image: "shellroom/default:1",
          ownerId: "start-turns-test",
          limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
          network: "none",
          workingDir: "/home/student/workspace",
          user: "student",
        }),
      ),
    ),
  );

  expect(started).toHaveLength(environmentIds.length);
  expect(counts.most).toBeLessThanOrEqual(2);
  for (const environmentId of environmentIds) expect(await driver.state(environmentId)).toBe("running");
});
