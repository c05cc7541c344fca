/** A workshop's join link: the code in it, what a visitor types to join, and the settings staff give it. */
import { z } from "zod";
import { Bounds } from "../input-bounds";
import { DisplayName, Email } from "./accounts";
import { numberExpected, optionalDate } from "./fields";

export const JoinCode = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{4,40}$/, "That is not a join code");

/** A signed-in visitor joins as who they are: the name is only needed for a new student; an empty email is none. */
export const JoinInput = z.object({
  code: JoinCode,
  displayName: DisplayName.optional(),
  email: Email.optional().or(z.literal("").transform(() => undefined)),
});

export const JoinLinkSettings = z.object({
  enabled: z.boolean(),
  expiresAt: optionalDate("Enter a full date and time, or leave it empty for no expiry"),
  seatLimit: z
    .number(numberExpected("Enter a whole number of seats, or leave it empty for no limit"))
    .int("Enter a whole number of seats, or leave it empty for no limit")
    .min(Bounds.joinSeatLimit.min, "At least one seat")
    .max(Bounds.joinSeatLimit.max, `At most ${Bounds.joinSeatLimit.max.toLocaleString("en")} seats`)
    .nullable(),
});
