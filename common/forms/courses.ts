/** A course's details as staff type them: creating one, and editing its title, kind, dates and expected seats. */
import { z } from "zod";
import { Bounds } from "../input-bounds";
import { numberExpected, optionalDate } from "./fields";

export const CourseTitle = z
  .string()
  .trim()
  .min(Bounds.courseTitle.min, `Use at least ${Bounds.courseTitle.min} characters`)
  .max(Bounds.courseTitle.max, `Keep the title under ${Bounds.courseTitle.max} characters`);

export const CourseDescription = z
  .string()
  .trim()
  .max(Bounds.courseDescription.max, `Keep the description under ${Bounds.courseDescription.max} characters`)
  .default("");

export const CourseKind = z.enum(["COURSE", "WORKSHOP"]);

const SEATS_HELP = `A whole number from ${Bounds.expectedSeats.min} to ${Bounds.expectedSeats.max}, or leave it empty`;
/** Students expected at a session (its warm pools fill to it); absent: unchanged, null: none. */
export const ExpectedSeats = z
  .number(numberExpected(SEATS_HELP))
  .int(SEATS_HELP)
  .min(Bounds.expectedSeats.min, "At least 1 seat")
  .max(Bounds.expectedSeats.max, `At most ${Bounds.expectedSeats.max} seats`)
  .nullable()
  .optional();

const OptionalDate = optionalDate("Enter a full date and time, or leave it empty").default(null);

const datesInOrder = (input: { startsAt: Date | null; endsAt: Date | null }) => !input.startsAt || !input.endsAt || input.startsAt <= input.endsAt;
const DATES_IN_ORDER = { message: "The end comes after the start", path: ["endsAt"] };

export const NewCourseInput = z
  .object({ title: CourseTitle, description: CourseDescription, kind: CourseKind.default("COURSE"), startsAt: OptionalDate, endsAt: OptionalDate })
  .refine(datesInOrder, DATES_IN_ORDER);

export const CourseDetailsInput = z
  .object({ title: CourseTitle, description: CourseDescription, kind: CourseKind, startsAt: OptionalDate, endsAt: OptionalDate, expectedSeats: ExpectedSeats })
  .refine(datesInOrder, DATES_IN_ORDER);
