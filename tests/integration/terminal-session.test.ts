/**
 * Terminals through the EnvironmentManager against real Docker: the shell a student
 * types into, its byte offsets and screen snapshot, re-attaching, resizing and stopping.
 * Only the event sink is a test double (it records what the worker would send out).
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { LABEL_ENVIRONMENT } from "../../runtime-worker/docker/container-config";
import { EnvironmentManager, type TerminalEvents } from "../../runtime-worker/environments";
import { type TerminalRef } from "../../protocol/worker-messages";
import { studentSpec } from "../support/student-spec";
import { runArgvInEnvironment, runInEnvironment } from "../support/run-in-environment";

/** Records every output chunk, exit and tab change the manager reports, per terminal (acking at once). */
class RecordingEvents implements TerminalEvents {
  readonly chunks = new Map<string, { chunk: Buffer; offset: number }[]>();
  readonly exits: { ref: TerminalRef; exitCode: number | null }[] = [];
  readonly tabChanges: { environmentId: string; terminalIds: string[] }[] = [];

  link(ref: TerminalRef) {
    return {
      connected: true,
      send: (data: Uint8Array, offset: number, acked: () => void) => {
        this.output(ref, data, offset);
        acked();
      },
    };
  }

  tabs(environmentId: string, terminalIds: string[]) {
    this.tabChanges.push({ environmentId, terminalIds });
  }

  output(ref: TerminalRef, chunk: Uint8Array, offset: number) {
    const key = `${ref.environmentId}/${ref.terminalId}`;
    const list = this.chunks.get(key) ?? [];
    list.push({ chunk: Buffer.from(chunk), offset });
    this.chunks.set(key, list);
  }

  exit(ref: TerminalRef, exitCode: number | null) {
    this.exits.push({ ref, exitCode });
  }

  of(ref: TerminalRef) {
    return this.chunks.get(`${ref.environmentId}/${ref.terminalId}`) ?? [];
  }

  bytes(ref: TerminalRef) {
    return Buffer.concat(this.of(ref).map((entry) => entry.chunk));
  }

  /** The output as a reader sees it: no carriage returns, no colour or mode escapes. */
  text(ref: TerminalRef) {
    return this.bytes(ref)
      .toString("utf8")
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
      .replace(/\r/g, "");
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const driver = new DockerDriver(docker, `test-terminal-${randomBytes(3).toString("hex")}`);
const events = new RecordingEvents();
const manager = new EnvironmentManager(driver, events, pino({ level: "silent" }));
const environmentId = `term-${randomBytes(6).toString("hex")}`;
const spec = studentSpec(environmentId, "terminal-test-owner");
const ref: TerminalRef = { environmentId, terminalId: "main" };

/** Types a command whose output is wrapped in markers, and returns what it printed. */
async function typeAndRead(command: string) {
  const marker = randomBytes(4).toString("hex");
  // The markers are split in the typed line so that the echo of the input never matches.
  manager.input(ref, `echo "<${marker}""-begin>"; ${command}; echo "<${marker}""-end>"\r`);
  const pattern = new RegExp(`<${marker}-begin>\\n([\\s\\S]*?)<${marker}-end>\\n`);
  const match = await waitFor(`output of ${command}`, () => pattern.exec(events.text(ref)));
  return match[1].trim();
}

/** The shell shows its prompt again and no byte has arrived for a while. */
async function quiet() {
  let last = -1;
  let stableSince = Date.now();
  await waitFor("the terminal to go quiet", () => {
    const now = events.bytes(ref).length;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
    return Date.now() - stableSince > 300 && /\$ $/.test(events.text(ref));
  });
}

const countShells = async () => {
  const { output } = await runArgvInEnvironment(driver, environmentId, ["pgrep", "-c", "-x", "bash"]);
  return Number(output.trim());
};

describe("a terminal in a student's environment", () => {
  beforeAll(async () => {
    await manager.start(spec);
  });

  afterAll(async () => {
    await manager.remove(environmentId, true);
    const filters = { label: [`${LABEL_ENVIRONMENT}=${environmentId}`] };
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
  });

  it("runs what the student types and shows the result", async () => {
    const opened = await manager.openTerminal({ ...ref, cols: 80, rows: 24 });
    expect(opened.offset).toBeGreaterThanOrEqual(0);
    await waitFor("the prompt", () => /student@shellroom:~\/workspace\$ $/.test(events.text(ref)));

    manager.input(ref, "echo $((6*7))\r");
    await waitFor("42 on its own line", () => /^42$/m.test(events.text(ref)));
    // The typed line is echoed as typed: only the shell's arithmetic produced "42".
    expect(events.text(ref)).toContain("echo $((6*7))");
  });

  it("numbers its output by byte, without gaps or overlaps", () => {
    let expected = 0;
    for (const { chunk, offset } of events.of(ref)) {
      expect(offset).toBe(expected);
      expected += chunk.length;
    }
    expect(expected).toBeGreaterThan(0);
  });

  it("repaints a re-attaching viewer from a snapshot that ends where the live output resumes", async () => {
    await quiet();
    const snapshot = await manager.openTerminal({ ...ref, cols: 80, rows: 24 });
    expect(snapshot.screen).toContain("42");
    expect(snapshot.screen).toContain("echo $((6*7))");
    expect(snapshot.offset).toBe(events.bytes(ref).length);
  });

  it("re-attaching to the same terminal returns the same shell instead of a second one", async () => {
    const firstPid = await typeAndRead("echo $$");
    expect(firstPid).toMatch(/^\d+$/);
    expect(await countShells()).toBe(1);

    await manager.openTerminal({ ...ref, cols: 80, rows: 24 });
    expect(manager.openTerminalCount).toBe(1);
    expect(await typeAndRead("echo $$")).toBe(firstPid);
    expect(await countShells()).toBe(1);
  });

  it("two viewers attaching at once share one shell", async () => {
    const other: TerminalRef = { environmentId, terminalId: "second" };
    const [a, b] = await Promise.all([manager.openTerminal({ ...other, cols: 80, rows: 24 }), manager.openTerminal({ ...other, cols: 80, rows: 24 })]);
    expect(a.offset).toBeGreaterThanOrEqual(0);
    expect(b.offset).toBeGreaterThanOrEqual(0);
    expect(manager.openTerminalCount).toBe(2);
    expect(await countShells()).toBe(2);
  });

  it("lists an environment's open terminals as tabs, and closing one ends only its shell", async () => {
    expect(manager.terminalIds(environmentId)).toEqual(["main", "second"]);
    expect(events.tabChanges.at(-1)).toEqual({ environmentId, terminalIds: ["main", "second"] });
    const third: TerminalRef = { environmentId, terminalId: "third" };
    const opened = await manager.openTerminal({ ...third, cols: 80, rows: 24 });
    expect(opened.terminalIds).toEqual(["main", "second", "third"]);
    expect(await countShells()).toBe(3);

    await manager.closeTerminal(third);
    await waitFor("the third tab's exit", () => events.exits.find((exit) => exit.ref.terminalId === "third"));
    await waitFor("the tab list without it", () => events.tabChanges.at(-1)?.terminalIds.join() === "main,second");
    expect(await countShells()).toBe(2);
    expect(await typeAndRead("echo still-here")).toBe("still-here");
  });

  it("refuses a ninth terminal in one environment", async () => {
    const extra = Array.from({ length: 6 }, (_, index): TerminalRef => ({ environmentId, terminalId: `extra-${index}` }));
    for (const tab of extra) await manager.openTerminal({ ...tab, cols: 80, rows: 24 });
    expect(manager.terminalIds(environmentId)).toHaveLength(8);
    await expect(manager.openTerminal({ environmentId, terminalId: "ninth", cols: 80, rows: 24 })).rejects.toThrow(/at most 8 terminals/);
    for (const tab of extra) await manager.closeTerminal(tab);
    await waitFor("the extra tabs to close", () => manager.terminalIds(environmentId).length === 2);
  });

  it("a viewer's snapshot neither starts a shell nor resizes the owner's", async () => {
    await expect(manager.snapshot({ environmentId, terminalId: "never-opened" })).rejects.toThrow(/not open/);
    expect(manager.terminalIds(environmentId)).toEqual(["main", "second"]);
    const snapshot = await manager.snapshot(ref);
    expect(snapshot.screen).toContain("still-here");
    expect(await typeAndRead("stty size")).toBe("24 80");
  });

  it("resizing the terminal changes what the shell sees", async () => {
    expect(await typeAndRead("stty size")).toBe("24 80");
    await manager.resize(ref, { cols: 132, rows: 40 });
    expect(await typeAndRead("stty size")).toBe("40 132");
  });

  it("a command that finishes at once still reports how it exited", async () => {
    // Such a process can end before the driver's first resize and before anyone listens
    // to its stream; neither may throw nor lose the exit.
    for (const code of [0, 3, 7, 0, 5]) {
      expect(await runArgvInEnvironment(driver, environmentId, ["sh", "-c", `exit ${code}`], { timeoutMs: 10_000 })).toEqual({ output: "", exitCode: code });
    }
    expect(await runInEnvironment(driver, environmentId, "printf done", { timeoutMs: 10_000 })).toEqual({ output: "done", exitCode: 0 });
  });

  it("stopping the environment ends its terminals", async () => {
    await manager.stop(environmentId);
    await waitFor("the exit event of main", () => events.exits.find((exit) => exit.ref.terminalId === "main"));
    await waitFor("the exit event of second", () => events.exits.find((exit) => exit.ref.terminalId === "second"));
    expect(manager.openTerminalCount).toBe(0);
    expect(await driver.state(environmentId)).toBe("stopped");
    // Typing into an ended terminal is ignored rather than thrown.
    expect(() => manager.input(ref, "echo nobody\r")).not.toThrow();
  });
});
