/**
 * Turning tRPC errors into words a form can show: field errors next to their inputs, and
 * everything else as one sentence (never a raw zod dump or a bare "Failed to fetch").
 */
type FlatZodError = { formErrors?: string[]; fieldErrors?: Record<string, string[] | undefined> } | null | undefined;
/** A tRPC client error, as far as a form looks at it: `data` comes from the server; `cause` is what failed in the browser. */
export type ShownError = { message: string; data?: { code?: string; zodError?: FlatZodError } | null; cause?: unknown } | null | undefined;

export type FieldErrors = Record<string, string[] | undefined>;

export function fieldErrorsOf(error: ShownError): FieldErrors | undefined {
  const fields = error?.data?.zodError?.fieldErrors;
  return fields && Object.keys(fields).length > 0 ? fields : undefined;
}

/** The first message for `field`, if any. */
export function fieldError(error: ShownError, field: string): string | undefined {
  return fieldErrorsOf(error)?.[field]?.[0];
}

/**
 * What to show above a form's submit button: null when every problem is already shown
 * beside a field in `shownFields`.
 */
export function formErrorText(error: ShownError, shownFields: readonly string[] = []): string | null {
  if (!error) return null;
  const zod = error.data?.zodError;
  if (zod) {
    const other = [
      ...(zod.formErrors ?? []),
      ...Object.entries(zod.fieldErrors ?? {})
        .filter(([field]) => !shownFields.includes(field))
        .flatMap(([, messages]) => messages?.slice(0, 1) ?? []),
    ];
    return other.length > 0 ? other.join(" ") : null;
  }
  // fetch() fails with a TypeError when the network does (each browser words it differently): decided on the type, not the words.
  if (!error.data && error.cause instanceof TypeError) return "Shellroom could not be reached. Check your connection and try again.";
  if (error.data?.code === "INTERNAL_SERVER_ERROR") return "Something went wrong on our side. Try again in a moment.";
  return error.message;
}
