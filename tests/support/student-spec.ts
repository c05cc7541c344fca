/** A student environment of the default image with modest limits, for tests that drive the runtime directly. */
import { EnvironmentSpec } from "../../protocol/worker-messages";

export const studentSpec = (environmentId: string, ownerId: string) =>
  EnvironmentSpec.parse({
    environmentId,
    image: "shellroom/default:1",
    limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 },
    network: "none",
    workingDir: "/home/student/workspace",
    user: "student",
    ownerId,
  });
