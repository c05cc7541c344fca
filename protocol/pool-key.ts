/**
 * The key of a warm pool: containers with the same key are interchangeable for an environment.
 * Shared by the worker (which keys its pools by it and reports readiness per key) and the server
 * (which plans pool sizes per template shape and reads that readiness back).
 */
import { createHash } from "node:crypto";
import { ServiceSpecs } from "../common/services";
import type { PoolTemplate } from "./worker-messages";

export function poolKeyOf(template: PoolTemplate): string {
  const canonical = JSON.stringify([
    template.image,
    template.limits.memoryBytes,
    template.limits.nanoCpus,
    template.limits.pidsLimit,
    template.limits.diskBytes ?? null,
    template.network,
    template.workingDir,
    template.user,
    // Services as the worker runs them (defaults filled in); none leaves the key as it was before services existed.
    ...(template.services?.length ? [ServiceSpecs.parse(template.services)] : []),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
