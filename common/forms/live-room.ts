/** What staff and students type in the live room: a broadcast, a class preparation, more time, a raised hand's note. */
import { z } from "zod";
import { Bounds } from "../input-bounds";
import { numberExpected } from "./fields";

export const BroadcastInput = z.object({
  message: z
    .string()
    .trim()
    .min(Bounds.broadcastMessage.min, "Write a message first")
    .max(Bounds.broadcastMessage.max, `Keep the message under ${Bounds.broadcastMessage.max} characters`),
});

/** "Prepare for N students". */
export const PrepareInput = z.object({
  seats: z
    .number(numberExpected("Enter a number of students"))
    .int("Enter a whole number of students")
    .min(Bounds.prepareSeats.min, "Prepare at least 1 seat")
    .max(Bounds.prepareSeats.max, `At most ${Bounds.prepareSeats.max} seats`),
});

/** More time before an environment's lifetime limit (one student's, or everyone's). */
export const ExtendMinutes = z
  .number(numberExpected("Enter a number of minutes"))
  .int("Enter a whole number of minutes")
  .min(Bounds.extendMinutes.min, `At least ${Bounds.extendMinutes.min} minutes`)
  .max(Bounds.extendMinutes.max, "At most a day");

export const RaiseHandInput = z.object({
  note: z.string().trim().max(Bounds.handNote.max, `Keep the note under ${Bounds.handNote.max} characters`).default(""),
});
