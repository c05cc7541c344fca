/** Input shapes shared by several routers, with messages a form can show as they are. */
import { z } from "zod";

export const DisplayName = z.string().trim()
  .min(1, "Enter a name others will see")
  .max(60, "Keep the name under 60 characters")
  .regex(/^[^\p{Cc}\p{Cf}<>]+$/u, "Use letters, digits and ordinary punctuation");

export const Email = z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address").max(254));

export const NewPassword = z.string()
  .min(10, "Use at least 10 characters")
  .max(256, "Use at most 256 characters");

export const JoinCode = z.string().trim().toLowerCase().regex(/^[a-z0-9-]{4,40}$/, "That is not a join code");
