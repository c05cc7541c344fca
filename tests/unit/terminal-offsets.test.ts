/**
 * TerminalSession's bookkeeping without Docker: output offsets count bytes (not
 * characters), and a snapshot covers exactly the bytes it reports, so a viewer that
 * repaints from it and then applies later chunks neither loses nor repeats output.
 */
import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ShellProcess } from "../../runtime-worker/driver";
import type { TerminalSize } from "../../protocol/ids";
import { TerminalSession } from "../../runtime-worker/terminals/terminal-session";

function fakeShell() {
  const input: string[] = [];
  const sizes: TerminalSize[] = [];
  let finish!: (exitCode: number | null) => void;
  const exited = new Promise<number | null>((resolve) => (finish = resolve));
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      input.push(chunk.toString("utf8"));
      callback();
    },
  });
  const shell: ShellProcess = { stream, resize: async (size) => void sizes.push(size), exited: () => exited };
  return { shell, stream, input, sizes, finish, emit: (data: Buffer | string) => stream.push(data) };
}

function recordingSession(shell: ShellProcess, size: TerminalSize = { cols: 80, rows: 24 }) {
  const received: { bytes: Buffer; offset: number }[] = [];
  const session = new TerminalSession(shell, size, (chunk, offset) => received.push({ bytes: Buffer.from(chunk), offset }));
  return { session, received };
}

/** Readable streams deliver pushed data on a later tick. */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

describe("terminal output offsets", () => {
  it("count bytes, also when a UTF-8 character is split across chunks", async () => {
    const fake = fakeShell();
    const { session, received } = recordingSession(fake.shell);
    const euro = Buffer.from("€"); // three bytes
    fake.emit(Buffer.from("héllo ")); // seven bytes
    await delivered();
    fake.emit(euro.subarray(0, 2));
    await delivered();
    fake.emit(Buffer.concat([euro.subarray(2), Buffer.from(" ok\r\n")]));
    await delivered();

    expect(received.map((entry) => entry.offset)).toEqual([0, 7, 9]);
    const total = received.reduce((sum, entry) => sum + entry.bytes.length, 0);
    expect(total).toBe(Buffer.byteLength("héllo € ok\r\n"));

    const snapshot = await session.snapshot();
    expect(snapshot.offset).toBe(total);
    expect(snapshot.screen).toContain("héllo € ok");
  });

  it("a snapshot taken while output is still being parsed covers exactly what it reports", async () => {
    const fake = fakeShell();
    const { session, received } = recordingSession(fake.shell);
    const lines = Array.from({ length: 300 }, (_, index) => `line ${index}\r\n`).join("");
    fake.emit(lines);
    await delivered();
    const snapshot = await session.snapshot();
    expect(snapshot.offset).toBe(Buffer.byteLength(lines));
    expect(snapshot.offset).toBe(received.reduce((sum, entry) => sum + entry.bytes.length, 0));
    expect(snapshot.screen).toContain("line 299");

    fake.emit("after\r\n");
    await delivered();
    // Live output resumes exactly where the snapshot ended.
    expect(received.at(-1)?.offset).toBe(snapshot.offset);
  });

  it("forwards input and resizes while open, and ignores them once the shell has exited", async () => {
    const fake = fakeShell();
    const { session } = recordingSession(fake.shell);
    session.write("ls\r");
    await session.resize({ cols: 100, rows: 30 });
    expect(fake.input).toEqual(["ls\r"]);
    expect(fake.sizes).toEqual([{ cols: 100, rows: 30 }]);

    fake.emit("bye\r\n");
    await delivered();
    fake.finish(0);
    expect(await session.exitCode).toBe(0);
    expect(session.isOpen).toBe(false);

    session.write("more\r");
    await session.resize({ cols: 120, rows: 40 });
    expect(fake.input).toEqual(["ls\r"]);
    expect(fake.sizes).toHaveLength(1);
    // A closed terminal still reports how far its output went.
    expect((await session.snapshot()).offset).toBe(Buffer.byteLength("bye\r\n"));
  });

  it("close ends the shell's input so the shell can exit", () => {
    const fake = fakeShell();
    const { session } = recordingSession(fake.shell);
    session.close();
    expect(fake.stream.writableEnded).toBe(true);
    expect(fake.stream.destroyed).toBe(true);
  });
});
