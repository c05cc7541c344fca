/**
 * Attaching: a browser asks for a terminal's screen and its live output. The owner's attach
 * opens the shell and sets its size; staff only watch (their screen filtered). The output flow
 * and its acknowledgements live here too, since only an attach starts one.
 */
import { BrowserMessages, BrowserRequests } from "../../protocol/browser-contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import { WorkerUnavailableError } from "../workers/worker-link";
import { BrowserFlow } from "./browser-flow";
import { sendScreenPieces, wholeScreen } from "./screen-pieces";
import { TokenBucket } from "./token-bucket";
import { courseRoom, environmentRoom, terminalRoom, watcherRoom } from "./rooms";
import { filterForViewer } from "./viewer-escape-filter";
import {
  RATE_LIMITED,
  SNAPSHOT_TIMEOUT_MS,
  accessTo,
  attachmentKey,
  browserCodeOf,
  controllerOf,
  replyTo,
  type GatewayContext,
  type SocketScope,
} from "./terminal-socket";

const OPEN_TERMINAL_TIMEOUT_MS = 15_000;
/**
 * Per socket: attaches (each opens or snapshots a terminal). A page reconnecting with 8 tabs
 * stays well inside.
 */
const ATTACH_BURST = 16;
const ATTACHES_PER_SECOND = 2;

/** Handles attach and ack on one socket; returns its output flow (closing a tab stops it). */
export function handleAttach(context: GatewayContext, scope: SocketScope): BrowserFlow {
  const { workers, audit } = context;
  const { socket, data, socketLog, parse } = scope;

  const flow = new BrowserFlow(socket, async (environmentId, terminalId) => {
    const attachment = data.attached.get(attachmentKey(environmentId, terminalId));
    if (!attachment) return null;
    const reply = await workers.request(attachment.workerId, WorkerRequests.snapshotTerminal, { environmentId, terminalId }, SNAPSHOT_TIMEOUT_MS);
    if (!reply.ok) return null;
    const screen = await wholeScreen(workers, attachment.workerId, { environmentId, terminalId }, reply, SNAPSHOT_TIMEOUT_MS);
    return { screen: attachment.mode === "owner" ? screen : filterForViewer(screen), offset: reply.offset };
  });
  const attachRate = new TokenBucket(ATTACH_BURST, ATTACHES_PER_SECOND);

  const { attach } = BrowserRequests;
  socket.on(attach.event, async (payload: unknown, ack?: unknown) => {
    const request = parse(attach, payload, ack);
    if (!request) return;
    const reply = replyTo(attach, ack);
    // Before any lookup: an attach loop costs the database and the worker nothing more.
    if (!attachRate.take()) return reply({ ok: false, code: "rate_limited", error: RATE_LIMITED });
    try {
      const environment = await accessTo(context, request.environmentId, data.user);
      // Someone else's environment and a made-up id get the same answer.
      if (!environment) {
        socketLog.warn({ environmentId: request.environmentId }, "refused attach to an environment the user may not see");
        void audit.recordBounded({
          action: "environment.access_refused",
          actorId: data.user.id,
          subjectType: "Environment",
          subjectId: request.environmentId,
          ip: socket.handshake.address,
        });
        return reply({ ok: false, code: "forbidden", error: "You cannot open this terminal." });
      }
      if (environment.state !== "RUNNING" || !environment.workerId) {
        return reply({ ok: false, code: "not_running", error: "This environment is not running. Start it from the lab page." });
      }
      const { environmentId, terminalId, cols, rows } = request;
      const owner = environment.mode === "owner";
      // Join before asking for the screen: output produced meanwhile is not lost; the
      // offsets let the browser drop what the screen already shows.
      const room = owner ? terminalRoom(environmentId, terminalId) : watcherRoom(environmentId, terminalId);
      await socket.join([room, environmentRoom(environmentId), courseRoom(environment.courseId)]);
      // The owner's attach opens the shell and sets its size; a viewer only looks.
      const opened = owner
        ? await workers.request(environment.workerId, WorkerRequests.openTerminal, { environmentId, terminalId, cols, rows }, OPEN_TERMINAL_TIMEOUT_MS)
        : await workers.request(environment.workerId, WorkerRequests.snapshotTerminal, { environmentId, terminalId }, OPEN_TERMINAL_TIMEOUT_MS);
      if (!opened.ok) {
        await socket.leave(room);
        if (owner) return reply({ ok: false, code: browserCodeOf(opened.code), error: opened.error });
        // The student may have closed this tab and kept others: name them, so the viewer can watch one.
        const listed = await workers.request(environment.workerId, WorkerRequests.listTerminals, { environmentId }, SNAPSHOT_TIMEOUT_MS);
        const terminals = listed.ok ? listed.terminalIds : [];
        return reply(
          terminals.length > 0
            ? { ok: false, code: "terminal_closed", error: "This terminal is not open; the student has others.", terminals }
            : { ok: false, code: "terminal_closed", error: "The student has no terminal open here right now." },
        );
      }
      const screen = await wholeScreen(workers, environment.workerId, { environmentId, terminalId }, opened, SNAPSHOT_TIMEOUT_MS);
      data.attached.set(attachmentKey(environmentId, terminalId), { workerId: environment.workerId, mode: environment.mode, courseId: environment.courseId });
      flow.start(environmentId, terminalId, opened.offset);
      if (!owner) {
        // Recorded before the screen is shown: no staff access goes unaudited (record never throws).
        await audit.record({
          action: "environment.staff_access",
          actorId: data.user.id,
          subjectType: "Environment",
          subjectId: environmentId,
          courseId: environment.courseId,
          ip: socket.handshake.address,
        });
      }
      const controller = data.controlling.has(environmentId) ? data.user.displayName : await controllerOf(context, environmentId);
      reply({
        ok: true,
        // A long screen goes ahead in pieces; the reply carries the last one.
        ...sendScreenPieces(socket, { environmentId, terminalId }, owner ? screen : filterForViewer(screen)),
        offset: opened.offset,
        mode: environment.mode,
        terminals: opened.terminalIds,
        controller,
      });
    } catch (error) {
      socketLog.error({ environmentId: request.environmentId, err: (error as Error).message }, "attach failed");
      reply(
        error instanceof WorkerUnavailableError
          ? { ok: false, code: "worker_unavailable", error: "The machine running this environment is not reachable. Reload in a moment." }
          : { ok: false, code: "failed", error: "The terminal could not be opened." },
      );
    }
  });

  socket.on(BrowserMessages.ack.event, (payload: unknown) => {
    const ack = BrowserMessages.ack.message.safeParse(payload);
    // Acks are frequent and answer-less: a bad one is dropped without a reply.
    if (!ack.success) return;
    void flow
      .acked(ack.data.environmentId, ack.data.terminalId, ack.data.offset)
      .catch((error: Error) => socketLog.warn({ err: error.message }, "repaint failed"));
  });

  return flow;
}
