/**
 * Input answers that ride with output (issue #13). A server this worker is connected to sends
 * `terminal:input` with an `inputId` and no acknowledgement. Once the shell has taken the
 * input, its answer waits here up to ANSWER_WAIT_MS for that terminal's next output message,
 * which carries it (`taken`): a keystroke and its echo then cost the worker one message to
 * the server, not two, and the server one wake-up. An answer no output came for in time, and
 * every refusal, go alone in `terminal:inputs-answered`. (Input that came through another
 * replica has no `inputId`: it is answered as before, by acknowledgement.)
 */
import type { InputAnswer } from "../../protocol/worker-contract";
import type { TerminalRef } from "../../protocol/worker-messages";
import { WorkerRequestError } from "../request-error";

/**
 * How long a taken input waits for output to ride with. An echo follows its keystroke within
 * a fraction of this; input that prints nothing (a password, `cat > file`) is answered this late.
 */
export const ANSWER_WAIT_MS = 3;

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export class InputAnswers {
  /** Per terminal, inputs the shell took whose answer waits for output. */
  private readonly taken = new Map<string, number[]>();
  private readonly refused: InputAnswer[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (answers: InputAnswer[]) => void) {}

  /** The input `inputId` to `ref` is being written; `written` settles once the shell took it (or refused it). */
  settle(ref: TerminalRef, inputId: number, written: Promise<void>) {
    written.then(
      () => {
        const key = keyOf(ref);
        const ids = this.taken.get(key);
        if (ids) ids.push(inputId);
        else this.taken.set(key, [inputId]);
        this.timer ??= setTimeout(() => this.flush(), ANSWER_WAIT_MS);
      },
      (error: unknown) => {
        // A refusal (input_busy: the server holds the input and retries) is told at once.
        const message = error instanceof Error ? error.message : String(error);
        this.refused.push({ inputId, reply: { ok: false, code: error instanceof WorkerRequestError ? error.code : "failed", error: message } });
        this.flush();
      },
    );
  }

  /** What an output message of `ref` carries: the inputs it answers, if any wait. */
  takenWith(ref: TerminalRef): { taken?: number[] } {
    const key = keyOf(ref);
    const ids = this.taken.get(key);
    if (!ids) return {};
    this.taken.delete(key);
    return { taken: ids };
  }

  /** The link dropped: the server has given up on every input it sent on it. */
  clear() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.taken.clear();
    this.refused.length = 0;
  }

  private flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const answers = this.refused.splice(0);
    for (const ids of this.taken.values()) for (const inputId of ids) answers.push({ inputId, reply: { ok: true } });
    this.taken.clear();
    if (answers.length > 0) this.send(answers);
  }
}
