/**
 * Input sent to a worker connected to this replica, waiting for its answer. The answer comes
 * inside the terminal's output (`taken`) when the shell echoes soon, else alone in
 * `terminal:inputs-answered` (runtime-worker/terminals/input-answers.ts): the keystroke path
 * then costs one message fewer each way than a socket.io acknowledgement. The other way, the input
 * carries the output acknowledgements waiting for that worker (`acks`), so the echo of the last
 * keystroke needs no acknowledgement message of its own. Per worker socket;
 * its disconnect fails every input still waiting on it.
 */
import type { Socket } from "socket.io";
import { z } from "zod";
import { MALFORMED_REPLY, readMessage, type MalformedReport } from "../../protocol/contract";
import { WorkerMessages, WorkerRequests, type WorkerReplyOf } from "../../protocol/worker-contract";
import { InputId, type TerminalInput } from "../../protocol/worker-messages";
import { acksToCarry } from "../gateway/output-acks";
import { WorkerUnavailableError } from "./worker-unavailable";

type InputReply = WorkerReplyOf<"terminalInput">;

interface Waiting {
  resolve: (reply: InputReply) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

let lastInputId = 0;
const waitingBySocket = new WeakMap<Socket, Map<number, Waiting>>();

/** Just the ids of an answers message that does not parse: those inputs are answered malformed_reply, not left to time out. */
const AnsweredIds = z.object({ answers: z.array(z.object({ inputId: InputId })).max(10_000) });

/**
 * Sends `input` to the worker on `socket`; resolves with its answer, or rejects when none comes
 * in `timeoutMs` or the worker goes. `report` tells of answers that do not parse.
 */
export function sendInput(socket: Socket, input: TerminalInput, timeoutMs: number, report: MalformedReport): Promise<InputReply> {
  let waiting = waitingBySocket.get(socket);
  if (!waiting) {
    const created = new Map<number, Waiting>();
    waitingBySocket.set(socket, created);
    socket.once("disconnect", () => inputsLost(socket));
    socket.on(WorkerMessages.inputsAnswered.event, (payload: unknown) => {
      const message = readMessage(WorkerMessages.inputsAnswered, payload, report);
      if (message) for (const { inputId, reply } of message.answers) inputAnswered(socket, inputId, reply);
      else {
        const error = `The answer to ${WorkerRequests.terminalInput.event} could not be read.`;
        for (const { inputId } of AnsweredIds.safeParse(payload).data?.answers ?? [])
          inputAnswered(socket, inputId, { ok: false, code: MALFORMED_REPLY, error });
      }
    });
    waiting = created;
  }
  const inputId = (lastInputId = lastInputId >= Number.MAX_SAFE_INTEGER ? 1 : lastInputId + 1);
  const answers = waiting;
  const answer = new Promise<InputReply>((resolve, reject) => {
    const timer = setTimeout(() => {
      answers.delete(inputId);
      reject(new WorkerUnavailableError(`The worker did not answer within ${Math.round(timeoutMs / 1000)} s.`));
    }, timeoutMs);
    answers.set(inputId, { resolve, reject, timer });
  });
  // Output acknowledgements waiting for this worker ride along (server/gateway/output-acks.ts).
  const acks = acksToCarry(socket);
  socket.emit(WorkerRequests.terminalInput.event, (acks ? { ...input, inputId, acks } : { ...input, inputId }) satisfies TerminalInput);
  return answer;
}

/** The worker answered input `inputId` (an id it was never sent, or one that timed out, is ignored). */
export function inputAnswered(socket: Socket, inputId: number, reply: InputReply) {
  const waiting = waitingBySocket.get(socket)?.get(inputId);
  if (!waiting) return;
  waitingBySocket.get(socket)!.delete(inputId);
  clearTimeout(waiting.timer);
  waiting.resolve(reply);
}

function inputsLost(socket: Socket) {
  const waiting = waitingBySocket.get(socket);
  waitingBySocket.delete(socket);
  for (const { reject, timer } of waiting?.values() ?? []) {
    clearTimeout(timer);
    reject(new WorkerUnavailableError("The worker disconnected before it took the input."));
  }
}
