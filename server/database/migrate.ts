import { spawn } from "node:child_process";
import path from "node:path";

const projectRoot = path.resolve(import.meta.dirname, "../..");

/** Applies committed migrations with Prisma's CLI (JS schema engine; see prisma.config.ts). */
export function migrateDatabase(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(projectRoot, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (${code}):\n${output.slice(-3000)}`))));
  });
}
