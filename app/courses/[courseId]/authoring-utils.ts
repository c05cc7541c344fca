/** Small helpers shared by the course staff's authoring pages. */

const pad = (value: number) => String(value).padStart(2, "0");

/** A Date as a `datetime-local` value in the browser's time zone ("" for none). */
export function toLocalInput(value: string | Date | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export const formatWhen = (value: string | Date) => new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Hands `blob` to the browser as a download named `filename`. */
export function downloadBlob(filename: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The default image every deployment has (built by the worker from runtime-worker/images). */
export const DEFAULT_IMAGE = "shellroom/default:1";

/** An optional number field's value for its schema: empty is none (null), anything else a number (NaN when not one). */
export const optionalNumber = (typed: unknown) => (typed === "" || typed === null || typed === undefined ? null : Number(typed));
