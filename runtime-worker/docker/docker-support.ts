/**
 * What the Docker driver's parts share: the error a person can act on, reading the engine's
 * status codes, the policy check on a container's labels, and an inspect that says "missing"
 * instead of throwing.
 */
import type Docker from "dockerode";
import { LABEL_POLICY, POLICY_VERSION, containerName } from "./container-config";

/** Thrown with a message a student or instructor can act on. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

export const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/** Made under an older isolation policy (e.g. before the root filesystem was read-only). */
export const outdated = (labels: Record<string, string> | undefined) => labels?.[LABEL_POLICY] !== POLICY_VERSION;

/** The environment's container, or null when it has none. */
export async function inspectContainer(docker: Docker, environmentId: string) {
  try {
    return await docker.getContainer(containerName(environmentId)).inspect();
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/** Whether the engine has a volume of this name. */
export async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getVolume(name).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}
