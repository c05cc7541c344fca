/** The fake runtime honours the driver contract the Docker driver does (see tests/integration/docker-runtime-driver.contract.test.ts). */
import { FakeEngine, FakeRuntimeDriver } from "../support/fake-runtime/fake-runtime-driver";
import { runtimeDriverContract } from "../support/runtime-driver-contract";

runtimeDriverContract("fake", async () => {
  const engine = new FakeEngine();
  return {
    driver: new FakeRuntimeDriver("contract-worker", engine),
    neighbour: new FakeRuntimeDriver("contract-neighbour", engine),
    volumeExists: async (name) => engine.volumes.has(name),
    reattaches: true,
    cleanup: async () => engine.containers.clear(),
  };
});
