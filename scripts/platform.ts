/**
 * Runs the platform's processes (one server, one worker) as children and prints where to
 * go. A worker that dies is started again (students' shells survive it); the server
 * dying, or Ctrl-C, stops both.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { workerTokenFor } from "../server/workers/worker-credentials";
import { DEMO_JOIN_CODE, DEMO_LOGINS } from "../server/database/seed";
import { spawnScript, supervise, type SupervisedChild } from "./supervised-child";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
const workerSecret = process.env.SHELLROOM_WORKER_SECRET ?? randomBytes(32).toString("hex");
const workerId = process.env.SHELLROOM_WORKER_ID ?? os.hostname();
// The server holds the secret; the worker only its own token, bound to its id.
const credentials = (name: string) =>
  name === "server"
    ? { SHELLROOM_WORKER_SECRET: workerSecret }
    : { SHELLROOM_WORKER_ID: workerId, SHELLROOM_WORKER_TOKEN: workerTokenFor(workerSecret, workerId) };
const production = process.env.SHELLROOM_DEV !== "1";

let stopping = false;

const childEnv = (name: string, env: Record<string, string>) => ({ ...process.env, ...env, ...credentials(name) });

/** Polls `path` until it answers 2xx; `what` names it in the error at the deadline. */
async function waitFor(path: string, what: string, deadline: number) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}${path}`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${what} within the time allowed (${url}${path})`);
}

const supervised: SupervisedChild[] = [];

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  // The worker first: it leaves shells to their holders; then the server.
  for (const child of [...supervised].reverse()) await child.stop();
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

// The README's run command is the demo: seeded accounts with known passwords. SHELLROOM_DEMO=0 runs without them.
const demo = process.env.SHELLROOM_DEMO !== "0";
const server = spawnScript(
  "server/main.ts",
  childEnv("server", { PORT: String(port), HOST: host, NODE_ENV: production ? "production" : "development", SHELLROOM_DEMO: demo ? "1" : "0" }),
);
// Without its server the platform is down: stop everything and say so.
server.once("exit", (code, signal) => {
  if (stopping) return;
  console.error(`[platform] server exited (${signal ?? code}); stopping the platform`);
  void stop(1);
});
await waitFor("/healthz", "the server did not answer", Date.now() + 180_000);
// A worker that dies is started again; the server and the students' shells stay up.
const worker = supervise("worker", () =>
  spawnScript(
    "runtime-worker/main.ts",
    childEnv("worker", {
      SHELLROOM_SERVER_URL: url,
      SHELLROOM_WORKER_HTTP_PORT: process.env.SHELLROOM_WORKER_HTTP_PORT ?? String(port + 1),
    }),
  ),
);
supervised.push(worker);
console.log(`[platform] server pid ${server.pid}, worker pid ${worker.pid}`);
// The URL is worth clicking once a start can be placed: the worker has connected and beats.
await waitFor("/readyz/workers", "no worker connected", Date.now() + 180_000);

const logins = DEMO_LOGINS.map((login) => `    ${login.role.toLowerCase().padEnd(10)} ${login.email} / ${login.password}`).join("\n");
console.log(`
  Shellroom is running at ${url}

${
  demo
    ? `  Demo logins (known passwords: a demo, not a production setup):
${logins}

  Workshop join link (no password): ${url}/join/${DEMO_JOIN_CODE}`
    : "  No demo data. First administrator: npm run admin -- create-admin --email <email>"
}
  Metrics: ${url}/metrics (server), http://127.0.0.1:${process.env.SHELLROOM_WORKER_HTTP_PORT ?? port + 1}/metrics (worker)

  Press Ctrl-C to stop.
`);
