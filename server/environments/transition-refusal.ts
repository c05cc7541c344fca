/**
 * A lifecycle transition the user asked for, refused as the error they read: the start path
 * and the stop, reset and delete calls answer a refused move the same way.
 */
import { TRPCError } from "@trpc/server";
import { LifecycleError, type EnvironmentLifecycle, type Transition } from "./lifecycle";

/** A refused transition, as the error a user reads. */
export function refusal(error: unknown) {
  if (!(error instanceof LifecycleError)) return error;
  const message = error.from === "DELETED" ? "This environment was deleted." : `This environment cannot do that now: ${error.message}`;
  return new TRPCError({ code: "CONFLICT", message, cause: error });
}

/** Moves the environment, or throws the refusal a user reads. */
export async function moveOrRefuse(lifecycle: EnvironmentLifecycle, environmentId: string, transition: Transition) {
  try {
    return await lifecycle.move(environmentId, transition);
  } catch (error) {
    throw refusal(error);
  }
}
