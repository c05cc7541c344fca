/**
 * What every RuntimeDriver must do, as one set of cases run against each driver: the fake
 * (tests/fast, in milliseconds) and Docker (tests/integration, on the real engine). The
 * fast tier's lifecycle tests trust the fake only as far as these cases hold for both.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvironmentSpec, type PoolTemplate } from "../../protocol/worker-messages";
import { homeVolumeName, pooledVolumeName, volumeName } from "../../runtime-worker/docker/container-config";
import type { RuntimeDriver } from "../../runtime-worker/driver";
import { poolKeyOf } from "../../runtime-worker/pool/warm-pool";
import { until } from "./until";

export interface DriverUnderContract {
  driver: RuntimeDriver;
  /** A driver of another worker id on the same engine (a second worker on one host). */
  neighbour: RuntimeDriver;
  volumeExists(name: string): Promise<boolean>;
  /** Shells outlive their attach (the PTY holder): a reattach gets the same shell, with history. */
  reattaches: boolean;
  /** Removes whatever the two drivers made. */
  cleanup(): Promise<void>;
}

const template: PoolTemplate = {
  image: "shellroom/default:1",
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
};
const size = { cols: 80, rows: 24 };
const uniqueId = (what: string) => `contract-${what}-${randomBytes(4).toString("hex")}`;
const specOf = (environmentId: string) => EnvironmentSpec.parse({ ...template, environmentId, ownerId: "driver-contract" });

/** A stream's output as text, from now on (shells are handed over paused). */
function collect(stream: Duplex) {
  const seen = { text: "" };
  stream.on("data", (chunk: Buffer) => (seen.text += chunk.toString("utf8")));
  stream.resume();
  return seen;
}

async function readAll(output: NodeJS.ReadableStream) {
  let text = "";
  for await (const chunk of output) text += chunk.toString();
  return text;
}

export function runtimeDriverContract(name: string, open: () => Promise<DriverUnderContract>) {
  describe(`the RuntimeDriver contract: ${name}`, () => {
    let subject: DriverUnderContract;
    let driver: RuntimeDriver;
    beforeAll(async () => {
      subject = await open();
      driver = subject.driver;
    });
    afterAll(async () => subject?.cleanup());

    it("creates once (a second create finds the container), starts, stops and tells the state", async () => {
      const environmentId = uniqueId("life");
      expect(await driver.state(environmentId)).toBe("missing");
      const first = await driver.create(specOf(environmentId));
      expect(first).toMatchObject({ created: true, volumeName: volumeName(environmentId) });
      expect(await driver.state(environmentId)).toBe("stopped");
      const again = await driver.create(specOf(environmentId));
      expect(again).toEqual({ containerId: first.containerId, volumeName: first.volumeName, created: false });
      await driver.start(environmentId);
      await driver.start(environmentId); // already running: no error
      expect(await driver.state(environmentId)).toBe("running");
      await driver.stop(environmentId);
      await driver.stop(environmentId);
      expect(await driver.state(environmentId)).toBe("stopped");
      expect((await driver.list()).filter((container) => container.environmentId === environmentId)).toEqual([
        expect.objectContaining({ containerId: first.containerId, state: "stopped" }),
      ]);
    });

    it("makes one container of two creates in flight at once", async () => {
      const environmentId = uniqueId("race");
      const results = await Promise.all([driver.create(specOf(environmentId)), driver.create(specOf(environmentId))]);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(results[0]!.containerId).toBe(results[1]!.containerId);
      expect((await driver.list()).filter((container) => container.environmentId === environmentId)).toHaveLength(1);
    });

    it("removes the container and keeps the workspace, or removes both when asked", async () => {
      const environmentId = uniqueId("remove");
      const workspace = volumeName(environmentId);
      await driver.create(specOf(environmentId));
      expect(await subject.volumeExists(workspace)).toBe(true);
      expect(await subject.volumeExists(homeVolumeName(workspace))).toBe(true);
      await driver.remove(environmentId, { removeVolume: false });
      expect(await driver.state(environmentId)).toBe("missing");
      expect(await subject.volumeExists(workspace)).toBe(true);
      // The kept workspace is the new container's.
      expect(await driver.create(specOf(environmentId))).toMatchObject({ created: true, volumeName: workspace });
      await driver.remove(environmentId, { removeVolume: true });
      expect(await driver.state(environmentId)).toBe("missing");
      expect(await subject.volumeExists(workspace)).toBe(false);
      expect(await subject.volumeExists(homeVolumeName(workspace))).toBe(false);
      await driver.remove(environmentId, { removeVolume: true }); // nothing left: no error
      await driver.stop(environmentId);
    });

    describe("in a running environment", () => {
      const environmentId = uniqueId("shell");
      beforeAll(async () => {
        await driver.create(specOf(environmentId));
        await driver.start(environmentId);
      });

      it("attaches a terminal's shell that answers (the same shell again, where shells are held) and ends with its exit code", async () => {
        const first = await driver.attachShell(environmentId, "main", ["/bin/bash", "-l"], size);
        const seen = collect(first.stream);
        first.stream.write(`echo "con""tract"\r`); // the answer differs from the typed (echoed) line
        await until("the shell's answer", () => seen.text.includes("contract"));
        let shell = first;
        if (subject.reattaches) {
          first.stream.destroy(); // a worker that lost its connection
          shell = await driver.attachShell(environmentId, "main", ["/bin/bash", "-l"], size);
          expect(shell.history?.replay.toString("utf8")).toContain("contract");
          const again = collect(shell.stream);
          shell.stream.write(`echo "same""-shell"\r`);
          await until("the reattached shell's answer", () => again.text.includes("same-shell"));
        }
        shell.stream.write("exit 3\r");
        expect(await shell.exited()).toBe(3);
      });

      it("runs a script fed on stdin, with its output and exit code", async () => {
        const script = await driver.runScript(environmentId, ["/bin/sh"], { input: `echo "scr""ipt"\nexit 3\n` });
        const [output, exitCode] = await Promise.all([readAll(script.output), script.exited()]);
        expect(output).toBe("script\n");
        expect(exitCode).toBe(3);
      });

      it("ends every process on request, the shells with them, and keeps the container running", async () => {
        const shell = await driver.attachShell(environmentId, "doomed", ["/bin/bash", "-l"], size);
        collect(shell.stream);
        await driver.killProcesses(environmentId);
        await shell.exited(); // resolves: the shell is gone
        expect(await driver.state(environmentId)).toBe("running");
      });

      it("samples a running container's use against its limits, and nothing once it stops", async () => {
        const sample = await driver.sample(environmentId);
        expect(sample).toMatchObject({
          memoryLimitBytes: template.limits.memoryBytes,
          pidsLimit: template.limits.pidsLimit,
          nanoCpus: template.limits.nanoCpus,
        });
        expect(sample!.pids).toBeGreaterThan(0);
        await driver.stop(environmentId);
        expect(await driver.sample(environmentId)).toBeNull();
      });
    });

    it("keeps pooled containers apart, and hands one to an environment under its name with its volume", async () => {
      const slotId = randomBytes(6).toString("hex");
      const poolKey = poolKeyOf(template);
      const environmentId = uniqueId("pooled");
      await driver.createPooled(template, slotId, poolKey);
      expect(await driver.listPooled()).toContainEqual({ slotId, poolKey, running: true });
      expect((await driver.list()).map((container) => container.environmentId)).not.toContain(environmentId);
      const assigned = await driver.assignPooled(slotId, environmentId);
      expect(assigned.volumeName).toBe(pooledVolumeName(slotId));
      expect(await driver.state(environmentId)).toBe("running");
      expect((await driver.listPooled()).map((pooled) => pooled.slotId)).not.toContain(slotId);
      // A create of the environment now finds the assigned container and its workspace.
      expect(await driver.create(specOf(environmentId))).toEqual({ containerId: assigned.containerId, volumeName: assigned.volumeName, created: false });
      await driver.remove(environmentId, { removeVolume: true });
      expect(await subject.volumeExists(pooledVolumeName(slotId))).toBe(false);

      const unused = randomBytes(6).toString("hex");
      await driver.createPooled(template, unused, poolKey);
      await driver.removePooled(unused);
      expect((await driver.listPooled()).map((pooled) => pooled.slotId)).not.toContain(unused);
      expect(await subject.volumeExists(pooledVolumeName(unused))).toBe(false);
    });

    it("starts a pooled container's services ahead of time and hands them over with it", async () => {
      // Ready only a moment after it starts: the pool must wait for the probe, not just the start.
      const cache = {
        name: "cache",
        image: template.image,
        command: ["bash", "-c", "sleep 1; echo cache-up; touch /tmp/up; exec sleep infinity"],
        readiness: { kind: "command" as const, command: ["test", "-e", "/tmp/up"] },
      };
      const withServices: PoolTemplate = { ...template, services: [cache] };
      expect(poolKeyOf(withServices)).not.toBe(poolKeyOf(template));
      const slotId = randomBytes(6).toString("hex");
      const environmentId = uniqueId("pooled-services");
      await driver.createPooled(withServices, slotId, poolKeyOf(withServices));
      await driver.assignPooled(slotId, environmentId);
      // No startServices: the service came with the container, already past its probe (on Docker
      // its log is empty until the line printed just before the probe's file appears).
      expect(await driver.serviceLogs(environmentId, "cache", 10)).toMatch(/cache/);
      await driver.startServices(environmentId, EnvironmentSpec.parse({ ...specOf(environmentId), services: [cache] }).services);
      await driver.remove(environmentId, { removeVolume: true });
      await expect(driver.serviceLogs(environmentId, "cache", 10)).rejects.toThrow(/no service "cache"/);

      // One never taken goes with its services; one whose service needs a missing image is never pooled.
      const unused = randomBytes(6).toString("hex");
      await driver.createPooled(withServices, unused, poolKeyOf(withServices));
      await driver.removePooled(unused);
      const broken = randomBytes(6).toString("hex");
      const missingImage: PoolTemplate = { ...template, services: [{ ...cache, image: "shellroom/no-such-image:1" }] };
      await expect(driver.createPooled(missingImage, broken, poolKeyOf(missingImage))).rejects.toThrow(/no-such-image/);
      expect((await driver.listPooled()).map((pooled) => pooled.slotId)).not.toContain(broken);
      expect(await subject.volumeExists(pooledVolumeName(broken))).toBe(false);
    });

    it("lists only its own worker's containers", async () => {
      const mine = uniqueId("mine");
      const theirs = uniqueId("theirs");
      await driver.create(specOf(mine));
      await subject.neighbour.create(specOf(theirs));
      const listed = (await driver.list()).map((container) => container.environmentId);
      const listedByNeighbour = (await subject.neighbour.list()).map((container) => container.environmentId);
      expect(listed).toContain(mine);
      expect(listed).not.toContain(theirs);
      expect(listedByNeighbour).toEqual([theirs]);
    });
  });
}
