/**
 * CLI: runc against crun for a class burst on the engine at DOCKER_HOST, without the rest of
 * the platform (no database, no server): `node_modules/.bin/tsx tests/bench/runtime-burst.ts`.
 * Containers get the default template's spec (shellroom/default:1, 512 MiB, 1 CPU, 256 pids).
 * Env: BENCH_RUNTIME_SIZES ("20,50"), BENCH_RUNTIME_ROUNDS (3). Prints lines and JSON.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import Docker from "dockerode";
import { EnvironmentSpec } from "../../protocol/worker-messages";
import { removeRaw } from "./raw-docker";
import { runRuntimeBench, runtimeLines } from "./runtime-bench";

const sizes = (process.env.BENCH_RUNTIME_SIZES ?? "20,50")
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const rounds = Number(process.env.BENCH_RUNTIME_ROUNDS ?? 3);
const docker = new Docker();
const runId = randomBytes(4).toString("hex");
const created = new Set<string>();
const say = (message: string) => process.stderr.write(`[runtime] ${message}\n`);
const sweep = () => Promise.all([...created].map((id) => removeRaw(docker, id).catch(() => undefined)));
process.once("SIGINT", () => {
  void sweep().finally(() => process.exit(130));
});

const version = await docker.version();
say(`docker ${version.Version}, ${os.cpus().length} CPUs, sizes ${sizes.join(",")}, ${rounds} rounds`);
try {
  const result = await runRuntimeBench(
    {
      docker,
      say,
      workerId: `bench-runtime-${runId}`,
      idPrefix: `bench-rt-${runId}`,
      track: (id) => created.add(id),
      specFor: async (environmentId) =>
        EnvironmentSpec.parse({
          environmentId,
          ownerId: "bench-runtime",
          image: "shellroom/default:1",
          network: "none",
          workingDir: "/home/student/workspace",
          user: "student",
          limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pidsLimit: 256 },
        }),
    },
    { sizes, rounds },
  );
  for (const line of runtimeLines(result)) console.log(line);
  console.log(JSON.stringify(result.bursts.map(({ perContainer, ...burst }) => ({ ...burst, perContainerCount: perContainer.length }))));
} finally {
  await sweep();
}
