/** A new student with a started environment and a browser socket attached to its main terminal (100 x 30). */
import { expect } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply } from "../../protocol/browser-contract";
import type { Harness } from "./platform-harness";

export async function studentAtTerminal(harness: Harness, name: string): Promise<{ socket: Socket; environmentId: string; cookie: string }> {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  const socket = await harness.terminalSocket(student.cookie);
  const reply = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 100, rows: 30 }, resolve));
  expect(reply.ok).toBe(true);
  return { socket, environmentId, cookie: student.cookie };
}
