/**
 * Who on this worker is typing: the last two terminals given input, and when. A terminal's
 * output is held to the contended budget (output-budget.ts) while another terminal was typed in
 * within TYPING_WINDOW_MS. Two entries are enough: the most recent typer other than a given
 * terminal is always one of them. Constant time, because every keystroke and every chunk of
 * output asks.
 */

/** How long after a keystroke its terminal counts as being typed in (a thinking pause included). */
export const TYPING_WINDOW_MS = 3_000;

interface Typed {
  who: object;
  at: number;
}

export class TypingWatch {
  private latest: Typed | null = null;
  private before: Typed | null = null;

  constructor(
    private readonly windowMs = TYPING_WINDOW_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `who` (a terminal) was given input now. */
  typed(who: object) {
    const at = this.now();
    if (this.latest?.who === who) this.latest.at = at;
    else {
      this.before = this.latest;
      this.latest = { who, at };
    }
  }

  /** True while a terminal other than `who` was typed in within the window. */
  othersTyping(who: object): boolean {
    const since = this.now() - this.windowMs;
    const { latest, before } = this;
    return (latest !== null && latest.who !== who && latest.at > since) || (before !== null && before.who !== who && before.at > since);
  }

  /** `who` is gone: it no longer counts as typing. */
  forget(who: object) {
    if (this.before?.who === who) this.before = null;
    if (this.latest?.who === who) {
      this.latest = this.before;
      this.before = null;
    }
  }
}

/** The worker's one watch: every terminal shares it. */
export const sharedTypingWatch = new TypingWatch();
