/**
 * The `shellroom` command line against a running platform: the server-side commands on its
 * database, `lab push` and `progress export` through the API with a token.
 */
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { passwordResetUsable } from "../../server/auth/password-reset";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrlOf } from "../../server/database/client";
import { startHarness, type Harness } from "../support/platform-harness";

const BIN = path.resolve("bin/shellroom.mjs");

let harness: Harness;
let folder: string;

beforeAll(async () => {
  harness = await startHarness();
  folder = await mkdtemp(path.join(tmpdir(), "shellroom-cli-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
  await harness?.close();
});

/** Runs `shellroom ...args` as an operator would; answers its exit code and output. */
function shellroom(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", DATABASE_URL: databaseUrlOf(harness.db)!, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

// Each server-side command applies migrations before it starts (as on a fresh install): slow on a busy host.
describe("shellroom on the server", { timeout: 240_000 }, () => {
  it("admin create makes an administrator who can sign in", async () => {
    const created = await shellroom(["admin", "create", "--email", "ops@example.test", "--name", "Ops", "--password-stdin"], {
      stdin: "a long enough password\n",
    });
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("Created administrator ops@example.test");
    expect((await harness.db.user.findUniqueOrThrow({ where: { email: "ops@example.test" } })).role).toBe("ADMIN");
    expect(await harness.signIn("ops@example.test", "a long enough password")).toMatch(/^shellroom_session=/);
    expect((await shellroom(["admin", "create", "--email", "ops@example.test"])).code).toBe(1);
  });

  it("password reset prints a one-time link that works", async () => {
    const reset = await shellroom(["password", "reset", "student@shellroom.local"], { env: { SHELLROOM_PUBLIC_URL: "https://shellroom.example.edu" } });
    expect(reset.code).toBe(0);
    const token = /https:\/\/shellroom\.example\.edu\/reset-password\/(\S+)/.exec(reset.stdout)?.[1];
    expect(token).toBeTruthy();
    expect(await passwordResetUsable(harness.db, token!)).toBe(true);
    expect((await shellroom(["password", "reset", "nobody@example.test"])).code).toBe(1);
  });

  it("course create prints the join link", async () => {
    const created = await shellroom(["course", "create", "Operations", "101", "--instructor", "instructor@shellroom.local"], {
      env: { SHELLROOM_PUBLIC_URL: "https://shellroom.example.edu" },
    });
    expect(created.code).toBe(0);
    const code = /Join link: https:\/\/shellroom\.example\.edu\/join\/(\S+)/.exec(created.stdout)?.[1];
    const course = await harness.db.course.findUniqueOrThrow({ where: { joinCode: code! }, include: { members: true } });
    expect(course.title).toBe("Operations 101");
    expect(course.members).toHaveLength(1);
  });

  it("config masks secrets; worker cordon and uncordon change placement's record", async () => {
    const config = await shellroom(["config"], {
      env: { SHELLROOM_WORKER_SECRET: "s".repeat(40), DATABASE_URL: "postgres://shellroom:hunter2hunter2@db:5432/shellroom" },
    });
    expect(config.code).toBe(0);
    expect(config.stdout).toContain("SHELLROOM_WORKER_SECRET=******** (set)");
    expect(config.stdout).toContain("DATABASE_URL=postgres://shellroom:********@db:5432/shellroom");
    expect(config.stdout).not.toContain("hunter2");
    expect(config.stdout).not.toContain("s".repeat(40));
    const cordon = await shellroom(["worker", "cordon", harness.workerId]);
    expect(cordon.code).toBe(0);
    expect((await harness.db.worker.findUniqueOrThrow({ where: { id: harness.workerId } })).scheduling).toBe("CORDONED");
    expect((await shellroom(["worker", "list"])).stdout).toContain(`${harness.workerId}  ONLINE  CORDONED`);
    expect((await shellroom(["worker", "uncordon", harness.workerId])).code).toBe(0);
    expect((await harness.db.worker.findUniqueOrThrow({ where: { id: harness.workerId } })).scheduling).toBe("OPEN");
  });
});

describe("shellroom through the API", () => {
  it("lab push sends a lab folder, and progress export prints the course's CSV", async () => {
    const cookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
    const token = await harness.trpc("apiToken.create", { name: "cli", scopes: ["labs:write", "progress:read"], days: 1 }, { cookie });
    const env = { SHELLROOM_URL: harness.url, SHELLROOM_TOKEN: token.body.result.data.secret as string };

    const lab = path.join(folder, "my-lab");
    await mkdir(path.join(lab, "steps"), { recursive: true });
    await mkdir(path.join(lab, ".git"), { recursive: true });
    await writeFile(path.join(lab, "lab.yaml"), "title: Pushed from git\npublished: true\nsteps:\n  - title: Read the manual\n    body: steps/01-man.md\n");
    await writeFile(path.join(lab, "instructions.md"), "# Pushed");
    await writeFile(path.join(lab, "steps", "01-man.md"), "Run `man ls`.");
    await writeFile(path.join(lab, ".git", "HEAD"), "ref: refs/heads/main\n");

    const pushed = await shellroom(["lab", "push", lab, "--course", harness.courseId], { env });
    expect(pushed.stderr).toBe("");
    expect(pushed.stdout).toMatch(/^Created lab \S+ \(1 step\)\./);
    const stored = await harness.db.lab.findFirstOrThrow({ where: { courseId: harness.courseId, title: "Pushed from git" }, include: { steps: true } });
    expect(stored.steps.map((step) => step.title)).toEqual(["Read the manual"]);
    expect((await shellroom(["lab", "push", lab, "--course", harness.courseId], { env })).stdout).toMatch(/^Updated lab/);

    const exported = await shellroom(["progress", "export", harness.courseId], { env });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^"Lab","Student","Email","Checks passed","Checks","Completed at"\r\n/);

    const refused = await shellroom(["progress", "export", harness.courseId], { env: { ...env, SHELLROOM_TOKEN: "shr_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("(401)");
  });
});
