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
  /** Per terminal, inputs the shell took whose answer waits for output, with when each was taken. */
  private readonly taken = new Map<string, Array<{ inputId: number; at: number }>>();
  private readonly refused: InputAnswer[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (answers: InputAnswer[]) => void) {}

  /** The input `inputId` to `ref` is being written; `written` settles once the shell took it (or refused it). */
  settle(ref: TerminalRef, inputId: number, written: Promise<void>) {
    written.then(
      () => {
        const key = keyOf(ref);
        const entry = { inputId, at: performance.now() };
        const waiting = this.taken.get(key);
        if (waiting) waiting.push(entry);
        else this.taken.set(key, [entry]);
        this.timer ??= setTimeout(() => this.flushDue(), ANSWER_WAIT_MS);
      },
      (error: unknown) => {
        // A refusal (input_busy: the server holds the input and retries) is told at once.
        const message = error instanceof Error ? error.message : String(error);
        this.refused.push({ inputId, reply: { ok: false, code: error instanceof WorkerRequestError ? error.code : "failed", error: message } });
        this.flushDue();
      },
    );
  }

  /** What an output message of `ref` carries: the inputs it answers, if any wait. */
  takenWith(ref: TerminalRef): { taken?: number[] } {
    const key = keyOf(ref);
    const waiting = this.taken.get(key);
    if (!waiting) return {};
    this.taken.delete(key);
    // Nothing else waits: no timer is left to wake the worker for nothing (a typist's every echo would).
    if (this.taken.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return { taken: waiting.map((entry) => entry.inputId) };
  }

  /** The link dropped: the server has given up on every input it sent on it. */
  clear() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.taken.clear();
    this.refused.length = 0;
  }

  /**
   * Sends the refusals, and the answers that waited ANSWER_WAIT_MS for output in vain; one taken
   * since waits its own time (the timer is set again for it), so it can still ride with its echo.
   */
  private flushDue() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const answers = this.refused.splice(0);
    // A millisecond of slack: timers fire by the loop's clock, which may lag this one.
    const dueBefore = performance.now() - ANSWER_WAIT_MS + 1;
    let nextDue = Infinity;
    for (const [key, waiting] of this.taken) {
      const due = waiting.filter((entry) => entry.at <= dueBefore);
      for (const { inputId } of due) answers.push({ inputId, reply: { ok: true } });
      if (due.length === waiting.length) this.taken.delete(key);
      else {
        const left = waiting.slice(due.length);
        this.taken.set(key, left);
        nextDue = Math.min(nextDue, left[0]!.at + ANSWER_WAIT_MS);
      }
    }
    if (nextDue !== Infinity) this.timer = setTimeout(() => this.flushDue(), Math.max(1, Math.ceil(nextDue - performance.now())));
    if (answers.length > 0) this.send(answers);
  }
}
