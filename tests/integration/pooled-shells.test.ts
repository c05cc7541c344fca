/**
 * No exec of a login shell on the way from the warm pool to a prompt: each pooled container
 * already runs its main terminal's shell under the PTY holder, so the student's first attach
 * reattaches and repaints from the holder's replay. A template with a setup script is the
 * exception: the pre-started shell would predate what the setup changes, so it is ended
 * before the setup runs and the first attach starts a fresh one that sees the setup's work.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AttachReply } from "../../protocol/browser-contract";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runArgvInEnvironment } from "../support/run-in-environment";
import { engineNow, execsCreated } from "../support/docker-events";
import { containerName } from "../../runtime-worker/docker/container-config";

let harness: Harness;
let instructor: string;
/** Two shapes (memory differs), so each template has its own pool. */
const plain = {
  name: "Pooled, no setup",
  image: "shellroom/default:1",
  memoryMb: 192,
  cpuMillis: 500,
  pidsLimit: 128,
  diskMb: 256,
  network: "NONE",
  idleTimeoutMinutes: 30,
  maxLifetimeMinutes: 120,
  workingDir: "/home/student/workspace",
  setupScript: null as string | null,
};
const withSetup = {
  ...plain,
  name: "Pooled, with setup",
  memoryMb: 224,
  // A login shell reads ~/.profile when it starts: only a shell started after the setup has the mark.
  setupScript: "echo 'export SETUP_MARK=from-setup' >> ~/.profile",
};
let plainLab: string;
let setupLab: string;

async function pooledLab(template: typeof plain, warmPoolSize = 1) {
  const saved = await harness.trpc("authoring.saveTemplate", { courseId: harness.courseId, ...template, warmPoolSize }, { cookie: instructor });
  expect(saved.status).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    {
      courseId: harness.courseId,
      templateId: saved.body.result.data.id,
      title: template.name,
      instructions: "",
      published: true,
      steps: [],
    },
    { cookie: instructor },
  );
  return lab.body.result.data.labId as string;
}

beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  plainLab = await pooledLab(plain);
  setupLab = await pooledLab(withSetup);
});
afterAll(async () => {
  await harness?.close();
});

async function startFromPool(labId: string) {
  // Both pools full (and each pooled container's start finished) before the student comes.
  await expect.poll(() => harness.worker.pool.size, { timeout: 90_000 }).toBe(2);
  await harness.worker.pool.filled();
  const student = await harness.newStudent("Pooled Shell Student");
  const takenAt = engineNow();
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  // Taken from the pool: its workspace is the pooled container's volume.
  expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).volumeName).toMatch(/^shellroom-pool-ws-/);
  return { cookie: student.cookie, environmentId, takenAt };
}

/**
 * The main terminal's shells in the container (the holder carries the tag too, but is no
 * bash), with what each waits on: at its prompt, readline waits in poll/select for input.
 */
async function mainShellsWaiting(environmentId: string) {
  const listing = await runArgvInEnvironment(harness.driver, environmentId, ["ps", "-eo", "pid=,wchan:40=,comm=,args="]);
  return listing.output
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line.trimEnd()))
    .filter((match) => match?.[3] === "bash" && match[4]!.endsWith("shellroom-tab=main"))
    .map((match) => ({ pid: Number(match![1]), atPrompt: /poll|select|tty|wait_woken/.test(match![2]!) }));
}
const mainShells = async (environmentId: string) => (await mainShellsWaiting(environmentId)).map((shell) => shell.pid);

async function attachMain(cookie: string, environmentId: string) {
  const socket = await harness.terminalSocket(cookie);
  const reply = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 100, rows: 30 }, resolve));
  return { socket, reply };
}

it("a student who takes a warm-pool container finds its main shell already running: the first attach replays a prompt and starts no new shell", async () => {
  const { cookie, environmentId, takenAt } = await startFromPool(plainLab);
  // One shell, already at its prompt (in real use the pool filled long before the class).
  await expect.poll(() => mainShellsWaiting(environmentId), { timeout: 30_000 }).toEqual([{ pid: expect.any(Number), atPrompt: true }]);
  const before = await mainShells(environmentId);

  const { socket, reply } = await attachMain(cookie, environmentId);
  expect(reply.ok).toBe(true);
  if (!reply.ok) return;
  // The screen came from the holder's replay: the prompt the pre-started shell printed.
  expect(reply.screen).toMatch(/student@shellroom[\s\S]*\$/);
  expect(await mainShells(environmentId)).toEqual(before);
  // From taking it to the first screen, the engine ran no exec (the test's own `ps` aside): a rename and an attach.
  const execs = await execsCreated(new Docker(), containerName(environmentId), takenAt);
  expect(execs.filter((command) => !command.startsWith("ps "))).toEqual([]);

  // And it is a live shell, at the terminal's size now.
  const echoed = waitForOutput(socket, /cols=100/);
  socket.emit("terminal:input", { environmentId, data: "echo cols=$(tput cols)\r" });
  await echoed;
});

it("a cold start needs no exec either: the container's own command starts the main shell", async () => {
  const coldLab = await pooledLab({ ...plain, name: "Cold, no setup", memoryMb: 160 }, 0);
  const student = await harness.newStudent("Cold Shell Student");
  const startedAt = engineNow();
  const started = await harness.trpc("environment.startForLab", { labId: coldLab }, { cookie: student.cookie });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  const { socket, reply } = await attachMain(student.cookie, environmentId);
  expect(reply.ok).toBe(true);
  const echoed = waitForOutput(socket, /cold=ok/);
  socket.emit("terminal:input", { environmentId, data: "echo cold=$(echo ok)\r" });
  await echoed;
  expect(await execsCreated(new Docker(), containerName(environmentId), startedAt)).toEqual([]);
  expect(await mainShells(environmentId)).toHaveLength(1);
});

it("a pool with a setup-script template still runs the setup before the student's shell sees its effects", async () => {
  const { cookie, environmentId } = await startFromPool(setupLab);
  // The pool's shell predates the setup: it was ended, and no shell runs until the attach.
  expect(await mainShells(environmentId)).toEqual([]);

  const { socket, reply } = await attachMain(cookie, environmentId);
  expect(reply.ok).toBe(true);
  const echoed = waitForOutput(socket, /mark=from-setup\./);
  socket.emit("terminal:input", { environmentId, data: "echo mark=$SETUP_MARK.\r" });
  await echoed;
  expect(await mainShells(environmentId)).toHaveLength(1);
});
