/**
 * The worker's terminal rules on the fake runtime: a terminal's shell answers through the
 * output link; tabs attaching at once share one shell; an environment has at most
 * MAX_TERMINALS_PER_ENVIRONMENT; a closed tab's shell is hung up and the next open starts a
 * new one; a stop ends every terminal; a shell that exits reports its code; checks run only
 * in a running environment.
 */
import { describe, expect, it } from "vitest";
import { MAX_TERMINALS_PER_ENVIRONMENT } from "../../protocol/browser-messages";
import { fakeWorker, freshSpec } from "../support/fake-runtime/fake-worker";
import { until } from "../support/until";

const size = { cols: 80, rows: 24 };

async function runningWorker() {
  const worker = fakeWorker();
  const spec = freshSpec();
  await worker.manager.start(spec);
  return { ...worker, environmentId: spec.environmentId };
}

describe("terminals of an environment", () => {
  it("attach to the main shell the start made, which answers through the output link", async () => {
    const { driver, manager, output, environmentId } = await runningWorker();
    const ref = { environmentId, terminalId: "main" };
    const opened = await manager.openTerminal({ ...ref, ...size });
    expect(opened.terminalIds).toEqual(["main"]);
    expect(driver.faults.count("attachShell")).toBe(1);
    await manager.input(ref, `echo "hel""lo"\r`);
    await until("the shell's answer", () => output(ref).includes("hello"), 5_000, 5);
    const snapshot = await manager.snapshot(ref);
    expect(snapshot.screen).toContain("hello"); // the screen mirror saw it too
  });

  it("share one shell between tabs attaching at once", async () => {
    const { driver, manager, environmentId } = await runningWorker();
    const ref = { environmentId, terminalId: "second" };
    await Promise.all([manager.openTerminal({ ...ref, ...size }), manager.openTerminal({ ...ref, ...size })]);
    expect(driver.faults.count("attachShell")).toBe(1);
    expect(manager.terminalIds(environmentId)).toEqual(["second"]);
  });

  it(`are at most ${MAX_TERMINALS_PER_ENVIRONMENT} per environment, counting those still opening`, async () => {
    const { manager, environmentId } = await runningWorker();
    const opens = Array.from({ length: MAX_TERMINALS_PER_ENVIRONMENT + 1 }, (_, index) =>
      manager.openTerminal({ environmentId, terminalId: `tab-${index}`, ...size }).then(
        () => "opened",
        (error: Error) => error.message,
      ),
    );
    const outcomes = await Promise.all(opens);
    expect(outcomes.filter((outcome) => outcome === "opened")).toHaveLength(MAX_TERMINALS_PER_ENVIRONMENT);
    expect(outcomes.filter((outcome) => /at most/.test(outcome))).toHaveLength(1);
  });

  it("hang up a closed tab's shell; the next open starts a new one", async () => {
    const { driver, manager, exits, tabs, environmentId } = await runningWorker();
    const ref = { environmentId, terminalId: "notes" };
    await manager.openTerminal({ ...ref, ...size });
    const shell = driver.container(environmentId)!.shells.get("notes")!;
    await manager.closeTerminal(ref);
    expect(shell.running).toBe(false);
    await until("the tab's exit", () => exits.find((exit) => exit.ref.terminalId === "notes"), 5_000, 5);
    expect(tabs.get(environmentId)).not.toContain("notes");
    await manager.openTerminal({ ...ref, ...size });
    expect(driver.container(environmentId)!.shells.get("notes")).not.toBe(shell);
  });

  it("report a shell's own exit with its code", async () => {
    const { manager, exits, environmentId } = await runningWorker();
    const ref = { environmentId, terminalId: "main" };
    await manager.openTerminal({ ...ref, ...size });
    await manager.input(ref, "exit 4\r");
    const exit = await until("the shell's exit", () => exits.find((candidate) => candidate.ref.terminalId === "main"), 5_000, 5);
    expect(exit.exitCode).toBe(4);
    expect(manager.terminalIds(environmentId)).toEqual([]);
  });

  it("end with a stop, and cannot be opened in a stopped environment", async () => {
    const { manager, environmentId } = await runningWorker();
    await manager.openTerminal({ environmentId, terminalId: "main", ...size });
    await manager.stop(environmentId);
    expect(manager.terminalIds(environmentId)).toEqual([]);
    expect(manager.openTerminalCount).toBe(0);
    await expect(manager.openTerminal({ environmentId, terminalId: "main", ...size })).rejects.toThrow(/not running/);
  });
});

describe("a step's check", () => {
  it("passes on exit 0, fails with its output otherwise, and is refused in a stopped environment", async () => {
    const { driver, manager, environmentId } = await runningWorker();
    expect(await manager.check({ environmentId, script: "true", timeoutSeconds: 5 })).toEqual({ exitCode: 0, output: "", timedOut: false });
    expect(await manager.check({ environmentId, script: "echo missing file\nexit 1", timeoutSeconds: 5 })).toEqual({
      exitCode: 1,
      output: "missing file\n",
      timedOut: false,
    });
    // As the checker's own uid, never the student's.
    expect(driver.engine.scripts.at(-1)?.user).toMatch(/^\d+:\d+$/);
    await manager.stop(environmentId);
    await expect(manager.check({ environmentId, script: "true", timeoutSeconds: 5 })).rejects.toThrow(/not running/);
  });
});
