/**
 * A long screen (attach reply, repaint) arrives in pieces: ScreenPart messages in order,
 * then the reply carrying the last piece with the count. This puts them back together,
 * per tab; a screen with a piece missing (a reconnect in between) is reported as missing,
 * and the panel attaches again.
 */

/** Characters held for one tab's unfinished screen; the server's screens are far smaller. */
const MAX_HELD_CHARS = 16 * 1024 * 1024;

type Held = { screenId: string; parts: string[]; chars: number };

export class ScreenPieces {
  private readonly held = new Map<string, Held>();

  /** One piece, in order; a new screen id replaces an unfinished one. */
  part(terminalId: string, screenId: string, index: number, data: string) {
    let held = this.held.get(terminalId);
    if (!held || held.screenId !== screenId) {
      held = { screenId, parts: [], chars: 0 };
      this.held.set(terminalId, held);
    }
    if (index !== held.parts.length || held.chars + data.length > MAX_HELD_CHARS) {
      this.held.delete(terminalId);
      return;
    }
    held.parts.push(data);
    held.chars += data.length;
  }

  /** The whole screen for the message carrying the last piece, or null when a piece is missing. */
  finish(terminalId: string, message: { screen: string; screenId?: string; screenParts?: number }): string | null {
    const held = this.held.get(terminalId);
    if (!message.screenId || !message.screenParts || message.screenParts <= 1) return message.screen;
    this.held.delete(terminalId);
    if (held?.screenId !== message.screenId || held.parts.length !== message.screenParts - 1) return null;
    return held.parts.join("") + message.screen;
  }

  clear() {
    this.held.clear();
  }
}
