/**
 * Step checks and setup scripts are instructor content the student must neither read nor
 * forge: probed from inside a real container, with the student doing what they could.
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCheck, runScript } from "../../runtime-worker/checks/run-check";
import { CHECKER_UID } from "../../runtime-worker/docker/container-config";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { studentSpec } from "../support/student-spec";
import { runArgvInEnvironment, runInEnvironment } from "../support/run-in-environment";

const docker = new Docker();
const driver = new DockerDriver(docker, `test-checks-${randomBytes(3).toString("hex")}`);
const environmentId = `chk-${randomBytes(6).toString("hex")}`;
const spec = studentSpec(environmentId, "check-test-owner");

/** A command as the student, in a plain shell: the dotfiles below are poisoned on purpose. */
const asStudent = async (command: string) => {
  const result = await runArgvInEnvironment(driver, environmentId, ["bash", "--noprofile", "--norc", "-c", command]);
  expect(result.exitCode, result.output).toBe(0);
  return result.output;
};
const check = (script: string, timeoutSeconds = 20) => runCheck(driver, { environmentId, script, timeoutSeconds });

beforeAll(async () => {
  await driver.create(spec);
  await driver.start(environmentId);
});
afterAll(async () => {
  await driver.remove(environmentId, { removeVolume: true });
});

it("a check script does not appear in the student's process list while it runs", async () => {
  const marker = `secret-answer-${randomBytes(8).toString("hex")}`;
  const running = check(`# the answer is ${marker}\nwhile [ ! -e ~/workspace/release ]; do sleep 0.1; done\necho finished`, 60);

  // The check is running (its loop's sleep shows up), and the student looks everywhere they can.
  await expect.poll(async () => (await asStudent("ps -eo args")).includes("sleep 0.1"), { timeout: 30_000, interval: 200 }).toBe(true);
  const processes = await asStudent("ps -eo user,args");
  // Every command line and environment the student can read, and every file they can read where scripts used to land.
  const procFiles = await asStudent("for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do tr '\\0' ' ' < $f 2>/dev/null; echo; done; true");
  const files = await asStudent("find ~ /tmp /var/tmp /dev/shm /run -xdev -type f -readable -exec cat {} + 2>/dev/null; true");
  const stdinOfOthers = await asStudent("for f in /proc/[0-9]*/fd/0; do timeout 1 cat $f 2>/dev/null; done; true");
  await asStudent("touch ~/workspace/release");
  const outcome = await running;

  expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
  expect(outcome.output.trim()).toBe("finished");
  expect(processes).toMatch(new RegExp(`^\\s*${CHECKER_UID}\\s+\\S*bash --noprofile --norc`, "m"));
  for (const seen of [processes, procFiles, files, stdinOfOthers]) expect(seen).not.toContain(marker);
});

it("a check cannot be made to pass by a usercustomize.py in ~/.local (or a .bashrc/BASH_ENV)", async () => {
  // Each of these turns any Python check (or shell check) into a pass when it is trusted.
  await asStudent(
    [
      "cp ~/.bashrc ~/.bashrc.saved && cp ~/.profile ~/.profile.saved",
      "mkdir -p ~/.local/lib/python3.11/site-packages",
      "echo 'import os; os._exit(0)' > ~/.local/lib/python3.11/site-packages/usercustomize.py",
      "echo 'import os; os._exit(0)' > ~/workspace/json.py",
      "echo 'import os; os._exit(0)' > ~/workspace/sitecustomize.py",
      "echo 'exit 0' | tee -a ~/.bashrc ~/.profile ~/.bash_profile ~/workspace/.bash_env > /dev/null",
    ].join(" && "),
  );
  // The vectors are live for the student: their own Python really is hijacked.
  expect(await asStudent("cd ~ && python3 -c 'import sys; sys.exit(7)'; echo python-exit=$?")).toContain("python-exit=0");
  expect((await runInEnvironment(driver, environmentId, "exit 9")).exitCode).toBe(0);

  const python = await check("python3 -c 'import json, sys; sys.exit(1)'");
  expect(python).toMatchObject({ exitCode: 1, timedOut: false });
  const fromFolder = await check("cd ~/workspace && python3 -c 'import sys; print(sys.flags.no_user_site, sys.flags.safe_path); sys.exit(1)'");
  expect(fromFolder).toMatchObject({ exitCode: 1 });
  expect(fromFolder.output.trim()).toBe("1 True");
  const shell = await check('echo "BASH_ENV=${BASH_ENV:-unset} ENV=${ENV:-unset} PATH=$PATH"; exit 1');
  expect(shell).toMatchObject({ exitCode: 1 });
  expect(shell.output.trim()).toBe("BASH_ENV=unset ENV=unset PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  await asStudent(
    "rm -rf ~/.local ~/workspace/json.py ~/workspace/sitecustomize.py ~/.bash_profile ~/workspace/.bash_env && mv ~/.bashrc.saved ~/.bashrc && mv ~/.profile.saved ~/.profile",
  );
});

it("a check runs as a user other than the student and still reads the student's files", async () => {
  await asStudent("echo 42 > ~/workspace/answer.txt && mkdir -p ~/workspace/src && echo 'print(42)' > ~/workspace/src/main.py");
  const outcome = await check(
    [
      "id -u",
      'test "$(id -u)" != "$(stat -c %u ~/workspace/answer.txt)"',
      "grep -qx 42 ~/workspace/answer.txt",
      'test "$(python3 ~/workspace/src/main.py)" = 42',
      // Reading, not trusting: it cannot change the student's work.
      "! touch ~/workspace/answer.txt 2>/dev/null",
      "! rm -f ~/workspace/src/main.py 2>/dev/null || test -f ~/workspace/src/main.py",
      "echo read-only-reader",
    ].join(" && "),
  );
  expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
  expect(outcome.output.trim().split("\n")).toEqual([String(CHECKER_UID), "read-only-reader"]);
  // The student cannot signal the checker's processes either.
  const running = check("while [ ! -e ~/workspace/done ]; do sleep 0.1; done; echo survived", 60);
  await expect.poll(async () => (await asStudent("ps -eo args")).includes("sleep 0.1"), { timeout: 30_000, interval: 200 }).toBe(true);
  expect(await asStudent(`pkill -KILL -u ${CHECKER_UID} 2>&1; echo pkill-exit=$?`)).toMatch(/pkill-exit=[1-9]/);
  await asStudent("touch ~/workspace/done");
  expect(await running).toMatchObject({ exitCode: 0, output: "survived\n" });
});

it("the student's program that a check runs cannot trace the check or read its memory and environment", async () => {
  // Run as the checker, it shares the checker's uid: without more, it could ptrace the
  // check's shell (no Yama here) and make it exit 0 whatever the later lines say.
  await asStudent(`cat > ~/workspace/main.py <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
shell = os.getppid()
attached = libc.ptrace(16, shell, 0, 0)  # PTRACE_ATTACH
print("attach", attached, ctypes.get_errno())
for name in ("mem", "environ"):
    try:
        open(f"/proc/{shell}/{name}", "rb").read(1)
        print(name, "readable")
    except OSError as error:
        print(name, "denied", error.errno)
EOF`);
  const outcome = await check("python3 ~/workspace/main.py; exit 1");
  expect(outcome.exitCode).toBe(1);
  expect(outcome.output.trim().split("\n")).toEqual(["attach -1 1", "mem denied 13", "environ denied 13"]);
});

it("a setup script runs as the student from stdin, with the student's dotfiles ignored", async () => {
  const marker = `setup-${randomBytes(6).toString("hex")}`;
  await asStudent("echo 'echo dotfile-ran' >> ~/.bashrc");
  const outcome = await runScript(
    driver,
    {
      environmentId,
      timeoutSeconds: 20,
      script: `# ${marker}\nid -un\necho "$HOME"\ntr '\\0' ' ' < /proc/$$/cmdline; echo\necho prepared > ~/workspace/prepared.txt`,
    },
    "student",
  );
  expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
  const [user, home, cmdline] = outcome.output.trim().split("\n");
  expect([user, home]).toEqual(["student", "/home/student"]);
  expect(cmdline).toMatch(/^bash --noprofile --norc -c /);
  expect(outcome.output).not.toContain(marker);
  expect(outcome.output).not.toContain("dotfile-ran");
  expect((await asStudent("stat -c %U ~/workspace/prepared.txt")).trim()).toBe("student");
});
