/**
 * The live room as its integration tests use it: the overview's shapes, the instructor's view of
 * it through the API, and small socket helpers. Shared by tests/integration/live-room*.test.ts.
 */
import { expect } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply } from "../../protocol/browser-contract";
import { startHarness, type Harness } from "./platform-harness";
import { request } from "./socket-request";

export const INSTRUCTOR_NAME = "Ines Instructor";

export type Card = {
  userId: string;
  name: string;
  online: boolean;
  hand: { id: string; note: string } | null;
  environment: {
    id: string;
    labId: string;
    labTitle: string;
    state: string;
    stopReason: string | null;
    expiresAt: string | null;
    usage: { cpuPercent: number; memoryBytes: number; memoryLimitBytes: number; pids: number; pidsLimit: number; cpuLimitPercent: number } | null;
    runaway: { reason: string; since: string } | null;
  } | null;
  progress: { passed: number; checks: number };
};
export type Overview = {
  course: { id: string; title: string; endedAt: string | null };
  students: Card[];
  hands: Array<{ id: string; userId: string; name: string; note: string; environmentId: string | null }>;
};

/** Collects every `event` a socket receives. */
export function collect<T>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (message: T) => seen.push(message));
  return seen;
}

export const errorOf = (response: { status: number; body: any }) => ({
  status: response.status,
  code: response.body?.error?.data?.code,
  message: response.body?.error?.message,
});

/**
 * The instructor's side of one course's live room. `context` is read at each call: the harness
 * only exists once the file's beforeAll has run.
 */
export function liveRoomApi(context: () => { harness: Harness; courseId: string; instructorCookie: string }) {
  async function overview(input: Record<string, unknown> = {}): Promise<Overview> {
    const { harness, courseId, instructorCookie } = context();
    const response = await harness.trpc("live.overview", { courseId, ...input }, { cookie: instructorCookie, method: "GET" });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.result.data;
  }
  const cardOf = async (userId: string) => (await overview()).students.find((card) => card.userId === userId);

  async function attachedOwner(cookie: string, environmentId: string) {
    const socket = await context().harness.terminalSocket(cookie);
    const reply = await request<AttachReply>(socket, "terminal:attach", { environmentId, cols: 80, rows: 24 });
    expect(reply).toMatchObject({ ok: true, mode: "owner" });
    return socket;
  }

  /** An action on everyone returns at once; this waits (through the overview) until it has finished. */
  async function finished(started: { status: number; body: any }): Promise<{ done: number; failed: unknown[]; total: number }> {
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const { actionId } = started.body.result.data;
    await expect
      .poll(
        async () => {
          const bulk = ((await overview()) as Overview & { bulk: { id: string; finished: boolean } | null }).bulk;
          return bulk !== null && bulk.id === actionId && bulk.finished;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(true);
    return ((await overview()) as Overview & { bulk: { done: number; failed: unknown[]; total: number } }).bulk;
  }

  return { overview, cardOf, attachedOwner, finished };
}

/** The files' common start: a harness and its course's instructor signed in. */
export async function startLiveRoom() {
  const harness = await startHarness();
  const instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  return { harness, courseId: harness.courseId, instructorCookie };
}
