/** (k)'s baseline: a raw Docker burst of the class's size (tests/bench/raw-docker.ts), as the class bench measures it. */
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { inBatches } from "./measure";
import { rawBurst, removeRaw } from "./raw-docker";
import { echoMarker } from "./terminal-link";
import { burstLine } from "./class-report";
import { DELETE_CONCURRENCY, errorText, load1, tally, type ClassBenchContext, type ClassBenchOptions, type ClassBurst } from "./class-bench-common";

/** The class bench's raw bursts; `anomalies` collects what went wrong. */
export function rawClasses(ctx: ClassBenchContext, options: ClassBenchOptions, anomalies: string[]) {
  const { say, docker } = ctx;
  let rawCounter = 0;
  /** N containers with the lab template's options at once, as (j) and the raw figures make them; one echo each. */
  async function rawClass(label: string, template: EnvironmentSpec["limits"] & { image: string; workingDir: string; user: string }): Promise<ClassBurst> {
    const ids = Array.from({ length: options.size }, () => `${ctx.rawWorkerId}-class-${rawCounter++}`);
    ids.forEach(ctx.track);
    const specs: EnvironmentSpec[] = ids.map((environmentId) => ({
      environmentId,
      ownerId: "bench-baseline",
      image: template.image,
      network: "none",
      workingDir: template.workingDir,
      user: template.user,
      limits: { memoryBytes: template.memoryBytes, nanoCpus: template.nanoCpus, pidsLimit: template.pidsLimit },
    }));
    const loadBefore = load1();
    let echoIndex = 0;
    const burst = await rawBurst(docker, specs, ctx.rawWorkerId, {
      timeoutMs: 300_000,
      afterPrompt: (shell) => echoMarker(shell, `q${(echoIndex++).toString(36)}z`, 30_000),
    });
    const loadAfter = load1();
    for (const shell of burst.shells) shell.close();
    await inBatches(ids, DELETE_CONCURRENCY, (id) => removeRaw(docker, id).catch((error) => anomalies.push(`${label}: removing ${id}: ${errorText(error)}`)));
    const result: ClassBurst = {
      side: "raw",
      students: options.size,
      ok: burst.toPrompt.length,
      errors: burst.failures,
      wallMs: burst.wallMs,
      toPrompt: burst.toPrompt,
      echo: burst.after,
      queuedReplies: 0,
      queuedStudents: 0,
      fromPool: 0,
      load: [loadBefore, loadAfter],
    };
    say(`  ${label}: ${burstLine(result)}`);
    if (burst.failures.length) anomalies.push(`${label}: ${burst.failures.length} of ${options.size} raw shells failed: ${tally(burst.failures).join(" | ")}`);
    return result;
  }
  return rawClass;
}
