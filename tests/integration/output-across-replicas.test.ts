/**
 * Terminal output crosses server replicas on the Redis output bus: a student whose browser is
 * on another replica than the worker gets every byte of their terminal. A replica alone on the
 * bus publishes nothing (nobody could deliver it); one that joins is counted within a second,
 * and from then on its browsers get the output. Real replicas, Redis, Postgres and Docker.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AttachReply } from "../../protocol/browser-contract";
import { LISTENERS_REFRESH_MS } from "../../server/gateway/terminal-output-bus";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { until } from "../support/until";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
});

it("a browser on a replica that joined later gets the terminal's output, shell prompt to echo", { timeout: 120_000 }, async () => {
  const student = await harness.newStudent("Remote Reader");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  const environmentId = started.body.result.data.environmentId as string;
  // The worker is connected to the first replica; this browser is on a second one.
  const replica = await harness.startReplica();
  const remote = await harness.terminalSocket(student.cookie, { url: replica.url });
  const attached = await new Promise<AttachReply>((resolve) => remote.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
  expect(attached).toMatchObject({ ok: true, mode: "owner" });

  // Within the first replica's next count of listeners, echoes start arriving, and keep arriving.
  let attempt = 0;
  await until(
    "output through the second replica",
    async () => {
      const marker = `across-${++attempt}`;
      const seen = waitForOutput(remote, new RegExp(`${marker}-42`), LISTENERS_REFRESH_MS * 2).then(
        () => true,
        () => false,
      );
      remote.emit("terminal:input", { environmentId, data: `echo ${marker}-$((20+22))\r` });
      return seen;
    },
    60_000,
  );
  for (const marker of ["steady-1", "steady-2", "steady-3"]) {
    const seen = waitForOutput(remote, new RegExp(`${marker}-5`), 15_000);
    remote.emit("terminal:input", { environmentId, data: `echo ${marker}-$((2+3))\r` });
    await seen;
  }
  remote.close();
});

it("input is answered on either replica, whether the shell echoes it or not", { timeout: 120_000 }, async () => {
  const student = await harness.newStudent("Typist On Two Replicas");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  const environmentId = started.body.result.data.environmentId as string;
  const replica = await harness.startReplica();
  // One browser on the worker's replica (answered inside the output), one on the other (by acknowledgement).
  const local = await harness.terminalSocket(student.cookie);
  const remote = await harness.terminalSocket(student.cookie, { url: replica.url });
  for (const socket of [local, remote]) {
    const attached = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
    expect(attached).toMatchObject({ ok: true });
  }
  const type = (socket: typeof local, data: string) => new Promise<unknown>((resolve) => socket.emit("terminal:input", { environmentId, data }, resolve));

  const echoed = waitForOutput(local, /typed-here-7/, 15_000);
  expect(await type(local, "echo typed-here-$((3+4))\r")).toEqual({ ok: true });
  await echoed;
  expect(await type(remote, "echo typed-there\r")).toEqual({ ok: true });

  // A silent read prints nothing for the keys typed into it: they are answered all the same.
  const asked = waitForOutput(local, /secret\?/, 15_000);
  await type(local, "read -s -p 'secret?' answer; echo; echo got-$answer\r");
  await asked;
  expect(await type(local, "hunter2")).toEqual({ ok: true });
  const got = waitForOutput(local, /got-hunter2/, 15_000);
  expect(await type(local, "\r")).toEqual({ ok: true });
  await got;
  local.close();
  remote.close();
});
