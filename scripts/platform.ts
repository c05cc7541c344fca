/**
 * Runs the platform's processes (one server, one worker) as children, prints where to
 * go, and stops both when either stops or on Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { workerTokenFor } from "../server/workers/worker-credentials";
import { DEMO_JOIN_CODE, DEMO_LOGINS } from "../server/database/seed";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
const workerSecret = process.env.SHELLROOM_WORKER_SECRET ?? randomBytes(32).toString("hex");
const workerId = process.env.SHELLROOM_WORKER_ID ?? os.hostname();
// The server holds the secret; the worker only its own token, bound to its id.
const credentials = (name: string) => (name === "server"
  ? { SHELLROOM_WORKER_SECRET: workerSecret }
  : { SHELLROOM_WORKER_ID: workerId, SHELLROOM_WORKER_TOKEN: workerTokenFor(workerSecret, workerId) });
const production = process.env.SHELLROOM_DEV !== "1";

const children: ChildProcess[] = [];
let stopping = false;

function run(name: string, script: string, env: Record<string, string>) {
  // node itself with tsx's loader (not the tsx CLI, which adds a wrapper process): the
  // pid printed below is the process that does the work.
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env, ...credentials(name) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[platform] ${name} exited (${signal ?? code}); stopping the platform`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForHealth(deadline: number) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`the server did not answer on ${url} within the time allowed`);
}

async function stop(code: number) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null)));
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

// The README's run command is the demo: seeded accounts with known passwords. SHELLROOM_DEMO=0 runs without them.
const demo = process.env.SHELLROOM_DEMO !== "0";
const server = run("server", "server/main.ts", { PORT: String(port), HOST: host, NODE_ENV: production ? "production" : "development", SHELLROOM_DEMO: demo ? "1" : "0" });
await waitForHealth(Date.now() + 180_000);
const worker = run("worker", "runtime-worker/main.ts", { SHELLROOM_SERVER_URL: url, SHELLROOM_WORKER_HTTP_PORT: process.env.SHELLROOM_WORKER_HTTP_PORT ?? String(port + 1) });
console.log(`[platform] server pid ${server.pid}, worker pid ${worker.pid}`);

const logins = DEMO_LOGINS.map((login) => `    ${login.role.toLowerCase().padEnd(10)} ${login.email} / ${login.password}`).join("\n");
console.log(`
  Shellroom is running at ${url}

${demo ? `  Demo logins (known passwords: a demo, not a production setup):
${logins}

  Workshop join link (no password): ${url}/join/${DEMO_JOIN_CODE}` : "  No demo data. First administrator: npm run admin -- create-admin --email <email>"}
  Metrics: ${url}/metrics (server), http://127.0.0.1:${process.env.SHELLROOM_WORKER_HTTP_PORT ?? port + 1}/metrics (worker)

  Press Ctrl-C to stop.
`);
