/**
 * Control of a terminal once attached: typing (only for whoever holds the keyboard, within the
 * input window), resizing (the owner's window sets the size), closing a tab (the owner), and
 * staff taking or giving back an environment's keyboard.
 */
import { BrowserRequests, type TerminalErrorCode } from "../../protocol/browser-contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import { canCloseTerminal, canResize, canTakeKeyboard, canTypeIn } from "../auth/access";
import type { BrowserFlow } from "./browser-flow";
import { InputFlow } from "./input-flow";
import { TokenBucket } from "./token-bucket";
import { controlRoom } from "./rooms";
import {
  RATE_LIMITED,
  SNAPSHOT_TIMEOUT_MS,
  accessTo,
  announceControl,
  attachmentKey,
  browserCodeOf,
  controllerOf,
  replyTo,
  type Attachment,
  type GatewayContext,
  type SocketScope,
} from "./terminal-socket";

/** A shell that does not read holds its input's acknowledgement; past this the window frees anyway. */
const INPUT_ACK_TIMEOUT_MS = 60_000;
/**
 * Per socket: resizes (each reflows the worker's mirror). A window being dragged (the
 * browser sends at most ~5 resizes a second) stays well inside.
 */
const RESIZE_BURST = 20;
const RESIZES_PER_SECOND = 8;

/** Handles input, resize, close, control and disconnect on one socket; `flow` is its output flow (a closed tab stops it). */
export function handleControl(context: GatewayContext, scope: SocketScope, flow: BrowserFlow) {
  const { workers, audit } = context;
  const { socket, data, parse, refuse } = scope;
  const inputFlow = new InputFlow();
  const resizeRate = new TokenBucket(RESIZE_BURST, RESIZES_PER_SECOND);

  /** The attachment that lets this socket type into a terminal, or the reason it may not. */
  function typingRights(environmentId: string, terminalId: string): Attachment | { code: TerminalErrorCode; error: string } {
    const attachment = data.attached.get(attachmentKey(environmentId, terminalId));
    if (!attachment) return { code: "not_attached", error: "Attach to this terminal before typing into it." };
    if (!canTypeIn(attachment.mode, data.controlling.has(environmentId))) {
      return { code: "forbidden", error: "You are watching this terminal: take the keyboard to type." };
    }
    return attachment;
  }

  const { input: inputRequest, resize: resizeRequest, close: closeRequest, control: controlRequest } = BrowserRequests;

  socket.on(inputRequest.event, (payload: unknown, ack?: unknown) => {
    // Every keystroke: the contract's hand-written guard reads it; only one it refuses is parsed with the schema, to say why.
    const input = parse(inputRequest, payload, ack);
    if (!input) return;
    const rights = typingRights(input.environmentId, input.terminalId);
    if ("code" in rights) return refuse(inputRequest.event, rights.code, rights.error, ack);
    const key = attachmentKey(input.environmentId, input.terminalId);
    const refusal = inputFlow.admit(key, input.data);
    if (refusal === "input_busy") return refuse(inputRequest.event, refusal, "The shell has not taken your earlier input yet.", ack);
    if (refusal) return refuse(inputRequest.event, refusal, "Too much input at once: wait a moment.", ack);
    const reply = replyTo(inputRequest, ack);
    // The worker answers once the shell's stream took the input: that moves the window.
    workers
      .input(rights.workerId, input, INPUT_ACK_TIMEOUT_MS)
      .then((taken) => {
        if (taken.ok) return reply({ ok: true });
        refuse(inputRequest.event, browserCodeOf(taken.code), taken.error, ack);
      })
      // No answer in time: the worker is gone (attaching again says so) or the shell still
      // holds it; either way the page is not told to show an error for a keystroke.
      .catch(() => reply({ ok: false, code: "worker_unavailable", error: "The machine running this environment did not answer." }))
      .finally(() => inputFlow.settled(key, input.data.length));
  });

  socket.on(resizeRequest.event, (payload: unknown, ack?: unknown) => {
    const resize = parse(resizeRequest, payload, ack);
    if (!resize) return;
    const attachment = data.attached.get(attachmentKey(resize.environmentId, resize.terminalId));
    if (!attachment) return refuse(resizeRequest.event, "not_attached", "Attach to this terminal before resizing it.", ack);
    // The owner's window sets the size; a viewer's would resize the student's screen.
    if (!canResize(attachment.mode)) return;
    if (!resizeRate.take()) return refuse(resizeRequest.event, "rate_limited", RATE_LIMITED, ack);
    workers.send(attachment.workerId, WorkerRequests.resizeTerminal, resize);
    replyTo(resizeRequest, ack)({ ok: true });
  });

  socket.on(closeRequest.event, async (payload: unknown, ack?: unknown) => {
    const request = parse(closeRequest, payload, ack);
    if (!request) return;
    const reply = replyTo(closeRequest, ack);
    // The owner may close a tab this window never opened (another window's).
    const access = await accessTo(context, request.environmentId, data.user).catch(() => null);
    if (!access || !canCloseTerminal(access.mode)) return reply({ ok: false, code: "forbidden", error: "Only the terminal's owner can close it." });
    if (!access.workerId || access.state !== "RUNNING") return reply({ ok: false, code: "not_running", error: "This environment is not running." });
    try {
      const closed = await workers.request(
        access.workerId,
        WorkerRequests.closeTerminal,
        { environmentId: request.environmentId, terminalId: request.terminalId },
        SNAPSHOT_TIMEOUT_MS,
      );
      data.attached.delete(attachmentKey(request.environmentId, request.terminalId));
      flow.stop(request.environmentId, request.terminalId);
      reply(closed.ok ? { ok: true } : { ok: false, code: browserCodeOf(closed.code), error: closed.error });
    } catch {
      reply({ ok: false, code: "worker_unavailable", error: "The machine running this environment is not reachable." });
    }
  });

  socket.on(controlRequest.event, async (payload: unknown, ack?: unknown) => {
    const request = parse(controlRequest, payload, ack);
    if (!request) return;
    const reply = replyTo(controlRequest, ack);
    const { environmentId, take } = request;
    const watching = [...data.attached.entries()].find(([key, attachment]) => key.startsWith(`${environmentId}/`) && attachment.mode === "watch");
    if (!watching) return reply({ ok: false, code: "not_attached", error: "Watch this terminal before taking its keyboard." });
    // Rights may have changed since the attach (removed from the course): check again.
    const access = await accessTo(context, environmentId, data.user).catch(() => null);
    if (!access || !canTakeKeyboard(access.mode)) return reply({ ok: false, code: "forbidden", error: "You cannot type in this terminal." });
    if (take) {
      data.controlling.add(environmentId);
      await socket.join(controlRoom(environmentId));
      announceControl(context, environmentId, data.user.displayName);
    } else {
      data.controlling.delete(environmentId);
      await socket.leave(controlRoom(environmentId));
      announceControl(context, environmentId, await controllerOf(context, environmentId));
    }
    await audit.record({
      action: take ? "environment.keyboard_taken" : "environment.keyboard_released",
      actorId: data.user.id,
      subjectType: "Environment",
      subjectId: environmentId,
      courseId: access.courseId,
      ip: socket.handshake.address,
    });
    reply({ ok: true });
  });

  socket.on("disconnect", () => {
    // Staff who close the page give the keyboard back.
    for (const environmentId of data.controlling) {
      void controllerOf(context, environmentId).then((controller) => announceControl(context, environmentId, controller));
    }
  });
}
