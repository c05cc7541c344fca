/** Input shapes shared by several routers, with messages a form can show as they are. */
import { z } from "zod";
import { Bounds } from "../../common/input-bounds";

export const DisplayName = z
  .string()
  .trim()
  .min(Bounds.displayName.min, "Enter a name others will see")
  .max(Bounds.displayName.max, `Keep the name under ${Bounds.displayName.max} characters`)
  .regex(/^[^\p{Cc}\p{Cf}<>]+$/u, "Use letters, digits and ordinary punctuation");

export const Email = z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address").max(Bounds.email.max));

export const NewPassword = z
  .string()
  .min(Bounds.password.min, `Use at least ${Bounds.password.min} characters`)
  .max(Bounds.password.max, `Use at most ${Bounds.password.max} characters`);

export const JoinCode = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{4,40}$/, "That is not a join code");

/** More time before an environment's lifetime limit (one student's, or everyone's). */
export const ExtendMinutes = z
  .number()
  .int()
  .min(Bounds.extendMinutes.min, `At least ${Bounds.extendMinutes.min} minutes`)
  .max(Bounds.extendMinutes.max, "At most a day");
