/**
 * The launcher behind `npm run platform`: it starts a server and a worker, and stopping
 * it stops both (nothing is left running but the students' containers).
 */
import { spawn } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { isRunning } from "../support/processes";
import { cloneTestDatabase } from "../support/platform-harness";

let dropDatabase: (() => Promise<void>) | undefined;
afterAll(async () => {
  await dropDatabase?.();
});

it("stopping the platform stops its server and worker processes", { timeout: 120_000 }, async () => {
  const database = await cloneTestDatabase();
  dropDatabase = database.drop;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const launcher = spawn("node_modules/.bin/tsx", ["scripts/platform.ts"], {
    env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), SHELLROOM_DEV: "1", SHELLROOM_WORKER_ID: `lifecycle-${port}`, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  launcher.stdout.on("data", (chunk) => (output += chunk));
  launcher.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));

  await expect
    .poll(() => output, { timeout: 90_000, interval: 250 })
    .toMatch(/Shellroom is running at http:\/\/127\.0\.0\.1:\d+[\s\S]*student@shellroom\.local/);
  const [, serverPid, workerPid] = /server pid (\d+), worker pid (\d+)/.exec(output)!.map(Number);
  expect(isRunning(serverPid!)).toBe(true);
  expect(isRunning(workerPid!)).toBe(true);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  launcher.kill("SIGTERM");
  expect(await exited).toBe(0);
  await expect.poll(() => isRunning(serverPid!) || isRunning(workerPid!), { timeout: 10_000 }).toBe(false);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
});
