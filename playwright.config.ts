import { defineConfig } from "@playwright/test";
import { e2eOpenIdProvider } from "./tests/e2e/sso-provider";

const port = Number(process.env.SHELLROOM_E2E_PORT ?? 3210);

export default defineConfig({
  testDir: "tests/e2e",
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"], ["json", { outputFile: ".data/playwright-results.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright never downloads a browser here.
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    // The real platform (server + worker) against the test database that scripts/test.sh
    // prepared, serving the production build it made.
    command: "node_modules/.bin/tsx scripts/platform.ts",
    url: `http://127.0.0.1:${port}/readyz/workers`,
    timeout: 180_000,
    reuseExistingServer: false,
    // Not the default SIGKILL: the worker must get to discard its spare workspace images (loop
    // mounts) and the server to close; a killed worker left them mounted after every run.
    gracefulShutdown: { signal: "SIGTERM", timeout: 60_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...(process.env as Record<string, string>),
      PORT: String(port),
      HOST: "127.0.0.1",
      SHELLROOM_WORKER_ID: process.env.SHELLROOM_E2E_WORKER_ID ?? "e2e-worker",
      // The test OpenID Provider sso.spec.ts runs (contacted only at a sign-in through it).
      SHELLROOM_OIDC_PROVIDERS: JSON.stringify([e2eOpenIdProvider(port)]),
      // Debian's archive for instructors' RUN steps (sidecar-database.spec.ts installs postgresql),
      // through the worker's allowlisting proxy; nothing else is reachable from a build.
      SHELLROOM_BUILD_MIRRORS: process.env.SHELLROOM_BUILD_MIRRORS || "deb.debian.org,security.debian.org",
    },
  },
});
