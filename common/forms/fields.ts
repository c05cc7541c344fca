/**
 * Pieces the form schemas share: what a number field or a date field says when what was typed
 * is not a number or not a date (a form gives NaN for an empty number field, a `datetime-local`
 * string for a date).
 */
import { z } from "zod";

/** `message` only for "not a number at all"; range checks keep their own messages. */
export const numberExpected = (message: string) => ({
  error: (issue: { code?: string }) => (issue.code === "invalid_type" ? message : undefined),
});

/**
 * An optional date: empty (as a cleared `datetime-local` field sends it) or null is none.
 * Parsed where it is typed, so a browser's local time becomes the right instant before it
 * travels (as an ISO string) to the server, which parses it again.
 */
export const optionalDate = (message: string) =>
  z.preprocess((value) => (value === "" || value === undefined ? null : value), z.coerce.date({ error: message }).nullable());
