/**
 * Browsers' sockets on one student's terminal, for tests/integration/shared-terminal*.test.ts:
 * attaching as its owner or as course staff watching it.
 */
import type { Socket } from "socket.io-client";
import type { AttachReply } from "../../protocol/browser-contract";
import { expect } from "vitest";
import { startHarness, type Harness } from "./platform-harness";
import { request } from "./socket-request";

/** `context` is read at each call: the harness and the environment only exist once the file's beforeAll has run. */
export function sharedTerminalSockets(context: () => { harness: Harness; environmentId: string }) {
  const attach = (socket: Socket, payload: Record<string, unknown>) => request<AttachReply>(socket, "terminal:attach", { cols: 80, rows: 24, ...payload });

  async function attached(cookie: string, payload: Record<string, unknown> = {}) {
    const { harness, environmentId } = context();
    const socket = await harness.terminalSocket(cookie);
    const reply = await attach(socket, { environmentId, ...payload });
    if (!reply.ok) throw new Error(`attach failed: ${reply.error}`);
    return { socket, reply };
  }

  return { attach, attached };
}

/** The files' common start: a harness, the instructor signed in, and one student whose environment runs. */
export async function startSharedTerminal() {
  const harness = await startHarness();
  const instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  const student = await harness.newStudent("Shared Student");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  return { harness, instructorCookie, student, environmentId: started.body.result.data.environmentId as string };
}
