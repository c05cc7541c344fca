/**
 * Flow control, the browser's half: tell the server how far xterm has actually rendered,
 * so it never has more than BROWSER_OUTPUT_WINDOW bytes in flight to this tab. A flood
 * then stays a bounded queue in xterm instead of freezing the page.
 *
 * Acks are sent every ACK_EVERY_BYTES of progress (so a fast stream keeps flowing without
 * waiting on a timer) and once more after the last progress (so the final position is always
 * acked: the server repaints a browser that fell behind only when everything was acked):
 * shortly after output of some size, and after ACK_IDLE_MS when less than ACK_SOON_BYTES
 * came (echoes of typing, a prompt). A typist's keys come 100 to 300 ms apart: acked 100 ms
 * after each echo, every keystroke cost the server one more message and wake-up; now a
 * typist's echoes are acked together once they pause. The window (512 KiB) is far away.
 */

/** Well inside the server's 512 KiB window: it never stalls on a browser that keeps up. */
export const ACK_EVERY_BYTES = 64 * 1024;
export const ACK_TRAILING_MS = 100;
/** Less progress than this since the last ack waits ACK_IDLE_MS for its trailing ack. */
export const ACK_SOON_BYTES = 1024;
export const ACK_IDLE_MS = 1000;

export class RenderedOffsetAcks {
  private renderedOffset = 0;
  private ackedOffset = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly send: (offset: number) => void) {}

  /** Output up to `offset` has been parsed by xterm (called from write callbacks). */
  rendered(offset: number) {
    if (this.disposed || offset <= this.renderedOffset) return;
    this.renderedOffset = offset;
    if (this.renderedOffset - this.ackedOffset >= ACK_EVERY_BYTES) {
      this.flush();
      return;
    }
    clearTimeout(this.timer);
    const delay = this.renderedOffset - this.ackedOffset >= ACK_SOON_BYTES ? ACK_TRAILING_MS : ACK_IDLE_MS;
    this.timer = setTimeout(() => this.flush(), delay);
  }

  /** Sends the rendered position now if it moved since the last ack. */
  flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.disposed || this.renderedOffset <= this.ackedOffset) return;
    this.ackedOffset = this.renderedOffset;
    this.send(this.ackedOffset);
  }

  /**
   * A new attach starts a new tracker: offsets may restart (a new shell), and write
   * callbacks still queued in xterm from before must not ack for the new stream.
   */
  dispose() {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
