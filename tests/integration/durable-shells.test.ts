/**
 * Shells that outlive the worker's connection to them: the PTY holder inside the
 * container keeps the shell (its variables, its background jobs) when the attaching exec
 * dies, as it does when the worker process is killed, and a new attach gets the same
 * shell back with its recent output and the byte offset it has reached.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { compileHolder, HOLDER_MOUNT } from "../../runtime-worker/holder/holder-volume";
import { studentSpec } from "../support/student-spec";
import { runArgvInEnvironment } from "../support/run-in-environment";
import { engineNow, execsCreated } from "../support/docker-events";
import { until, untilSteady } from "../support/until";

const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const environmentId = `durable-${randomBytes(6).toString("hex")}`;
const spec = studentSpec(environmentId, "durable-shell-test");
const shellCommand = ["/bin/bash", "-l"];
const size = { cols: 100, rows: 30 };
let driver: DockerDriver;
let containerId: string;

/** Collects a stream's output as text (the holder hands the stream over paused). */
/** The command lines of this process's children (the driver runs in it, as in the worker). */
function childCommands(): string[] {
  const children = readdirSync("/proc/self/task").flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, "utf8").split(" ").filter(Boolean));
  return children.flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")];
    } catch {
      return []; // it ended meanwhile
    }
  });
}

function collect(stream: Duplex) {
  const text = { value: "" };
  stream.on("data", (chunk: Buffer) => {
    text.value += chunk.toString("utf8");
  });
  stream.resume();
  return text;
}

describe("a shell kept by the PTY holder", () => {
  beforeAll(async () => {
    driver = new DockerDriver(docker, `test-durable-${randomBytes(3).toString("hex")}`, undefined, await compileHolder());
    containerId = (await driver.create(spec)).containerId;
    await driver.start(environmentId);
  });

  afterAll(async () => {
    await driver.remove(environmentId, { removeVolume: true });
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_ENVIRONMENT}=${environmentId}`] } })).toEqual([]);
  });

  it("is mounted read-only, out of the student's reach", async () => {
    const write = await runArgvInEnvironment(driver, environmentId, ["sh", "-c", `echo x > ${HOLDER_MOUNT}/shellroom-holder 2>&1; echo exit=$?`]);
    expect(write.output).toMatch(/Read-only file system|Permission denied/);
    expect(write.output).toMatch(/exit=[1-9]/);
  });

  it("keeps the same shell, its variables and its background job when the attaching connection dies", async () => {
    const first = await driver.attachShell(environmentId, "main", shellCommand, size);
    expect(first.history?.offset).toBe(0);
    const seen = collect(first.stream);
    const mark = randomBytes(4).toString("hex");
    first.stream.write(`export MARK=${mark}; sleep 7777 & echo "ready""-$MARK"\r`);
    await until("the first shell's answer", () => seen.value.includes(`ready-${mark}`));

    // What a crashed worker leaves: the exec's connection closes mid-session.
    first.stream.destroy();

    const second = await driver.attachShell(environmentId, "main", shellCommand, size);
    const replay = second.history!.replay.toString("utf8");
    expect(replay).toContain(`ready-${mark}`); // the screen can be repainted from it
    expect(second.history!.offset + second.history!.replay.length).toBeGreaterThan(seen.value.length / 2);
    const again = collect(second.stream);
    second.stream.write(`echo "again""-$MARK"; jobs\r`);
    await until("the same shell to answer", () => again.value.includes(`again-${mark}`) && again.value.includes("sleep 7777"));

    second.stream.write("exit 3\r");
    await until("the shell to end", () => second.stream.destroyed || second.stream.readableEnded, 20_000).catch(() => undefined);
    expect(await second.exited()).toBe(3);
  });

  it("a flood keeps flowing through the holder while its reader pauses, resumes and resizes", async () => {
    const shell = await driver.attachShell(environmentId, "flood", shellCommand, size);
    let bytes = 0;
    shell.stream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    shell.stream.resume();
    shell.stream.write("cat /dev/urandom | base64\r");
    await shell.resize({ cols: 120, rows: 40 });
    await shell.resize({ cols: 100, rows: 30 });
    // A reader that holds the stream now and then (as the worker does while a browser lags):
    // every pause fills the holder's buffers, and each must drain again when it resumes.
    for (let round = 0; round < 40; round++) {
      shell.stream.pause();
      // Held until everything between here and the shell is full (nothing more arrives).
      await untilSteady("the holder's buffers to fill", () => shell.stream.readableLength);
      shell.stream.resume();
      const before = bytes;
      await until(`output to flow again after pause ${round + 1}`, () => bytes > before + 1_000_000, 30_000);
    }
    shell.stream.write("\x03exit\r");
    await shell.exited();
  });

  it("a running shell is reached again without a docker exec, and no process of ours stays between (the holder's hand-over)", async () => {
    const first = await driver.attachShell(environmentId, "relayed", shellCommand, size);
    const seen = collect(first.stream);
    first.stream.write(`echo "first""-attach"\r`);
    await until("the first attach", () => seen.value.includes("first-attach"));
    first.stream.destroy();

    const since = engineNow();
    const second = await driver.attachShell(environmentId, "relayed", shellCommand, size);
    const text = collect(second.stream);
    second.stream.write(`echo "second""-attach"\r`);
    await until("the second attach", () => text.value.includes("second-attach"));
    // The engine's own record: no exec was created in the container for the second attach.
    expect(await execsCreated(docker, containerId, since)).toEqual([]);
    // The hand-over gave this process the holder's socket and left: no relay copies the bytes.
    await until("the hand-over to leave", () => childCommands().every((command) => !/nsenter|shellroom-holder/.test(command)));

    // Input still gets in while the output is held back: Ctrl-C ends a flood nobody reads.
    second.stream.pause();
    second.stream.write("yes shellroom-relay-flood\r");
    await untilSteady("the socket's buffers to fill", () => second.stream.readableLength);
    second.stream.write("\x03");
    second.stream.write(`echo "after""-interrupt"\r`);
    const after = collect(second.stream);
    await until("the shell to answer after Ctrl-C", () => after.value.includes("after-interrupt"), 60_000);
    second.stream.write("exit\r");
    expect(await second.exited()).toBe(0);
  });

  it("a fake holder a student planted under a terminal's name gets them a real shell, and the worker nothing worse", async () => {
    // Binds the holder's abstract name for "planted" first and answers every attach with junk.
    const fake = [
      "import socket, os",
      "s = socket.socket(socket.AF_UNIX)",
      "s.bind('\\0shellroom-holder-1/planted')",
      "s.listen(4)",
      "open('/tmp/planted-ready', 'w').close()",
      "while True:",
      "    c, _ = s.accept()",
      "    c.sendall(b'\\x05\\xff\\xff\\xff\\xff' + os.urandom(4096))",
      "    c.close()",
    ].join("\n");
    const fakeHolder = await driver.exec(environmentId, ["python3", "-c", fake], size);
    fakeHolder.stream.resume();
    for (let attempt = 0; ; attempt++) {
      const ready = await runArgvInEnvironment(driver, environmentId, ["sh", "-c", "test -e /tmp/planted-ready && echo ready"]);
      if (ready.output.includes("ready")) break;
      if (attempt > 100) throw new Error("the fake holder never listened");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const shell = await driver.attachShell(environmentId, "planted", shellCommand, size);
    const text = collect(shell.stream);
    shell.stream.write(`echo "real""-shell"\r`);
    await until("a real shell", () => text.value.includes("real-shell"));
    shell.stream.write("exit\r");
    await shell.exited();
    fakeHolder.stream.destroy();
  });

  it("a closed tab's shell is gone: the next attach starts a new one", async () => {
    const shell = await driver.attachShell(environmentId, "second", shellCommand, size);
    const seen = collect(shell.stream);
    shell.stream.write(`export MARK=old; echo "set""-$MARK"\r`);
    await until("the answer", () => seen.value.includes("set-old"));
    shell.stream.write("exit\r");
    expect(await shell.exited()).toBe(0);

    const fresh = await driver.attachShell(environmentId, "second", shellCommand, size);
    expect(fresh.history?.offset).toBe(0);
    const text = collect(fresh.stream);
    fresh.stream.write(`echo "mark=[$MARK]"\r`);
    await until("the new shell", () => text.value.includes("mark=[]"));
    fresh.stream.destroy();
  });
});
