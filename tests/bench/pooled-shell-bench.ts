/**
 * Take from the warm pool -> first prompt byte, with and without the main shell started
 * ahead in the pooled container, in the same run and interleaved (the host is shared, so
 * only a side-by-side figure means anything). Driver level: rename, then the terminal's
 * attach through the PTY holder, until "$ " shows in the replay or the live output.
 * Usage: tsx tests/bench/pooled-shell-bench.ts [rounds=3] [burst=10]
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { PoolTemplate } from "../../protocol/worker-messages";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { POOLED_MAIN_SHELL } from "../../runtime-worker/environments";
import { compileHolder } from "../../runtime-worker/holder/holder-volume";
import { poolKeyOf } from "../../protocol/pool-key";
import { formatMs, now, percentile, sleep } from "./measure";

const rounds = Number(process.argv[2] ?? 3);
const burst = Number(process.argv[3] ?? 10);
const docker = new Docker();
const workerId = `bench-poolshell-${randomBytes(4).toString("hex")}`;
const driver = new DockerDriver(docker, workerId, undefined, await compileHolder());
const template = PoolTemplate.parse({
  image: "shellroom/default:1",
  limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
});
const key = poolKeyOf(template);
const environments: string[] = [];

/** rename + attach until the prompt, for one pooled container. */
async function takeToPrompt(slotId: string): Promise<number> {
  const environmentId = `poolshell-${randomBytes(5).toString("hex")}`;
  environments.push(environmentId);
  const started = now();
  await driver.assignPooled(slotId, environmentId);
  const shell = await driver.attachShell(environmentId, "main", POOLED_MAIN_SHELL.command, { cols: 100, rows: 30 });
  if (!shell.history?.replay.includes("$ ")) {
    await new Promise<void>((resolve) => {
      let seen = "";
      shell.stream.on("data", (chunk: Buffer) => {
        seen += chunk.toString("utf8");
        if (seen.includes("$ ")) resolve();
      });
      shell.stream.resume();
    });
  }
  const elapsed = now() - started;
  shell.stream.destroy();
  return elapsed;
}

async function fill(count: number, prestart: boolean) {
  const slots: string[] = [];
  for (let index = 0; index < count; index++) {
    const slotId = randomBytes(6).toString("hex");
    await driver.createPooled(template, slotId, key, prestart ? POOLED_MAIN_SHELL : undefined);
    slots.push(slotId);
  }
  return slots;
}

const results = { before: { single: [] as number[], burst: [] as number[] }, after: { single: [] as number[], burst: [] as number[] } };
try {
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first, so a drift in host load does not favour one.
    for (const prestart of round % 2 === 0 ? [false, true] : [true, false]) {
      const side = prestart ? results.after : results.before;
      const slots = await fill(burst + 1, prestart);
      await sleep(2000); // the pool fills long before a class in real use: let the shells print their prompt
      side.single.push(await takeToPrompt(slots[0]!));
      side.burst.push(...(await Promise.all(slots.slice(1).map(takeToPrompt))));
      await Promise.all(environments.splice(0).map((id) => driver.remove(id, { removeVolume: true })));
    }
  }
} finally {
  await Promise.all(environments.map((id) => driver.remove(id, { removeVolume: true }).catch(() => undefined)));
  for (const slot of await driver.listPooled()) await driver.removePooled(slot.slotId).catch(() => undefined);
}

const line = (samples: number[]) => `p50 ${formatMs(percentile(samples, 50))}, p95 ${formatMs(percentile(samples, 95))} (n=${samples.length})`;
console.log(`take from pool -> first prompt byte (rename + attach), ${rounds} rounds, interleaved:`);
console.log(`  one student:          exec'd shell ${line(results.before.single)} | pre-started ${line(results.after.single)}`);
console.log(`  ${burst} students at once: exec'd shell ${line(results.before.burst)} | pre-started ${line(results.after.burst)}`);
