/**
 * Screens (attach replies, repaints) travel in pieces both ways, so no single message
 * grows with what a student printed. From the worker: the reply carries the first piece,
 * the rest are fetched one request at a time. To the browser: ScreenPart messages, then
 * the reply (or repaint) with the last piece and how many came before it.
 */
import type { Socket } from "socket.io";
import { SCREEN_PART_CHARS, ServerToBrowser } from "../../protocol/browser-messages";
import { type ScreenPart, type ScreenPieces } from "../../protocol/browser-contract";
import { WorkerRequests, type SnapshotReply } from "../../protocol/worker-contract";
import type { WorkerLink } from "../workers/worker-link";
import { randomBytes } from "node:crypto";

/** A worker's snapshot has at most this many pieces (its size is capped well below). */
const MAX_WORKER_PARTS = 256;

/** The whole screen of a worker's snapshot reply, fetching its further pieces. */
export async function wholeScreen(
  workers: WorkerLink,
  workerId: string,
  ref: { environmentId: string; terminalId: string },
  reply: SnapshotReply,
  timeoutMs: number,
): Promise<string> {
  const parts = reply.parts ?? 1;
  if (!reply.snapshotId || parts <= 1) return reply.screen;
  if (parts > MAX_WORKER_PARTS) throw new Error(`a snapshot of ${parts} pieces is past the limit`);
  const pieces = [reply.screen];
  for (let index = 1; index < parts; index++) {
    const part = await workers.request(workerId, WorkerRequests.snapshotPart, { ...ref, snapshotId: reply.snapshotId, index }, timeoutMs);
    if (!part.ok) throw new Error(part.error);
    pieces.push(part.data);
  }
  return pieces.join("");
}

/**
 * Sends all but the last piece of `screen` to the socket now; returns the last piece and
 * the fields that name the pieces, for the message that follows (socket.io keeps order).
 */
export function sendScreenPieces(socket: Socket, ref: { environmentId: string; terminalId: string }, screen: string): { screen: string } & ScreenPieces {
  if (screen.length <= SCREEN_PART_CHARS) return { screen };
  const screenId = randomBytes(9).toString("base64url");
  const count = Math.ceil(screen.length / SCREEN_PART_CHARS);
  for (let index = 0; index < count - 1; index++) {
    const data = screen.slice(index * SCREEN_PART_CHARS, (index + 1) * SCREEN_PART_CHARS);
    socket.emit(ServerToBrowser.screenPart, { ...ref, screenId, index, data } satisfies ScreenPart);
  }
  return { screen: screen.slice((count - 1) * SCREEN_PART_CHARS), screenId, screenParts: count };
}
