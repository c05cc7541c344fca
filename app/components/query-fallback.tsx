/**
 * What a page shows in place of data it does not have yet: a line while it loads, or why loading
 * failed with a button to try again (and, where the page gives one, a way back).
 */
import type { ReactNode } from "react";
import { formErrorText, type ShownError } from "./errors";

type Query = { error: ShownError; isFetching: boolean; refetch: () => unknown };

export function QueryFallback({
  query,
  loading,
  failed = "This could not be loaded.",
  back,
}: {
  query: Query;
  loading: string;
  failed?: string;
  back?: ReactNode;
}) {
  if (!query.error) return <p className="muted">{loading}</p>;
  return (
    <>
      <p className="notice warn" role="alert">
        {formErrorText(query.error) ?? failed}
      </p>
      <p className="form-actions">
        <button type="button" className="secondary" onClick={() => void query.refetch()} disabled={query.isFetching}>
          {query.isFetching ? "Trying again…" : "Try again"}
        </button>
        {back}
      </p>
    </>
  );
}
