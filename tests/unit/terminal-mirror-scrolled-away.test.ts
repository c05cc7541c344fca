/**
 * The screen mirror leaves out plain text that scrolls away unseen (scrolled-away.ts). What it
 * leaves out must never show: each case parses the same output into a plain headless xterm
 * and through a TerminalSession, and the two screens (with scrollback) must be the same.
 */
import { Duplex } from "node:stream";
import xtermHeadless from "@xterm/headless";
import serializeAddon from "@xterm/addon-serialize";
import unicode11Addon from "@xterm/addon-unicode11";
import { describe, expect, it } from "vitest";
import { MirrorScheduler } from "../../runtime-worker/terminals/mirror-scheduler";
import { TerminalSession } from "../../runtime-worker/terminals/terminal-session";
import { linesThatHide, outputPiece, scrolledAwayPart, scrolledAwaySpan } from "../../runtime-worker/terminals/scrolled-away";

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;
const { Unicode11Addon } = unicode11Addon;

const SIZE = { cols: 80, rows: 24 };

/** What a mirror that parses every byte shows (the scrollback the session's mirror keeps at this size). */
async function parsedInFull(output: Buffer, scrollback: number) {
  const terminal = new Terminal({ ...SIZE, scrollback, allowProposedApi: true });
  const serializer = new SerializeAddon();
  terminal.loadAddon(serializer);
  terminal.loadAddon(new Unicode11Addon());
  terminal.unicode.activeVersion = "11";
  for (let start = 0; start < output.length; start += 64 * 1024)
    await new Promise<void>((resolve) => terminal.write(output.subarray(start, start + 64 * 1024), resolve));
  const screen = serializer.serialize({ scrollback });
  terminal.dispose();
  return screen;
}

/** What the session's mirror shows once it was given `output` (and how much of it was left out). */
async function throughSession(output: Buffer) {
  const stream = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  let exit: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => (exit = resolve));
  let relayed = 0;
  const session = new TerminalSession({ stream, resize: async () => undefined, exited: () => exited }, SIZE, (chunk) => (relayed += chunk.length), {
    scheduler: new MirrorScheduler(),
  });
  // In pieces, as a shell's stream delivers them; the snapshot is asked for once all came.
  for (let start = 0; start < output.length; start += 16 * 1024) stream.push(output.subarray(start, start + 16 * 1024));
  while (relayed < output.length) await new Promise((resolve) => setImmediate(resolve));
  let snapshot = await session.snapshot();
  for (let attempt = 0; snapshot.offset < output.length && attempt < 1000; attempt++) {
    await new Promise((resolve) => setImmediate(resolve));
    snapshot = await session.snapshot();
  }
  exit(0);
  return { ...snapshot, leftOut: session.leftOutBytes };
}

const base64Lines = (count: number, seed = 0) =>
  Array.from({ length: count }, (_, index) => `${Buffer.from(`line ${index + seed} of a flood of plain text...`).toString("base64")}\r\n`).join("");

/** Name, output, and whether the mirror leaves some of it out (null: it may). */
const cases: Array<[string, string, boolean | null]> = [
  [
    "a plain flood after a coloured prompt",
    `\x1b[1;32mstudent@shellroom\x1b[0m:~$ cat big.log\r\n${base64Lines(5000)}\x1b[1;32mstudent@shellroom\x1b[0m:~$ `,
    true,
  ],
  ["a flood printed in a colour, set before it", `\x1b[41;33m${base64Lines(4000)}\x1b[0mdone\r\n`, true],
  ["`yes`", `${"y\r\n".repeat(20000)}^C\r\n$ `, true],
  ["a flood inside an unterminated OSC string", `\x1b]0;a title that never ends ${base64Lines(4000)}\x07after\r\n`, true],
  ["a flood whose first character ends a CSI sequence", `\x1b[3${base64Lines(4000, 7)}`, true],
  ["a flood with an escape near its end", `${base64Lines(4000)}\x1b[2J\x1b[Hcleared\r\n${base64Lines(20)}`, true],
  ["lines without CR (a staircase)", `${"abc\n".repeat(3000)}${base64Lines(3000)}`, true],
  ["a flood in the alternate screen", `\x1b[?1049h${base64Lines(3000)}\x1b[?1049lback\r\n`, true],
  ["wide characters and tabs", `${"漢字\tかな\téx\r\n".repeat(6000)}end`, true],
  ["a flood inside a scroll region", `\x1b[5;20r\x1b[20;1H${base64Lines(4000)}\x1b[1;1Htop`, false],
  ["a scroll region set mid-flood", `${base64Lines(3000)}\x1b[5;20r\x1b[20;1H${base64Lines(3000)}`, null],
  ["floods between coloured lines", `${base64Lines(2000)}\x1b[31merror\x1b[0m\r\n${base64Lines(2500)}\x1b[33mwarning\x1b[0m\r\n${"x".repeat(70)}\r\n`, true],
  ["a flood inside a DCS string", `\x1bP1$q${base64Lines(3000)}\x1b\\after\r\n`, true],
  ["a scroll region set and reset", `\x1b[5;20r\x1b[r${base64Lines(4000)}`, true],
];

describe("the mirror leaves out plain text that scrolls away unseen", () => {
  for (const [name, text, leavesOut] of cases) {
    it(`shows the same screen as parsing every byte: ${name}`, async () => {
      const output = Buffer.from(text);
      const snapshot = await throughSession(output);
      expect(snapshot.offset).toBe(output.length);
      expect(snapshot.screen).toBe(await parsedInFull(output, 1000));
      if (leavesOut) expect(snapshot.leftOut).toBeGreaterThan(0);
      else if (leavesOut === false) expect(snapshot.leftOut).toBe(0);
    });
  }

  it("leaves out most of a long plain flood", () => {
    const lines = linesThatHide(24, 1000);
    const run = [outputPiece(Buffer.from(`\x1b[32m$\x1b[0m cat\r\n${base64Lines(10000)}`))];
    const found = scrolledAwayPart(run, lines);
    expect(found).not.toBeNull();
    expect(found!.part.length).toBeGreaterThan(run[0]!.bytes.length / 2);
    // Nothing is lost or reordered: the three parts are the run.
    const rejoined = Buffer.concat([...found!.before.map((piece) => piece.bytes), found!.part, ...found!.after.map((piece) => piece.bytes)]);
    expect(rejoined.equals(run[0]!.bytes)).toBe(true);
  });

  it("leaves nothing out when too few lines follow, or before a sequence has surely ended", () => {
    expect(scrolledAwaySpan(Buffer.from(base64Lines(100)), linesThatHide(24, 1000))).toBeNull();
    // Digits and ";" could still be a CSI sequence's parameters: no place to start.
    expect(scrolledAwaySpan(Buffer.from("1;2;3\r\n".repeat(5000)), linesThatHide(24, 1000))).toBeNull();
  });
});
