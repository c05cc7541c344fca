/**
 * The worker's configuration, validated at boot (runtime-worker/main.ts): a malformed variable stops the
 * worker with its name. Some are read where they are used (build queue, mirrors, attach, output budget);
 * they are declared here as well so boot checks them and `--print-config` describes them.
 */
import os from "node:os";
import { z } from "zod";
import { LogLevel } from "../common/logger";
import { RuntimeName } from "./docker/container-config";
import { DEFAULT_START_CONCURRENCY } from "./environments";
import { defaultMemoryFloor } from "./host-memory";
import { BuildConcurrency } from "./images/build-queue";
import { parseMirrors } from "./images/mirror-proxy";
import { DEFAULT_OUTPUT_RATE } from "./terminals/output-budget";

/** An empty value counts as unset, as the readers of these variables treat it. */
const emptyAsUnset = (value: unknown) => (value === "" ? undefined : value);

export const WorkerEnv = z.object({
  SHELLROOM_SERVER_URL: z.url().describe("where the server listens, e.g. http://127.0.0.1:3000"),
  SHELLROOM_WORKER_TOKEN: z.string().min(16).describe("this worker's own token, bound to its id (npm run admin -- worker-token <id> on the server)"),
  SHELLROOM_WORKER_ID: z.string().default(os.hostname()).describe("stable id, the one the token was made for; containers are labelled with it"),
  SHELLROOM_WORKER_NAME: z.string().default(os.hostname()).describe("the name staff see for this worker"),
  SHELLROOM_WORKER_MAX_ENVIRONMENTS: z.coerce.number().int().positive().default(400).describe("environments placed here at most, whatever their reservations"),
  SHELLROOM_WORKER_MEMORY_FLOOR_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(defaultMemoryFloor())
    .describe("below this much available memory (MemAvailable) the worker takes no new environment"),
  SHELLROOM_WORKER_MEMORY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe("allocatable memory: what templates' reservations may add up to (default: host memory minus the floor)"),
  SHELLROOM_SPARE_WORKSPACES: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(100)
    .describe("workspace images kept formatted and mounted per disk size, so a cold start does not wait on mkfs and mount (0: none)"),
  SHELLROOM_WORKER_START_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(DEFAULT_START_CONCURRENCY)
    .describe("container creates/starts in flight at once; a burst beyond it waits its turn"),
  DOCKER_HOST: z.string().optional().describe("unix:///path/to/docker.sock; the default socket otherwise"),
  SHELLROOM_WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional().describe("serve /metrics, /healthz, /readyz here (unset: off)"),
  SHELLROOM_WORKER_HTTP_HOST: z.string().default("127.0.0.1").describe("the interface SHELLROOM_WORKER_HTTP_PORT listens on"),
  // Read where containers are made (container-config.ts); checked here so a bad name stops the worker at boot.
  SHELLROOM_CONTAINER_RUNTIME: RuntimeName.optional().describe("OCI runtime for every container this worker makes (runc, crun); unset: the engine's default"),
  SHELLROOM_WORKSPACE_QUOTA: z
    .enum(["off", "on", ""])
    .optional()
    .describe("off: plain workspace volumes without a size limit; otherwise loop-mounted ext4 images where the host allows (root, loop devices)"),
  SHELLROOM_DIRECT_ATTACH: z
    .enum(["0", "1", ""])
    .optional()
    .describe("0: reach running shells with a docker exec of the holder instead of its relay (the relay needs root on the engine's host)"),
  SHELLROOM_TERMINAL_OUTPUT_RATE: z
    .preprocess(
      emptyAsUnset,
      z.coerce
        .number()
        .int()
        .min(64 * 1024)
        .default(DEFAULT_OUTPUT_RATE),
    )
    .describe("bytes per second each terminal may print after its burst (at least 65536); past it the shell is held"),
  SHELLROOM_BUILD_CONCURRENCY: z.preprocess(emptyAsUnset, BuildConcurrency).describe("instructors' image builds at once on this worker (the rest queue)"),
  SHELLROOM_BUILD_MIRRORS: z
    .string()
    .optional()
    .refine((list) => {
      try {
        parseMirrors(list ?? "");
        return true;
      } catch {
        return false;
      }
    }, "list hosts, *.domain or host:port, separated by commas")
    .describe("package mirrors a build's RUN steps may reach through an allowlisting proxy (e.g. deb.debian.org,pypi.org); unset: no network in builds"),
  LOG_LEVEL: LogLevel,
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;
