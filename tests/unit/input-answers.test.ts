/**
 * The worker's answers to input: carried by the terminal's next output when it comes, sent
 * alone when none does, and a refusal told at once. No timing assertions: polled.
 */
import { afterEach, expect, it, vi } from "vitest";
import type { InputAnswer } from "../../protocol/worker-contract";
import { ANSWER_WAIT_MS, InputAnswers } from "../../runtime-worker/terminals/input-answers";
import { InputBusyError } from "../../runtime-worker/terminals/terminal-session";

const main = { environmentId: "env-1", terminalId: "main" };
const other = { environmentId: "env-1", terminalId: "second" };

it("an input the shell took rides with its terminal's next output, and only with that terminal's", async () => {
  const sent: InputAnswer[][] = [];
  const answers = new InputAnswers((batch) => sent.push(batch));
  answers.settle(main, 1, Promise.resolve());
  answers.settle(main, 2, Promise.resolve());
  await Promise.resolve();
  expect(answers.takenWith(other)).toEqual({});
  expect(answers.takenWith(main)).toEqual({ taken: [1, 2] });
  expect(answers.takenWith(main)).toEqual({});
});

it("an input no output came for is answered alone, and a refusal at once", async () => {
  const sent: InputAnswer[][] = [];
  const answers = new InputAnswers((batch) => sent.push(batch));
  answers.settle(main, 7, Promise.resolve());
  await expect.poll(() => sent.flat(), { timeout: 5000 }).toEqual([{ inputId: 7, reply: { ok: true } }]);
  answers.settle(main, 8, Promise.reject(new InputBusyError("full")));
  await expect.poll(() => sent.flat().length, { timeout: 5000 }).toBe(2);
  expect(sent.flat()[1]).toEqual({ inputId: 8, reply: { ok: false, code: "input_busy", error: "full" } });
});

it("forgets every waiting answer when the link drops", async () => {
  const sent: InputAnswer[][] = [];
  const answers = new InputAnswers((batch) => sent.push(batch));
  answers.settle(main, 3, Promise.resolve());
  await Promise.resolve();
  answers.clear();
  expect(answers.takenWith(main)).toEqual({});
});

afterEach(() => vi.useRealTimers());

it("a typist whose every keystroke echoes sends no answer alone (no timer is left to catch the next keystroke in flight)", async () => {
  vi.useFakeTimers();
  const sent: InputAnswer[][] = [];
  const answers = new InputAnswers((batch) => sent.push(batch));
  for (let inputId = 1; inputId <= 50; inputId++) {
    answers.settle(main, inputId, Promise.resolve());
    await Promise.resolve();
    // The echo comes a moment later and carries the answer.
    vi.advanceTimersByTime(1);
    expect(answers.takenWith(main)).toEqual({ taken: [inputId] });
    vi.advanceTimersByTime(1);
  }
  vi.advanceTimersByTime(ANSWER_WAIT_MS * 10);
  expect(sent).toEqual([]);
});

it("an answer waits its own time: the one before it going alone does not take it along", async () => {
  vi.useFakeTimers();
  const sent: InputAnswer[][] = [];
  const answers = new InputAnswers((batch) => sent.push(batch));
  answers.settle(main, 1, Promise.resolve());
  await Promise.resolve();
  vi.advanceTimersByTime(ANSWER_WAIT_MS - 1);
  answers.settle(other, 2, Promise.resolve());
  await Promise.resolve();
  vi.advanceTimersByTime(1);
  expect(sent.flat()).toEqual([{ inputId: 1, reply: { ok: true } }]);
  // Input 2's echo came in its time: it rides with it.
  expect(answers.takenWith(other)).toEqual({ taken: [2] });
  vi.advanceTimersByTime(ANSWER_WAIT_MS * 10);
  expect(sent.flat()).toHaveLength(1);
});
