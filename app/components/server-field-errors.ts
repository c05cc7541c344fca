/**
 * The server's verdict beside the fields: each field error in tRPC's zodError (with its full
 * path, e.g. steps.2.title) is set on the form's field of that name, where the client's own
 * check (the same schema) would have put it. The rest stays for `formErrorText`.
 */
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import type { ShownError } from "./errors";

type Issue = { path: readonly (string | number)[]; message: string };

const issuesOf = (error: ShownError): readonly Issue[] => (error?.data?.zodError as { issues?: Issue[] } | null | undefined)?.issues ?? [];

/**
 * Sets the first message for each path under one of `fields` (the server's top-level names the form
 * shows); `renamed` gives the form's name where it differs (the form's "cpus" shows "cpuMillis").
 */
export function showServerFieldErrors<T extends FieldValues>(
  setError: UseFormSetError<T>,
  error: ShownError,
  fields: readonly string[],
  renamed: Readonly<Record<string, string>> = {},
) {
  const placed = new Set<string>();
  for (const issue of issuesOf(error)) {
    const [top, ...rest] = issue.path.map(String);
    if (top === undefined || !fields.includes(top)) continue;
    const path = [renamed[top] ?? top, ...rest].join(".");
    if (placed.has(path)) continue;
    placed.add(path);
    setError(path as Path<T>, { type: "server", message: issue.message });
  }
}
