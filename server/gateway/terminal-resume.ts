/**
 * After a worker (re)connects and is reconciled, the browsers of its running environments
 * are told to attach again: the shells are the same ones (the PTY holder kept them), but
 * the new worker process only serves a terminal once someone attaches to it.
 */
import type { Namespace } from "socket.io";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { type TerminalResume } from "../../protocol/browser-contract";
import type { Database } from "../database/client";
import { environmentRoom } from "./rooms";

export async function resumeTerminals(terminals: Namespace, db: Database, workerId: string) {
  const running = await db.environment.findMany({ where: { workerId, state: "RUNNING" }, select: { id: true } });
  for (const { id } of running) {
    terminals.to(environmentRoom(id)).emit(ServerToBrowser.resume, { environmentId: id } satisfies TerminalResume);
  }
  return running.length;
}
